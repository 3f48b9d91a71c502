#pragma once
/// @file uri.hpp
/// A URI naming a stored item (`file:/archive/a.dcm`, `file:///archive/a.dcm`, `s3://bucket/x`).
///
/// Only the scheme is interpreted here; what the rest means belongs to the StorageProvider that
/// serves the scheme, which must refuse anything that resolves outside its roots.
///
/// Thread-safety: value type; const methods may be called concurrently.
/// @since 1.0

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/sdk/error.hpp"

namespace tessera::sdk {

/// @since 1.0
class Uri {
public:
    Uri() = default;

    /// The `file:` URI of an absolute POSIX path: every byte outside RFC 3986's unreserved set
    /// and `/` is percent-encoded, and leading slashes are folded to one (`file://x` would read
    /// `x` as a host name). Throws Error(InvalidArgument) for a path that does not start with `/`.
    /// @since 1.0 (header-only addition)
    static Uri fromFilePath(std::string_view absolutePath) {
        if (absolutePath.empty() || absolutePath.front() != '/')
            throw Error(ErrorCode::InvalidArgument, "Not an absolute path: " + std::string(absolutePath));
        while (absolutePath.size() > 1 && absolutePath[1] == '/') absolutePath.remove_prefix(1);
        static constexpr char kHex[] = "0123456789ABCDEF";
        std::string text = "file:";
        text.reserve(text.size() + absolutePath.size());
        for (const char ch : absolutePath) {
            const auto c = static_cast<unsigned char>(ch);
            const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                               c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
            if (plain) {
                text.push_back(ch);
            } else {
                text.push_back('%');
                text.push_back(kHex[c >> 4]);
                text.push_back(kHex[c & 0xf]);
            }
        }
        return parse(text);
    }

    /// Parses `scheme:rest`. The scheme is RFC 3986 (letter, then letters, digits, `+ - .`) and
    /// is lower-cased; the rest is kept byte for byte. Throws Error(InvalidArgument) otherwise.
    static Uri parse(std::string_view text) {
        auto colon = text.find(':');
        if (colon == std::string_view::npos || colon == 0)
            throw Error(ErrorCode::InvalidArgument, "Bad URI: missing scheme: " + std::string(text));
        std::string scheme;
        for (std::size_t i = 0; i < colon; ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            const bool ok = std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
            if (!ok) throw Error(ErrorCode::InvalidArgument, "Bad URI: invalid scheme: " + std::string(text));
            scheme.push_back(static_cast<char>(std::tolower(c)));
        }
        for (char c : text)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                throw Error(ErrorCode::InvalidArgument, "Bad URI: control character");
        Uri uri;
        uri.scheme_ = std::move(scheme);
        uri.text_ = uri.scheme_ + std::string(text.substr(colon));
        return uri;
    }

    /// The scheme, lower case (`file`).
    const std::string& scheme() const noexcept { return scheme_; }

    /// Everything after `scheme:`, undecoded.
    std::string_view schemeSpecificPart() const noexcept {
        return std::string_view(text_).substr(scheme_.empty() ? 0 : scheme_.size() + 1);
    }

    /// The path with any `//authority` removed and `%XX` escapes decoded (query and fragment
    /// dropped). `file:///a/b%20c` and `file:/a/b%20c` both give `/a/b c`. Returns nullopt for a
    /// malformed escape or an escaped NUL, so callers can refuse the URI.
    std::optional<std::string> decodedPath() const {
        std::string_view rest = schemeSpecificPart();
        if (rest.substr(0, 2) == "//") {
            rest.remove_prefix(2);
            const auto slash = rest.find('/');
            rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        }
        if (const auto end = rest.find_first_of("?#"); end != std::string_view::npos) rest = rest.substr(0, end);
        std::string out;
        out.reserve(rest.size());
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i] != '%') {
                out.push_back(rest[i]);
                continue;
            }
            if (i + 2 >= rest.size() || !std::isxdigit(static_cast<unsigned char>(rest[i + 1])) ||
                !std::isxdigit(static_cast<unsigned char>(rest[i + 2])))
                return std::nullopt;
            const int value = std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16);
            if (value == 0) return std::nullopt;
            out.push_back(static_cast<char>(value));
            i += 2;
        }
        return out;
    }

    /// The whole URI as text (scheme lower-cased).
    const std::string& str() const noexcept { return text_; }
    bool empty() const noexcept { return text_.empty(); }

    friend bool operator==(const Uri& a, const Uri& b) noexcept { return a.text_ == b.text_; }
    friend bool operator<(const Uri& a, const Uri& b) noexcept { return a.text_ < b.text_; }

private:
    std::string scheme_;
    std::string text_;
};

}  // namespace tessera::sdk
