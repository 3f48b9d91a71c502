#include <catch2/catch.hpp>

#include <string>

#include "tessera/core/dicom/character_set.hpp"

using tessera::core::decodeToUtf8;

namespace {

struct Case {
    const char* name;
    std::string raw;
    std::string charset;
    bool personName;
    std::string expected;
};

// Hand-made byte strings; the escapes and codes follow PS3.5 Annex H/I/J.
const Case kCases[] = {
    {"empty value", "", "ISO_IR 100", true, ""},
    {"ASCII, no charset", "Doe^John", "", true, "Doe^John"},
    {"Latin-1", "Buc^J\xe9r\xf4me", "ISO_IR 100", true, "Buc^Jérôme"},
    {"default repertoire with high bytes reads as Latin-1", "\xc4neas", "", false, "Äneas"},
    {"Cyrillic IR 144", "\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3", "ISO_IR 144", true, "Люкceмбypг"},
    {"Hebrew IR 138", "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", "ISO_IR 138", true, "שרון^דבורה"},
    {"Greek IR 126", "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "ISO_IR 126", false, "Διονυσιος"},
    {"JIS X 0201 katakana IR 13", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3", "ISO_IR 13", true, "ﾔﾏﾀﾞ^ﾀﾛｳ"},
    {"UTF-8 IR 192 with trailing empty group", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "ISO_IR 192",
     true, "Wang^XiaoDong=王^小東="},
    {"UTF-8 invalid bytes", "a\xff" "b\xc3(c\xe7\x8e", "ISO_IR 192", false, "a\uFFFDb\uFFFD(c\uFFFD"},
    {"UTF-8 overlong and surrogate", "\xc0\xaf\xed\xa0\x80", "ISO_IR 192", false,
     "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
    {"GB18030", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "GB18030", true, "Wang^XiaoDong=王^小东="},
    {"GB18030 invalid byte", "a\xff" "b", "GB18030", false, "a\uFFFDb"},
    {"ISO 2022 IR 87 with escapes",
     "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", "\\ISO 2022 IR 87",
     true, "Yamada^Tarou=山田^太郎=やまだ^たろう"},
    {"ISO 2022 IR 87 after IR 13 with katakana in G1", "\xd4\xcf\xc0\xde=\x1b$B;3ED\x1b(J", "ISO 2022 IR 13\\ISO 2022 IR 87",
     true, "ﾔﾏﾀﾞ=山田"},
    {"ISO 2022 IR 87 cut inside a character", "\x1b$B;3E", "\\ISO 2022 IR 87", false, "山\uFFFD"},
    {"ISO 2022 IR 159 (JIS X 0212)", "\x1b$(D\x30\x21\x1b(B", "\\ISO 2022 IR 159", false, "丂"},
    {"ISO 2022 IR 149 with escapes",
     "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf",
     "\\ISO 2022 IR 149", true, "Hong^Gildong=洪^吉洞=홍^길동"},
    {"ISO 2022 IR 149 without the escape", "\xc8\xab", "\\ISO 2022 IR 149", true, "홍"},
    {"ISO 2022 IR 58 (GB2312)", "\x1b$)A\xcd\xf5", "\\ISO 2022 IR 58", true, "王"},
    // A PN component group resets G1 to the initial set (Latin-1), other VRs keep it.
    {"PN '=' resets the code extension", "\x1b-L\xbb=\xbb", "ISO 2022 IR 100\\ISO 2022 IR 144", true, "Л=»"},
    {"non-PN '=' does not reset", "\x1b-L\xbb=\xbb", "ISO 2022 IR 100\\ISO 2022 IR 144", false, "Л=Л"},
    {"value separator resets", "\x1b-L\xbb\\\xbb", "ISO 2022 IR 100\\ISO 2022 IR 144", false, "Л\\»"},
    {"control characters reset", "\x1b-L\xbb\r\n\xbb", "ISO 2022 IR 100\\ISO 2022 IR 144", false, "Л\r\n»"},
    {"unknown escape sequence", "a\x1b$)Zb", "\\ISO 2022 IR 87", false, "a\uFFFDb"},
    {"broken escape at the end", "a\x1b$", "\\ISO 2022 IR 87", false, "a\uFFFD$"},
    {"GR byte with nothing in G1 falls back to Latin-1", "\xb0", "\\ISO 2022 IR 87", false, "°"},
    {"unknown character set term", "abc\xe9", "NOT A CHARSET", false, "abcé"},
    {"charset value with padding", "J\xe9r\xf4me", "ISO_IR 100 ", true, "Jérôme"},
};

}  // namespace

TEST_CASE("decodeToUtf8 decodes every character set of the table", "[dicom][charset]") {
    for (const Case& c : kCases) {
        INFO(c.name);
        CHECK(decodeToUtf8(c.raw, c.charset, c.personName) == c.expected);
    }
}

TEST_CASE("decodeToUtf8 always returns valid UTF-8 for arbitrary bytes", "[dicom][charset]") {
    // Every byte value in every mode must come out as something valid; the check is a simple
    // UTF-8 structural validation of the output.
    auto isValidUtf8 = [](const std::string& text) {
        std::size_t i = 0;
        while (i < text.size()) {
            const auto lead = static_cast<unsigned char>(text[i]);
            std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
            if (length == 0 || i + length > text.size()) {
                return false;
            }
            for (std::size_t k = 1; k < length; ++k) {
                if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
                    return false;
                }
            }
            i += length;
        }
        return true;
    };
    std::string all;
    for (int b = 0; b < 256; ++b) {
        all.push_back(static_cast<char>(b));
    }
    for (const char* charset : {"", "ISO_IR 100", "ISO_IR 192", "GB18030", "GBK", "ISO_IR 13", "ISO_IR 166",
                                "\\ISO 2022 IR 87", "\\ISO 2022 IR 149", "ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 159"}) {
        INFO(charset);
        for (bool pn : {false, true}) {
            CHECK(isValidUtf8(decodeToUtf8(all, charset, pn)));
            CHECK(isValidUtf8(decodeToUtf8("\x1b$B" + all, charset, pn)));
            CHECK(isValidUtf8(decodeToUtf8("\x1b$)C" + all, charset, pn)));
        }
    }
}
