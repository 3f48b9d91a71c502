#include "tessera/server/url_encoding.hpp"

#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

[[noreturn]] void throwMalformed(std::string_view why) {
    throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Malformed parameter encoding: " + std::string(why));
}

}  // namespace

std::string urlDecode(std::string_view text, bool plusIsSpace) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            const bool complete = i + 2 < text.size();
            const int high = complete ? hexValue(text[i + 1]) : -1;
            const int low = complete ? hexValue(text[i + 2]) : -1;
            if (high < 0 || low < 0) throwMalformed("'%' must be followed by two hex digits");
            const auto byte = static_cast<char>(high * 16 + low);
            if (byte == '\0') throwMalformed("NUL byte (%00) is not allowed");
            decoded.push_back(byte);
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            decoded.push_back(' ');
        } else if (c == '\0') {
            throwMalformed("NUL byte is not allowed");
        } else {
            decoded.push_back(c);
        }
    }
    return decoded;
}

void parseUrlEncoded(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('&', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view segment = text.substr(start, end - start);
        if (!segment.empty()) {
            const std::size_t equals = segment.find('=');
            if (equals == std::string_view::npos)
                out.emplace_back(urlDecode(segment), std::string());
            else
                out.emplace_back(urlDecode(segment.substr(0, equals)), urlDecode(segment.substr(equals + 1)));
        }
        start = end + 1;
    }
}

}  // namespace tessera::server
