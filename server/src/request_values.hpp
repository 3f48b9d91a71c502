#pragma once
// Private helpers for reading request values the way Dicoogle's servlets do.

#include <optional>
#include <string>
#include <string_view>

#include "tessera/sdk/http.hpp"

namespace tessera::server {

/// Dicoogle parses booleans with Java's Boolean.parseBoolean: "true" in any case is true,
/// anything else false. A present-but-empty flag counts as true where Dicoogle says so
/// (`expand`, `public`); callers pass that choice.
inline bool parseBooleanParam(const std::optional<std::string>& value, bool emptyMeansTrue = false) {
    if (!value) return false;
    if (value->empty()) return emptyMeansTrue;
    std::string lower;
    for (char c : *value) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return lower == "true";
}

/// The token from `Authorization: <token>` or `Authorization: Bearer <token>`; nullopt when the
/// header is absent, empty or the literal "null" the official client sends when logged out.
inline std::optional<std::string> bearerToken(const sdk::HttpRequest& request) {
    auto header = request.header("authorization");
    if (!header) return std::nullopt;
    std::string_view value = *header;
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    constexpr std::string_view kBearer = "Bearer ";
    if (value.size() > kBearer.size() && value.substr(0, kBearer.size()) == kBearer) value.remove_prefix(kBearer.size());
    if (value.empty() || value == "null") return std::nullopt;
    return std::string(value);
}

}  // namespace tessera::server
