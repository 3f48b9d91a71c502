#include "tessera/server/json_text.hpp"

#include <cstdint>

namespace tessera::server {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence starting at `pos`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are refused, as RFC 3629 says).
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos) noexcept {
    const auto byteAt = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
    const std::uint8_t lead = byteAt(pos);
    std::size_t length = 0;
    std::uint8_t secondMin = 0x80;
    std::uint8_t secondMax = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) secondMin = 0xA0;  // overlong
        if (lead == 0xED) secondMax = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) secondMin = 0x90;  // overlong
        if (lead == 0xF4) secondMax = 0x8F;  // past U+10FFFF
    } else {
        return 0;
    }
    if (pos + length > text.size()) return 0;
    const std::uint8_t second = byteAt(pos + 1);
    if (second < secondMin || second > secondMax) return 0;
    for (std::size_t i = 2; i < length; ++i)
        if ((byteAt(pos + i) & 0xC0) != 0x80) return 0;
    return length;
}

}  // namespace

std::string jsonQuote(std::string_view utf8) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string quoted;
    quoted.reserve(utf8.size() + 2);
    quoted.push_back('"');
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const auto byte = static_cast<std::uint8_t>(utf8[pos]);
        if (byte >= 0x80) {
            const std::size_t length = utf8SequenceLength(utf8, pos);
            if (length == 0) {
                quoted.append(kReplacementCharacter);
                ++pos;
            } else {
                quoted.append(utf8.substr(pos, length));
                pos += length;
            }
            continue;
        }
        switch (byte) {
            case '"': quoted.append("\\\""); break;
            case '\\': quoted.append("\\\\"); break;
            case '\b': quoted.append("\\b"); break;
            case '\f': quoted.append("\\f"); break;
            case '\n': quoted.append("\\n"); break;
            case '\r': quoted.append("\\r"); break;
            case '\t': quoted.append("\\t"); break;
            default:
                if (byte < 0x20 || byte == 0x7F) {
                    quoted.append("\\u00");
                    quoted.push_back(kHex[byte >> 4]);
                    quoted.push_back(kHex[byte & 0x0F]);
                } else {
                    quoted.push_back(static_cast<char>(byte));
                }
        }
        ++pos;
    }
    quoted.push_back('"');
    return quoted;
}

sdk::HttpResponse jsonError(int status, std::string_view message) {
    return sdk::HttpResponse::json("{\"error\":" + jsonQuote(message) + "}", status);
}

}  // namespace tessera::server
