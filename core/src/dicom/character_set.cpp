#include "tessera/core/dicom/character_set.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tessera::core {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr unsigned char kEsc = 0x1B;
constexpr std::size_t kDoubleByteCells = 94 * 94;

// The graphic character sets DICOM can designate into G0 or G1.
enum class Set : std::uint8_t {
    None,
    Ascii,
    JisRomaji,
    JisKatakana,
    Latin1,
    Latin2,
    Latin3,
    Latin4,
    Cyrillic,
    Arabic,
    Greek,
    Hebrew,
    Latin5,
    Thai,
    Latin9,
    JisX0208,
    JisX0212,
    KsX1001,
    Gb2312,
};
constexpr std::size_t kSetCount = static_cast<std::size_t>(Set::Gb2312) + 1;

bool isDoubleByte(Set set) {
    return set == Set::JisX0208 || set == Set::JisX0212 || set == Set::KsX1001 || set == Set::Gb2312;
}

struct TermInfo {
    std::string_view term;
    Set g0;
    Set g1;
};

// Defined Terms of PS3.3 C.12.1.1.2; the ISO 2022 forms differ only in allowing escapes, which
// we accept everywhere (being lenient costs nothing when there are none).
constexpr std::array<TermInfo, 26> kTerms{{
    {"ISO_IR 6", Set::Ascii, Set::None},
    {"ISO 2022 IR 6", Set::Ascii, Set::None},
    {"ISO_IR 100", Set::Ascii, Set::Latin1},
    {"ISO 2022 IR 100", Set::Ascii, Set::Latin1},
    {"ISO_IR 101", Set::Ascii, Set::Latin2},
    {"ISO 2022 IR 101", Set::Ascii, Set::Latin2},
    {"ISO_IR 109", Set::Ascii, Set::Latin3},
    {"ISO 2022 IR 109", Set::Ascii, Set::Latin3},
    {"ISO_IR 110", Set::Ascii, Set::Latin4},
    {"ISO 2022 IR 110", Set::Ascii, Set::Latin4},
    {"ISO_IR 144", Set::Ascii, Set::Cyrillic},
    {"ISO 2022 IR 144", Set::Ascii, Set::Cyrillic},
    {"ISO_IR 127", Set::Ascii, Set::Arabic},
    {"ISO 2022 IR 127", Set::Ascii, Set::Arabic},
    {"ISO_IR 126", Set::Ascii, Set::Greek},
    {"ISO 2022 IR 126", Set::Ascii, Set::Greek},
    {"ISO_IR 138", Set::Ascii, Set::Hebrew},
    {"ISO 2022 IR 138", Set::Ascii, Set::Hebrew},
    {"ISO_IR 148", Set::Ascii, Set::Latin5},
    {"ISO 2022 IR 148", Set::Ascii, Set::Latin5},
    {"ISO_IR 203", Set::Ascii, Set::Latin9},
    {"ISO 2022 IR 203", Set::Ascii, Set::Latin9},
    {"ISO_IR 166", Set::Ascii, Set::Thai},
    {"ISO 2022 IR 166", Set::Ascii, Set::Thai},
    {"ISO_IR 13", Set::JisRomaji, Set::JisKatakana},
    {"ISO 2022 IR 13", Set::JisRomaji, Set::JisKatakana},
}};

// Multi-byte sets only reachable through escapes (value 2 and later of 0008,0005).
struct ExtensionTerm {
    std::string_view term;
    Set set;
};
constexpr std::array<ExtensionTerm, 4> kExtensionTerms{{
    {"ISO 2022 IR 87", Set::JisX0208},
    {"ISO 2022 IR 159", Set::JisX0212},
    {"ISO 2022 IR 149", Set::KsX1001},
    {"ISO 2022 IR 58", Set::Gb2312},
}};

struct EscapeInfo {
    std::string_view sequence;  // bytes after ESC
    Set set;
    bool toG1;
};
constexpr std::array<EscapeInfo, 20> kEscapes{{
    {"(B", Set::Ascii, false},     {"(J", Set::JisRomaji, false},  {"(I", Set::JisKatakana, false},
    {")I", Set::JisKatakana, true}, {"$B", Set::JisX0208, false},  {"$@", Set::JisX0208, false},
    {"$(D", Set::JisX0212, false}, {"$)C", Set::KsX1001, true},    {"$)A", Set::Gb2312, true},
    {"-A", Set::Latin1, true},     {"-B", Set::Latin2, true},      {"-C", Set::Latin3, true},
    {"-D", Set::Latin4, true},     {"-L", Set::Cyrillic, true},    {"-G", Set::Arabic, true},
    {"-F", Set::Greek, true},      {"-H", Set::Hebrew, true},      {"-M", Set::Latin5, true},
    {"-T", Set::Thai, true},       {"-b", Set::Latin9, true},
}};

void appendUtf8(std::string& out, char32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        cp = kReplacement;
    }
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// RAII for an iconv descriptor; invalid when the conversion is not available.
class Iconv {
public:
    Iconv(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
    ~Iconv() {
        if (valid()) {
            iconv_close(cd_);
        }
    }
    Iconv(const Iconv&) = delete;
    Iconv& operator=(const Iconv&) = delete;

    bool valid() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

    // Converts one character's bytes to one code point, or kReplacement.
    char32_t single(std::string_view bytes) {
        iconv(cd_, nullptr, nullptr, nullptr, nullptr);
        char in[4] = {};
        bytes.copy(in, sizeof in);
        unsigned char out[8] = {};
        char* inPtr = in;
        char* outPtr = reinterpret_cast<char*>(out);
        std::size_t inLeft = bytes.size();
        std::size_t outLeft = sizeof out;
        if (iconv(cd_, &inPtr, &inLeft, &outPtr, &outLeft) == static_cast<std::size_t>(-1) || inLeft != 0 ||
            sizeof out - outLeft != 4) {
            return kReplacement;
        }
        // UTF-32LE
        return static_cast<char32_t>(out[0] | (out[1] << 8) | (out[2] << 16) | (static_cast<std::uint32_t>(out[3]) << 24));
    }

    // Converts a whole string to UTF-8; an invalid byte becomes U+FFFD and conversion resumes
    // after it, a truncated character at the end becomes one U+FFFD.
    void whole(std::string_view raw, std::string& out) {
        std::vector<char> in(raw.begin(), raw.end());
        char* inPtr = in.data();
        std::size_t inLeft = in.size();
        std::array<char, 1024> buffer{};
        while (inLeft > 0) {
            char* outPtr = buffer.data();
            std::size_t outLeft = buffer.size();
            std::size_t rc = iconv(cd_, &inPtr, &inLeft, &outPtr, &outLeft);
            out.append(buffer.data(), buffer.size() - outLeft);
            if (rc != static_cast<std::size_t>(-1)) {
                break;
            }
            if (errno == E2BIG) {
                continue;
            }
            appendUtf8(out, kReplacement);
            if (errno == EILSEQ) {
                ++inPtr;
                --inLeft;
                iconv(cd_, nullptr, nullptr, nullptr, nullptr);
            } else {  // EINVAL: incomplete sequence at the end
                break;
            }
        }
    }

private:
    iconv_t cd_;
};

const char* iconvName(Set set) {
    switch (set) {
        case Set::Latin1: return "ISO-8859-1";
        case Set::Latin2: return "ISO-8859-2";
        case Set::Latin3: return "ISO-8859-3";
        case Set::Latin4: return "ISO-8859-4";
        case Set::Cyrillic: return "ISO-8859-5";
        case Set::Arabic: return "ISO-8859-6";
        case Set::Greek: return "ISO-8859-7";
        case Set::Hebrew: return "ISO-8859-8";
        case Set::Latin5: return "ISO-8859-9";
        case Set::Thai: return "TIS-620";
        case Set::Latin9: return "ISO-8859-15";
        case Set::JisX0208:
        case Set::JisX0212: return "EUC-JP";
        case Set::KsX1001: return "EUC-KR";
        case Set::Gb2312: return "EUC-CN";
        default: return nullptr;
    }
}

// Code points of one set, built once from iconv. Single-byte sets: index = byte (upper half
// used). Double-byte sets: index = (row - 1) * 94 + (cell - 1).
const std::vector<char32_t>& tableFor(Set set) {
    static std::array<std::once_flag, kSetCount> once;
    static std::array<std::vector<char32_t>, kSetCount> tables;
    const auto index = static_cast<std::size_t>(set);
    std::call_once(once[index], [set, index] {
        std::vector<char32_t>& table = tables[index];
        const char* name = iconvName(set);
        if (name == nullptr) {  // not a table-driven set: ASCII, nothing above
            table.assign(256, kReplacement);
            for (unsigned byte = 0; byte < 0x80; ++byte) {
                table[byte] = byte;
            }
            return;
        }
        Iconv converter("UTF-32LE", name);
        if (isDoubleByte(set)) {
            table.assign(kDoubleByteCells, kReplacement);
            if (!converter.valid()) {
                return;
            }
            for (unsigned row = 0; row < 94; ++row) {
                for (unsigned cell = 0; cell < 94; ++cell) {
                    std::string bytes;
                    if (set == Set::JisX0212) {
                        bytes.push_back(static_cast<char>(0x8F));  // SS3 selects JIS X 0212 in EUC-JP
                    }
                    bytes.push_back(static_cast<char>(0xA1 + row));
                    bytes.push_back(static_cast<char>(0xA1 + cell));
                    table[row * 94 + cell] = converter.single(bytes);
                }
            }
        } else {
            table.assign(256, kReplacement);
            for (unsigned byte = 0; byte < 0x80; ++byte) {
                table[byte] = byte;
            }
            if (!converter.valid()) {
                return;
            }
            for (unsigned byte = 0x80; byte < 0x100; ++byte) {
                table[byte] = converter.single(std::string(1, static_cast<char>(byte)));
            }
        }
    });
    return tables[index];
}

std::string_view trimSpaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\0')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string_view> splitTerms(std::string_view value) {
    std::vector<std::string_view> terms;
    std::size_t start = 0;
    while (true) {
        std::size_t end = value.find('\\', start);
        terms.push_back(trimSpaces(value.substr(start, end == std::string_view::npos ? end : end - start)));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return terms;
}

void decodeUtf8(std::string_view raw, std::string& out) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    const std::size_t size = raw.size();
    std::size_t i = 0;
    while (i < size) {
        const unsigned char lead = bytes[i];
        if (lead < 0x80) {
            out.push_back(static_cast<char>(lead));
            ++i;
            continue;
        }
        std::size_t length = 0;
        char32_t cp = 0;
        unsigned char low = 0x80;
        unsigned char high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            cp = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            cp = lead & 0x0F;
            if (lead == 0xE0) low = 0xA0;
            if (lead == 0xED) high = 0x9F;  // no surrogates
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            cp = lead & 0x07;
            if (lead == 0xF0) low = 0x90;
            if (lead == 0xF4) high = 0x8F;
        }
        if (length == 0) {
            appendUtf8(out, kReplacement);
            ++i;
            continue;
        }
        // Maximal subpart rule: one U+FFFD per broken prefix.
        std::size_t consumed = 1;
        bool ok = true;
        for (; consumed < length; ++consumed) {
            if (i + consumed >= size) {
                ok = false;
                break;
            }
            const unsigned char next = bytes[i + consumed];
            const unsigned char lo = consumed == 1 ? low : 0x80;
            const unsigned char hi = consumed == 1 ? high : 0xBF;
            if (next < lo || next > hi) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (next & 0x3F);
        }
        if (ok) {
            out.append(raw.substr(i, length));
        } else {
            appendUtf8(out, kReplacement);
        }
        i += consumed;
    }
}

struct Designation {
    Set g0 = Set::Ascii;
    Set g1 = Set::None;
};

// ISO 2022 decoding: ESC sequences switch G0/G1; GL bytes are read in G0, GR bytes in G1. Plain
// single-byte character sets go through here too, as the degenerate case with no escapes.
class Iso2022Decoder {
public:
    Iso2022Decoder(const std::vector<std::string_view>& terms, bool isPersonName) : isPersonName_(isPersonName) {
        bool fallbackFound = false;
        for (std::size_t i = 0; i < terms.size(); ++i) {
            for (const TermInfo& info : kTerms) {
                if (info.term != terms[i]) {
                    continue;
                }
                if (i == 0) {
                    initial_ = {info.g0, info.g1};
                }
                if (!fallbackFound && info.g1 != Set::None) {
                    fallbackG1_ = info.g1;
                    fallbackFound = true;
                }
            }
            for (const ExtensionTerm& info : kExtensionTerms) {
                if (info.term == terms[i] && !fallbackFound &&
                    (info.set == Set::KsX1001 || info.set == Set::Gb2312)) {
                    fallbackG1_ = info.set;
                    fallbackFound = true;
                }
            }
        }
    }

    void decode(std::string_view raw, std::string& out) const {
        const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
        const std::size_t size = raw.size();
        Designation state = initial_;
        std::size_t i = 0;
        while (i < size) {
            const unsigned char byte = bytes[i];
            if (byte == kEsc) {
                i = escape(raw, i, state, out);
                continue;
            }
            if (byte < 0x20) {
                // Control characters end any code extension (PS3.5 6.1.2.5.3).
                state = initial_;
                out.push_back(static_cast<char>(byte));
                ++i;
                continue;
            }
            if (byte < 0x80) {
                i = graphicLeft(bytes, size, i, state, out);
                continue;
            }
            i = graphicRight(bytes, size, i, state, out);
        }
    }

private:
    std::size_t escape(std::string_view raw, std::size_t i, Designation& state, std::string& out) const {
        std::size_t end = i + 1;
        while (end < raw.size() && static_cast<unsigned char>(raw[end]) >= 0x20 &&
               static_cast<unsigned char>(raw[end]) <= 0x2F) {
            ++end;
        }
        if (end >= raw.size() || static_cast<unsigned char>(raw[end]) < 0x30 ||
            static_cast<unsigned char>(raw[end]) > 0x7E) {
            appendUtf8(out, kReplacement);  // broken escape: drop the ESC, keep what follows
            return i + 1;
        }
        const std::string_view sequence = raw.substr(i + 1, end - i);
        for (const EscapeInfo& info : kEscapes) {
            if (info.sequence == sequence) {
                (info.toG1 ? state.g1 : state.g0) = info.set;
                return end + 1;
            }
        }
        appendUtf8(out, kReplacement);  // unknown set: its text cannot be read either way
        return end + 1;
    }

    std::size_t graphicLeft(const unsigned char* bytes, std::size_t size, std::size_t i, Designation& state,
                            std::string& out) const {
        const unsigned char byte = bytes[i];
        if (isDoubleByte(state.g0)) {
            if (byte == 0x20) {
                out.push_back(' ');
                return i + 1;
            }
            if (i + 1 < size && byte >= 0x21 && byte <= 0x7E && bytes[i + 1] >= 0x21 && bytes[i + 1] <= 0x7E) {
                appendUtf8(out, tableFor(state.g0)[(byte - 0x21) * 94 + (bytes[i + 1] - 0x21)]);
                return i + 2;
            }
            appendUtf8(out, kReplacement);
            return i + 1;
        }
        const bool delimiter = byte == '\\' || (isPersonName_ && (byte == '^' || byte == '='));
        if (delimiter) {
            state = initial_;
            out.push_back(static_cast<char>(byte));
            return i + 1;
        }
        if (state.g0 == Set::JisKatakana && byte >= 0x21 && byte <= 0x5F) {
            appendUtf8(out, 0xFF61 + (byte - 0x21));
            return i + 1;
        }
        // JIS X 0201 Romaji differs from ASCII only at 0x5C and 0x7E; we keep ASCII there so that
        // '\' still separates values, as every reader of ISO_IR 13 data expects.
        out.push_back(static_cast<char>(byte));
        return i + 1;
    }

    std::size_t graphicRight(const unsigned char* bytes, std::size_t size, std::size_t i, const Designation& state,
                             std::string& out) const {
        const unsigned char byte = bytes[i];
        const Set g1 = state.g1 != Set::None ? state.g1 : fallbackG1_;
        if (isDoubleByte(g1)) {
            if (i + 1 < size && byte >= 0xA1 && byte <= 0xFE && bytes[i + 1] >= 0xA1 && bytes[i + 1] <= 0xFE) {
                appendUtf8(out, tableFor(g1)[(byte - 0xA1) * 94 + (bytes[i + 1] - 0xA1)]);
                return i + 2;
            }
            appendUtf8(out, kReplacement);
            return i + 1;
        }
        if (g1 == Set::JisKatakana) {
            appendUtf8(out, byte >= 0xA1 && byte <= 0xDF ? char32_t{0xFF61} + (byte - 0xA1) : kReplacement);
            return i + 1;
        }
        appendUtf8(out, tableFor(g1)[byte]);
        return i + 1;
    }

    bool isPersonName_;
    Designation initial_;
    // Used for GR bytes while nothing is designated to G1: real files often leave out the
    // escape before Korean text, and the default repertoire is read as Latin-1.
    Set fallbackG1_ = Set::Latin1;
};

}  // namespace

bool isPlainAscii(std::string_view raw) {
    for (const char c : raw) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80 || byte == kEsc) {
            return false;
        }
    }
    return true;
}

std::string decodeToUtf8(std::string_view raw, std::string_view specificCharacterSet, bool isPersonName) {
    if (isPlainAscii(raw)) {
        // Every repertoire we accept reads 7-bit bytes without escapes as themselves (ISO_IR 13
        // keeps ASCII at 0x5C and 0x7E on purpose, see graphicLeft), so there is nothing to do.
        return std::string(raw);
    }
    std::string out;
    out.reserve(raw.size() + raw.size() / 2);
    try {
        const std::vector<std::string_view> terms = splitTerms(specificCharacterSet);
        const std::string_view first = terms.front();
        if (first == "ISO_IR 192") {
            decodeUtf8(raw, out);
            return out;
        }
        if (first == "GB18030" || first == "GBK") {
            Iconv converter("UTF-8", first == "GB18030" ? "GB18030" : "GBK");
            if (converter.valid()) {
                converter.whole(raw, out);
                return out;
            }
        }
        Iso2022Decoder(terms, isPersonName).decode(raw, out);
    } catch (...) {
        // Only allocation can fail here; a value we cannot decode is better than an exception
        // in the middle of indexing.
        out.clear();
        appendUtf8(out, kReplacement);
    }
    return out;
}

}  // namespace tessera::core
