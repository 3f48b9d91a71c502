#pragma once
// Private helpers for the parameters the search and export routes share. Each throws
// sdk::Error(InvalidArgument) with the message the client sees.

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/sdk/http.hpp"

namespace tessera::server {

inline std::string trimmedValue(std::string_view text) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return std::string(text);
}

/// The query text; missing or blank → "No query supplied!".
inline std::string requireQuery(const std::optional<std::string>& query) {
    if (!query || trimmedValue(*query).empty()) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "No query supplied!");
    return *query;
}

/// The values of a repeated parameter without blank ones, trimmed.
inline std::vector<std::string> nonEmptyValues(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& value : values)
        if (auto trimmed = trimmedValue(value); !trimmed.empty()) out.push_back(std::move(trimmed));
    return out;
}

/// A non-negative integer parameter (decimal digits only); nullopt when absent. Present but
/// empty, signed, not a number or too large → "Invalid parameter <name>: must be a non-negative
/// integer".
inline std::optional<std::size_t> nonNegativeParam(const sdk::HttpRequest& request, std::string_view name) {
    const auto value = request.param(name);
    if (!value) return std::nullopt;
    const std::string text = trimmedValue(*value);
    std::size_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || text.front() == '-')
        throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                         "Invalid parameter " + std::string(name) + ": must be a non-negative integer");
    return number;
}

}  // namespace tessera::server
