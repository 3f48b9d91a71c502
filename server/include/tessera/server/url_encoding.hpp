#pragma once
// Percent-decoding and application/x-www-form-urlencoded parsing for the REST layer.
//
// Thread-safety: free functions without shared state.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::server {

/// Decodes %XX escapes and, when `plusIsSpace`, '+' as a space (query strings and form bodies;
/// paths keep '+'). Bytes are passed through as they are (UTF-8 is not validated here).
/// Throws sdk::Error(InvalidArgument) for a malformed escape (a '%' not followed by two hex
/// digits) and for a NUL byte, raw or as %00: no legitimate Dicoogle parameter or path contains
/// one, and a NUL that reaches a file name or a C API truncates it silently.
std::string urlDecode(std::string_view text, bool plusIsSpace = true);

/// Appends key/value pairs of an application/x-www-form-urlencoded string (query string or body)
/// to `out`, in order; "a&b=" gives ("a",""),("b",""); empty segments skipped.
/// Throws sdk::Error(InvalidArgument, "Malformed parameter encoding ..."); `out` may then hold
/// the pairs before the bad one.
void parseUrlEncoded(std::string_view text, std::vector<std::pair<std::string, std::string>>& out);

}  // namespace tessera::server
