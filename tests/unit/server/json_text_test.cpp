#include <catch2/catch.hpp>

#include <string>

#include "tessera/server/json_text.hpp"

using tessera::server::jsonError;
using tessera::server::jsonQuote;

TEST_CASE("jsonQuote escapes what JSON requires", "[json]") {
    CHECK(jsonQuote("") == R"("")");
    CHECK(jsonQuote("plain") == R"("plain")");
    CHECK(jsonQuote("a\"b\\c") == R"("a\"b\\c")");
    CHECK(jsonQuote("l1\nl2\r\t\b\f") == R"("l1\nl2\r\t\b\f")");
    CHECK(jsonQuote(std::string_view("\x01\x1f\0", 3)) == R"("\u0001\u001f\u0000")");
    CHECK(jsonQuote("/path") == R"("/path")");
}

TEST_CASE("jsonQuote keeps valid UTF-8 and replaces invalid bytes", "[json]") {
    CHECK(jsonQuote("Jos\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80") ==
          "\"Jos\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80\"");
    const std::string replacement = "\xEF\xBF\xBD";
    CHECK(jsonQuote("a\xFF"
                    "b") == "\"a" + replacement + "b\"");
    CHECK(jsonQuote("\xC3") == "\"" + replacement + "\"");                    // truncated sequence
    CHECK(jsonQuote("\xC0\xAF") == "\"" + replacement + replacement + "\"");  // overlong '/'
    CHECK(jsonQuote("\xED\xA0\x80") == "\"" + replacement + replacement + replacement + "\"");  // surrogate
    CHECK(jsonQuote("\xF4\x90\x80\x80").find("\xF4") == std::string::npos);  // past U+10FFFF
}

TEST_CASE("jsonError builds an error body with the status", "[json]") {
    const auto response = jsonError(404, "Unknown resource: /x\"y");
    CHECK(response.status == 404);
    CHECK(response.contentType == "application/json");
    CHECK(response.body == R"({"error":"Unknown resource: /x\"y"})");
    CHECK_FALSE(response.writer);
}
