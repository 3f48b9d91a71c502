#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/server/url_encoding.hpp"

using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::server::parseUrlEncoded;
using tessera::server::urlDecode;
using Pairs = std::vector<std::pair<std::string, std::string>>;

namespace {

Pairs parse(std::string_view text) {
    Pairs out;
    parseUrlEncoded(text, out);
    return out;
}

ErrorCode codeOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("no sdk::Error thrown");
    return ErrorCode::Internal;
}

}  // namespace

TEST_CASE("urlDecode decodes escapes and plus", "[url]") {
    CHECK(urlDecode("a%20b") == "a b");
    CHECK(urlDecode("a+b") == "a b");
    CHECK(urlDecode("a+b", false) == "a+b");
    CHECK(urlDecode("%2A%3A%2F") == "*:/");
    CHECK(urlDecode("%2a%3a%2f") == "*:/");  // lower-case hex too
    CHECK(urlDecode("%2B") == "+");          // an encoded plus stays a plus
    CHECK(urlDecode("") == "");
    CHECK(urlDecode("plain") == "plain");
}

TEST_CASE("urlDecode passes UTF-8 bytes through", "[url]") {
    CHECK(urlDecode("Jos%C3%A9") == "Jos\xC3\xA9");
    CHECK(urlDecode("Jos\xC3\xA9") == "Jos\xC3\xA9");  // raw UTF-8 left alone
    CHECK(urlDecode("%E6%97%A5") == "\xE6\x97\xA5");
}

TEST_CASE("urlDecode refuses malformed escapes and NUL", "[url]") {
    for (const char* bad : {"%", "%2", "a%zz", "%G0", "abc%", "%%20", "%0"}) {
        INFO(bad);
        CHECK(codeOf([&] { urlDecode(bad); }) == ErrorCode::InvalidArgument);
    }
    CHECK(codeOf([] { urlDecode("a%00b"); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([] { urlDecode(std::string_view("a\0b", 3)); }) == ErrorCode::InvalidArgument);
    CHECK_THROWS_WITH(urlDecode("%zz"), Catch::Contains("Malformed parameter encoding"));
}

TEST_CASE("parseUrlEncoded keeps order, repeats and bare keys", "[url]") {
    CHECK(parse("a=1&b=2") == Pairs{{"a", "1"}, {"b", "2"}});
    CHECK(parse("provider=a&provider=b&field=x") ==
          Pairs{{"provider", "a"}, {"provider", "b"}, {"field", "x"}});
    CHECK(parse("a&b=") == Pairs{{"a", ""}, {"b", ""}});
    CHECK(parse("expand") == Pairs{{"expand", ""}});
    CHECK(parse("") == Pairs{});
    CHECK(parse("&&a=1&&") == Pairs{{"a", "1"}});
    CHECK(parse("a=1=2") == Pairs{{"a", "1=2"}});  // only the first '=' splits
}

TEST_CASE("parseUrlEncoded decodes keys and values like qs encodes them", "[url]") {
    // what dicoogle-client sends for search("Modality:CT AND PatientName:*")
    CHECK(parse("query=Modality%3ACT%20AND%20PatientName%3A%2A&keyword=true") ==
          Pairs{{"query", "Modality:CT AND PatientName:*"}, {"keyword", "true"}});
    CHECK(parse("q=a+b%2Bc") == Pairs{{"q", "a b+c"}});
    CHECK(parse("na%6De=v") == Pairs{{"name", "v"}});
    CHECK(parse("uri=file%3A%2Fdata%2Fa.dcm&uri=file%3A%2Fdata%2Fb.dcm") ==
          Pairs{{"uri", "file:/data/a.dcm"}, {"uri", "file:/data/b.dcm"}});
    CHECK(parse("name=Jos%C3%A9") == Pairs{{"name", "Jos\xC3\xA9"}});
}

TEST_CASE("parseUrlEncoded refuses malformed input", "[url]") {
    Pairs out;
    CHECK(codeOf([&] { parseUrlEncoded("a=1&b=%zz", out); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { parseUrlEncoded("k%=1", out); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { parseUrlEncoded("path=%2e%2e%00", out); }) == ErrorCode::InvalidArgument);
    CHECK_THROWS_WITH(parseUrlEncoded("x=%", out), Catch::StartsWith("Malformed parameter encoding"));
}
