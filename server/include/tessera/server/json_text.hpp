#pragma once
// Small helpers for writing JSON text by hand where a JSON library would be overkill.
//
// Thread-safety: free functions without shared state.

#include <string>
#include <string_view>

#include "tessera/sdk/http.hpp"

namespace tessera::server {

/// `utf8` as a JSON string literal, quotes included. Control characters, '"' and '\' are
/// escaped; bytes that are not well-formed UTF-8 become U+FFFD, so the output is always valid
/// JSON even when it echoes raw client input (a decoded path, a parameter).
std::string jsonQuote(std::string_view utf8);

/// A JSON response `{"error":"message"}` with the given status.
sdk::HttpResponse jsonError(int status, std::string_view message);

}  // namespace tessera::server
