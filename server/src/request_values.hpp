#pragma once
// Private helpers for reading request values the way Dicoogle's servlets do.

#include <optional>
#include <string>

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

}  // namespace tessera::server
