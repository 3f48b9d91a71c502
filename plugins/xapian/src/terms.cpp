#include "tessera/plugins/xapian/terms.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

#include <xapian.h>

#include "tessera/plugins/xapian/stable_hash.hpp"

namespace tessera::plugins::xapian {

namespace {

constexpr char kHashMarker = '\x01';
constexpr std::size_t kHashSuffixBytes = 17;  // marker + 16 hex digits

/// Decodes one UTF-8 code point at `pos`; a malformed byte is taken as Latin-1 (one byte), the
/// way Xapian's Utf8Iterator treats it.
unsigned decodeAt(std::string_view text, std::size_t pos, std::size_t& length) noexcept {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    length = 1;
    if (b0 < 0x80) return b0;
    std::size_t need = 0;
    unsigned cp = 0;
    if ((b0 & 0xe0) == 0xc0) {
        need = 1;
        cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
        need = 2;
        cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
        need = 3;
        cp = b0 & 0x07;
    } else {
        return b0;
    }
    if (pos + need >= text.size()) return b0;
    for (std::size_t i = 1; i <= need; ++i) {
        const auto b = static_cast<unsigned char>(text[pos + i]);
        if ((b & 0xc0) != 0x80) return b0;
        cp = (cp << 6) | (b & 0x3f);
    }
    length = need + 1;
    return cp;
}

/// Xapian::Unicode::is_wordchar, with ASCII answered from a table: the writer asks for every
/// character of every value, and the library call was most of wordsInto()'s cost. ASCII word
/// characters are the letters, the digits and '_' (connector punctuation); the unit tests
/// compare the table with Xapian for all 128.
constexpr std::array<bool, 128> kAsciiWordChar = [] {
    std::array<bool, 128> table{};
    for (unsigned c = 0; c < 128; ++c)
        table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    return table;
}();

bool isWordChar(unsigned cp) noexcept { return cp < 128 ? kAsciiWordChar[cp] : Xapian::Unicode::is_wordchar(cp); }

/// prefix + text, or, when too long for a Xapian term, prefix + as much of text as fits (cut at
/// a character boundary) + marker + hash of the whole text.
std::string bounded(std::string term, std::size_t prefixBytes) {
    if (term.size() <= kMaxTermBytes) return term;
    const std::string_view text = std::string_view(term).substr(prefixBytes);
    const std::uint64_t hash = fnv1a64(text);
    std::size_t keep = std::min(kTruncatedValueBytes, kMaxTermBytes - kHashSuffixBytes - std::min(prefixBytes, kMaxTermBytes - kHashSuffixBytes));
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xc0) == 0x80) --keep;
    term.resize(prefixBytes + keep);
    term.push_back(kHashMarker);
    appendHex64(hash, term);
    return term;
}

std::string prefixed(char family, std::string_view keyword, bool separator) {
    std::string term;
    term.reserve(keyword.size() + 2);
    term.push_back(family);
    term.append(keyword);
    if (separator) term.push_back('#');
    return term;
}

bool isDigits(std::string_view text) noexcept {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string_view trimSpaces(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\0')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::string lowerCase(std::string_view utf8) {
    std::string out;
    lowerCaseInto(utf8, out);
    return out;
}

void lowerCaseInto(std::string_view utf8, std::string& out) {
    // One pass: ASCII is lowered in place until the first byte over 0x7f, and only the rest goes
    // through the code-point path (which lowers ASCII the same way). Asked for every value.
    out.resize(utf8.size());
    char* dst = out.data();
    std::size_t pos = 0;
    for (; pos < utf8.size(); ++pos) {
        const char c = utf8[pos];
        if (static_cast<unsigned char>(c) >= 0x80) break;
        dst[pos] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (pos == utf8.size()) return;
    out.resize(pos);
    while (pos < utf8.size()) {
        std::size_t length = 1;
        const unsigned cp = decodeAt(utf8, pos, length);
        Xapian::Unicode::append_utf8(out, Xapian::Unicode::tolower(cp));
        pos += length;
    }
}

std::vector<std::string> splitValues(std::string_view value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto end = value.find('\\', start);
        out.emplace_back(trimSpaces(value.substr(start, end == std::string_view::npos ? end : end - start)));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string_view> views;
    wordsInto(text, views);
    return std::vector<std::string>(views.begin(), views.end());
}

void wordsInto(std::string_view text, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t pos = 0;
    std::size_t wordStart = std::string_view::npos;
    while (pos < text.size()) {
        std::size_t length = 1;
        const unsigned cp = decodeAt(text, pos, length);
        bool inWord = isWordChar(cp);
        if (!inWord && wordStart != std::string_view::npos && (cp == '.' || cp == ',' || cp == '\'') &&
            pos + length < text.size()) {
            std::size_t nextLength = 1;
            inWord = isWordChar(decodeAt(text, pos + length, nextLength));
        }
        if (inWord) {
            if (wordStart == std::string_view::npos) wordStart = pos;
        } else if (wordStart != std::string_view::npos) {
            out.emplace_back(text.substr(wordStart, pos - wordStart));
            wordStart = std::string_view::npos;
        }
        pos += length;
    }
    if (wordStart != std::string_view::npos) out.emplace_back(text.substr(wordStart));
}

std::string idTerm(std::string_view uri) {
    std::string term = "Q";
    term.append(uri);
    return bounded(std::move(term), 1);
}

std::string presenceTerm(std::string_view field) { return bounded(prefixed('P', field, false), 1); }
std::string exactPrefix(std::string_view field) { return prefixed('X', field, true); }
std::string wordPrefix(std::string_view field) { return prefixed('W', field, true); }

std::string exactTerm(std::string_view field, std::string_view loweredValue) {
    std::string term = exactPrefix(field);
    const std::size_t prefixBytes = term.size();
    term.append(loweredValue);
    return bounded(std::move(term), prefixBytes);
}

std::string wordTerm(std::string_view field, std::string_view word) {
    std::string term = wordPrefix(field);
    const std::size_t prefixBytes = term.size();
    term.append(word);
    return bounded(std::move(term), prefixBytes);
}

std::string freeTextTerm(std::string_view word) { return bounded(std::string(word), 0); }

const std::string& makeTerm(std::string_view prefix, std::string_view text, std::string& out) {
    out.clear();
    out.append(prefix);
    out.append(text);
    if (out.size() > kMaxTermBytes) out = bounded(std::move(out), prefix.size());
    return out;
}

std::string fieldCode(std::uint32_t fieldId) { return std::to_string(fieldId); }
std::string presenceTerm(std::uint32_t fieldId) { return presenceTerm(fieldCode(fieldId)); }
std::string exactPrefix(std::uint32_t fieldId) { return exactPrefix(fieldCode(fieldId)); }
std::string wordPrefix(std::uint32_t fieldId) { return wordPrefix(fieldCode(fieldId)); }
std::string exactTerm(std::uint32_t fieldId, std::string_view loweredValue) {
    return exactTerm(fieldCode(fieldId), loweredValue);
}
std::string wordTerm(std::uint32_t fieldId, std::string_view word) { return wordTerm(fieldCode(fieldId), word); }

bool isHashedTerm(std::string_view term) noexcept {
    if (term.size() < kHashSuffixBytes || term[term.size() - kHashSuffixBytes] != kHashMarker) return false;
    for (std::size_t i = term.size() - kHashSuffixBytes + 1; i < term.size(); ++i) {
        const char c = term[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::string normaliseForTerm(FieldKind kind, std::string_view value) {
    if (kind == FieldKind::Date && value.size() == 10 && (value[4] == '.' || value[4] == '-') && value[7] == value[4] &&
        isDigits(value.substr(0, 4)) && isDigits(value.substr(5, 2)) && isDigits(value.substr(8, 2))) {
        std::string out;
        out.append(value.substr(0, 4)).append(value.substr(5, 2)).append(value.substr(8, 2));
        return out;
    }
    if (kind == FieldKind::Time && value.find(':') != std::string_view::npos) {
        std::string out;
        for (char c : value) {
            if (c == ':') continue;
            if ((c < '0' || c > '9') && c != '.') return std::string(value);
            out.push_back(c);
        }
        return out;
    }
    return std::string(value);
}

bool normalisesTerms(FieldKind kind) noexcept { return kind == FieldKind::Date || kind == FieldKind::Time; }

std::optional<double> parseNumber(std::string_view text) noexcept {
    text = trimSpaces(text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::optional<std::string> sortableKey(FieldKind kind, std::string_view value) {
    switch (kind) {
        case FieldKind::Numeric: {
            auto number = parseNumber(value);
            if (!number) return std::nullopt;
            return Xapian::sortable_serialise(*number);
        }
        case FieldKind::Date:
        case FieldKind::DateTime: {
            std::string key = normaliseForTerm(kind, lowerCase(trimSpaces(value)));
            if (key.empty()) return std::nullopt;
            return key;
        }
        case FieldKind::Time: {
            std::string key = normaliseForTerm(kind, trimSpaces(value));
            if (key.empty()) return std::nullopt;
            // Short forms (HH, HHMM) compare as the full HHMMSS they stand for.
            const auto dot = key.find('.');
            const std::string whole = key.substr(0, dot);
            if (isDigits(whole) && whole.size() < 6 && whole.size() % 2 == 0)
                key = whole + std::string(6 - whole.size(), '0') + (dot == std::string::npos ? "" : key.substr(dot));
            return key;
        }
        case FieldKind::Text: return std::nullopt;
    }
    return std::nullopt;
}

bool hasSortableKey(FieldKind kind, std::string_view value) noexcept {
    switch (kind) {
        case FieldKind::Numeric: return parseNumber(value).has_value();
        // Lower-casing and normalising a non-empty date keep it non-empty.
        case FieldKind::Date:
        case FieldKind::DateTime: return !trimSpaces(value).empty();
        // Normalising drops only the colons, and only when every other character is a digit or '.'.
        case FieldKind::Time: return trimSpaces(value).find_first_not_of(':') != std::string_view::npos;
        case FieldKind::Text: return false;
    }
    return false;
}

bool isFreeTextVr(std::string_view vr) noexcept {
    // One switch on the two letters (asked for every attribute of every object; a loop of
    // twenty string compares cost ~380 instructions a call).
    if (vr.size() != 2) return true;
    constexpr auto code = [](char a, char b) { return (static_cast<unsigned>(static_cast<unsigned char>(a)) << 8) | static_cast<unsigned char>(b); };
    switch (code(vr[0], vr[1])) {
        case code('U', 'I'): case code('I', 'S'): case code('D', 'S'): case code('U', 'S'): case code('S', 'S'):
        case code('U', 'L'): case code('S', 'L'): case code('F', 'L'): case code('F', 'D'): case code('S', 'V'):
        case code('U', 'V'): case code('A', 'T'): case code('O', 'B'): case code('O', 'W'): case code('O', 'F'):
        case code('O', 'D'): case code('O', 'L'): case code('O', 'V'): case code('U', 'N'): case code('S', 'Q'):
            return false;
        default: return true;
    }
}

}  // namespace tessera::plugins::xapian
