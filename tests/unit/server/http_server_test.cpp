#include <catch2/catch.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/server/http_server.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"

using tessera::sdk::AccessPolicy;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::sdk::HttpRequest;
using tessera::sdk::HttpResponse;
using tessera::sdk::WebRoute;
using tessera::server::HttpServer;
using tessera::server::HttpServerOptions;
using tessera::server::Identity;
using tessera::server::jsonQuote;
using tessera::server::Router;

namespace {

// The request as the handler saw it, as compact JSON, so tests can compare exact text.
std::string echoJson(const HttpRequest& r) {
    std::string json = "{\"method\":";
    json += jsonQuote(r.method);
    json += ",\"path\":";
    json += jsonQuote(r.path);
    json += ",\"params\":[";
    for (std::size_t i = 0; i < r.params.size(); ++i) {
        if (i > 0) json += ',';
        json += '[';
        json += jsonQuote(r.params[i].first);
        json += ',';
        json += jsonQuote(r.params[i].second);
        json += ']';
    }
    json += "],\"pathParams\":{";
    bool first = true;
    for (const auto& [name, value] : r.pathParams) {
        if (!first) json += ',';
        json += jsonQuote(name);
        json += ':';
        json += jsonQuote(value);
        first = false;
    }
    json += "},\"body\":";
    json += jsonQuote(r.body);
    json += ",\"user\":";
    json += jsonQuote(r.user);
    json += ",\"admin\":";
    json += r.admin ? "true}" : "false}";
    return json;
}

HttpResponse echo(const HttpRequest& r) { return HttpResponse::json(echoJson(r)); }

WebRoute route(std::string method, std::string path, AccessPolicy policy,
               std::function<HttpResponse(const HttpRequest&)> handler = echo) {
    return WebRoute{std::move(method), std::move(path), policy, "test", std::move(handler)};
}

constexpr std::size_t kStreamBytes = 300000;

std::string streamPattern() {
    std::string pattern;
    for (std::size_t i = 0; i < kStreamBytes; ++i) pattern.push_back(static_cast<char>('a' + i % 26));
    return pattern;
}

Router makeRouter() {
    Router router;
    router.add(route("GET", "/ping", AccessPolicy::Public,
                     [](const HttpRequest&) { return HttpResponse::json(R"({"pong":true})"); }));
    for (const char* method : {"GET", "POST", "PUT", "DELETE"})
        router.add(route(method, "/echo", AccessPolicy::Public));
    router.add(route("GET", "/items/{id}", AccessPolicy::Public));
    router.add(route("GET", "/files/{rest*}", AccessPolicy::Public));
    router.add(route("GET", "/me", AccessPolicy::User));
    router.add(route("POST", "/admin", AccessPolicy::Admin));
    router.add(route("GET", "/admin", AccessPolicy::Admin));
    router.add(route("GET", "/missing", AccessPolicy::Public, [](const HttpRequest&) -> HttpResponse {
        throw Error(ErrorCode::NotFound, "No such study: 1.2.3");
    }));
    router.add(route("GET", "/conflict", AccessPolicy::Public, [](const HttpRequest&) -> HttpResponse {
        throw Error(ErrorCode::Conflict, "Cannot remove the last administrator");
    }));
    router.add(route("GET", "/boom", AccessPolicy::Public, [](const HttpRequest&) -> HttpResponse {
        throw std::runtime_error("secret detail in /var/lib/tessera/users.db");
    }));
    router.add(route("GET", "/boom-int", AccessPolicy::Public,
                     [](const HttpRequest&) -> HttpResponse { throw 42; }));
    router.add(route("GET", "/stream", AccessPolicy::Public, [](const HttpRequest&) {
        HttpResponse r;
        r.contentType = "text/csv";
        r.writer = [](std::ostream& os) {
            const std::string pattern = streamPattern();
            for (std::size_t at = 0; at < pattern.size(); at += 1000) os.write(pattern.data() + at, 1000);
        };
        return r;
    }));
    router.add(route("GET", "/broken-stream", AccessPolicy::Public, [](const HttpRequest&) {
        HttpResponse r;
        r.contentType = "text/plain";
        r.writer = [](std::ostream& os) {
            os << "first part;";
            os.flush();
            throw std::runtime_error("disk gone");
        };
        return r;
    }));
    router.add(route("GET", "/created", AccessPolicy::Public, [](const HttpRequest&) {
        HttpResponse r = HttpResponse::text("made", 201);
        r.headers = {{"X-Custom", "one"},
                     {"X-Custom", "two"},
                     {"X-Bad", "a\r\nInjected: 1"},
                     {"Content-Length", "999"},
                     {"Bad Name", "x"}};
        return r;
    }));
    router.add(route("DELETE", "/nothing", AccessPolicy::Public, [](const HttpRequest&) {
        HttpResponse r;
        r.status = 204;
        r.contentType.clear();
        return r;
    }));
    router.add(route("GET", "/bad-status", AccessPolicy::Public, [](const HttpRequest&) {
        HttpResponse r = HttpResponse::json("{}");
        r.status = 42;
        return r;
    }));
    return router;
}

struct Reply {
    int status = 0;
    std::string body;
    Poco::Net::HTTPResponse head;

    std::string header(const std::string& name) const { return head.get(name, ""); }
    bool has(const std::string& name) const { return head.has(name); }
};

struct Call {
    std::string method = "GET";
    std::string uri = "/ping";
    std::string body;
    std::string contentType;
    std::vector<std::pair<std::string, std::string>> headers;
    bool chunked = false;
    std::optional<std::streamsize> declaredLength;  // send this Content-Length and no body
};

Reply exchange(Poco::Net::HTTPClientSession& session, const Call& call) {
    Poco::Net::HTTPRequest request(call.method, call.uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : call.headers) request.add(name, value);
    if (!call.contentType.empty()) request.setContentType(call.contentType);
    if (call.chunked)
        request.setChunkedTransferEncoding(true);
    else if (call.declaredLength)
        request.setContentLength64(*call.declaredLength);
    else if (!call.body.empty() || call.method == "POST" || call.method == "PUT")
        request.setContentLength64(static_cast<Poco::Int64>(call.body.size()));
    std::ostream& out = session.sendRequest(request);
    if (!call.declaredLength) out << call.body;

    Reply reply;
    std::istream& in = session.receiveResponse(reply.head);
    reply.status = reply.head.getStatus();
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
}

// One request on a fresh connection closed afterwards, like dicoogle-client does.
Reply send(std::uint16_t port, Call call) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    call.headers.emplace_back("Connection", "close");
    return exchange(session, call);
}

Reply get(std::uint16_t port, std::string uri,
          std::vector<std::pair<std::string, std::string>> headers = {}) {
    Call call;
    call.uri = std::move(uri);
    call.headers = std::move(headers);
    return send(port, std::move(call));
}

// Raw bytes in, every byte until the server closes out: for what a polite client can't send.
std::string rawExchange(std::uint16_t port, const std::string& request) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string received;
    char buffer[4096];
    try {
        while (true) {
            const int count = socket.receiveBytes(buffer, sizeof buffer);
            if (count <= 0) break;
            received.append(buffer, static_cast<std::size_t>(count));
        }
    } catch (const Poco::Net::ConnectionResetException&) {
        // the server cut the connection: what came before is the answer
    }
    return received;
}

class TestServer {
public:
    explicit TestServer(HttpServerOptions options = {}) : router_(makeRouter()) {
        options.port = 0;
        server_ = std::make_unique<HttpServer>(
            router_,
            [this](std::string_view token) -> std::optional<Identity> {
                ++authCalls;
                auto it = tokens_.find(std::string(token));
                if (it == tokens_.end()) return std::nullopt;
                return it->second;
            },
            options);
        server_->start();
    }

    std::uint16_t port() const { return server_->port(); }
    HttpServer& server() { return *server_; }

    // The server answers a plain request after whatever came before.
    void requireAlive() const {
        const Reply reply = get(port(), "/ping");
        REQUIRE(reply.status == 200);
        REQUIRE(reply.body == R"({"pong":true})");
    }

    std::atomic<int> authCalls{0};

private:
    std::map<std::string, Identity> tokens_{{"usertoken", {"ana", false}}, {"admintoken", {"root", true}}};
    Router router_;
    std::unique_ptr<HttpServer> server_;
};

const std::string kUnknownResource = R"({"error":"Unknown resource: )";

}  // namespace

TEST_CASE("HttpServer binds 127.0.0.1 on a free port and answers JSON", "[http]") {
    CHECK(HttpServerOptions{}.address == "127.0.0.1");
    CHECK(HttpServerOptions{}.maxBodyBytes == 3325000);
    TestServer server;
    CHECK(server.port() != 0);
    CHECK(server.server().address() == "127.0.0.1");
    CHECK(server.server().running());

    const Reply reply = get(server.port(), "/ping");
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == "application/json");
    CHECK(reply.header("Content-Length") == "13");
    CHECK(reply.body == R"({"pong":true})");
}

TEST_CASE("HttpServer parses query parameters like dicoogle-client sends them", "[http]") {
    TestServer server;
    const Reply reply = get(server.port(),
                            "/echo?query=Modality%3ACT%20AND%20PatientName%3A%2A&keyword=true&provider=a&"
                            "provider=b&expand&q=a+b");
    CHECK(reply.status == 200);
    CHECK(
        reply.body ==
        R"({"method":"GET","path":"/echo","params":[["query","Modality:CT AND PatientName:*"],["keyword","true"],)"
        R"(["provider","a"],["provider","b"],["expand",""],["q","a b"]],"pathParams":{},"body":"","user":"","admin":false})");
}

TEST_CASE("HttpServer merges form body parameters after query parameters", "[http]") {
    TestServer server;
    Call call;
    call.method = "POST";
    call.uri = "/echo?provider=lucene";
    call.contentType = "application/x-www-form-urlencoded; charset=UTF-8";
    call.body = "uri=file%3A%2Fa%20b.dcm&uri=file%3A%2Fc.dcm&password=p+w%2Bd";
    const Reply reply = send(server.port(), call);
    CHECK(reply.status == 200);
    CHECK(
        reply.body ==
        R"({"method":"POST","path":"/echo","params":[["provider","lucene"],["uri","file:/a b.dcm"],)"
        R"(["uri","file:/c.dcm"],["password","p w+d"]],"pathParams":{},"body":"","user":"","admin":false})");

    SECTION("a non-form body is passed raw") {
        Call json = call;
        json.contentType = "application/json";
        json.body = R"({"a":1})";
        const Reply raw = send(server.port(), json);
        CHECK(raw.status == 200);
        CHECK_THAT(raw.body, Catch::Contains(R"("params":[["provider","lucene"]])"));
        CHECK_THAT(raw.body, Catch::Contains(R"("body":"{\"a\":1}")"));
    }
    SECTION("a chunked form body is parsed too") {
        Call chunked = call;
        chunked.chunked = true;
        const Reply parsed = send(server.port(), chunked);
        CHECK(parsed.status == 200);
        CHECK(parsed.body == reply.body);
    }
    SECTION("a GET with a pointless Content-Type and no body") {
        const Reply pointless = get(server.port(), "/echo?a=1", {{"Content-Type", "application/json"}});
        CHECK(pointless.status == 200);
        CHECK_THAT(pointless.body, Catch::Contains(R"("params":[["a","1"]],"pathParams":{},"body":"")"));
    }
}

TEST_CASE("HttpServer decodes paths without turning '+' into a space", "[http]") {
    TestServer server;
    Reply reply = get(server.port(), "/items/a%20b+c");
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, Catch::Contains(R"("path":"/items/a b+c")"));
    CHECK_THAT(reply.body, Catch::Contains(R"("pathParams":{"id":"a b+c"})"));

    reply = get(server.port(), "/items/a%2Fb");  // an encoded slash stays in its segment
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, Catch::Contains(R"("pathParams":{"id":"a/b"})"));

    reply = get(server.port(), "/items/Jos%C3%A9");
    CHECK_THAT(reply.body, Catch::Contains("\"pathParams\":{\"id\":\"Jos\xC3\xA9\"}"));

    reply = get(server.port(), "/files/dir/sub/x.dcm?frame=2");
    CHECK_THAT(reply.body,
               Catch::Contains(R"("params":[["frame","2"]],"pathParams":{"rest":"dir/sub/x.dcm"})"));
}

TEST_CASE("HttpServer answers unknown routes with 404 and wrong methods with 405", "[http]") {
    TestServer server;
    Reply reply = get(server.port(), "/nowhere/%3Cb%3E");
    CHECK(reply.status == 404);
    CHECK(reply.header("Content-Type") == "application/json");
    CHECK(reply.body == kUnknownResource + "/nowhere/<b>\"}");
    server.requireAlive();

    Call put;
    put.method = "PUT";
    put.uri = "/ping";
    reply = send(server.port(), put);
    CHECK(reply.status == 405);
    CHECK(reply.header("Allow") == "GET, HEAD, OPTIONS");
    CHECK(reply.body == R"({"error":"Method PUT is not allowed on /ping"})");
    server.requireAlive();

    // lower-case methods are upper-cased, as the SDK promises handlers
    Call lower;
    lower.method = "delete";
    lower.uri = "/echo";
    reply = send(server.port(), lower);
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, Catch::StartsWith(R"({"method":"DELETE")"));
}

TEST_CASE("HttpServer answers malformed parameters and paths with 400", "[http]") {
    TestServer server;
    for (const char* uri : {"/echo?a=%zz", "/echo?a=%", "/echo?name=x%00y", "/items/%G1", "/items/..",
                            "/files/a/%2e%2e/b", "/items/%00"}) {
        INFO(uri);
        const Reply reply = get(server.port(), uri);
        CHECK(reply.status == 400);
        CHECK(reply.header("Content-Type") == "application/json");
        CHECK_THAT(reply.body, Catch::StartsWith(R"({"error":"Malformed )"));
        server.requireAlive();
    }
    Call form;
    form.method = "POST";
    form.uri = "/echo";
    form.contentType = "application/x-www-form-urlencoded";
    form.body = "username=a&password=%Z";
    const Reply reply = send(server.port(), form);
    CHECK(reply.status == 400);
    CHECK_THAT(reply.body, Catch::StartsWith(R"({"error":"Malformed parameter encoding)"));
    server.requireAlive();
}

TEST_CASE("HttpServer refuses bodies over the limit with 413", "[http]") {
    HttpServerOptions options;
    options.maxBodyBytes = 1024;
    TestServer server(options);

    Call call;
    call.method = "POST";
    call.uri = "/echo";
    call.contentType = "text/plain";

    SECTION("exactly at the limit is fine") {
        call.body = std::string(1024, 'x');
        const Reply reply = send(server.port(), call);
        CHECK(reply.status == 200);
        CHECK_THAT(reply.body, Catch::Contains(std::string(1024, 'x')));
    }
    SECTION("Content-Length over the limit, body sent") {
        call.body = std::string(200000, 'x');
        const Reply reply = send(server.port(), call);
        CHECK(reply.status == 413);
        CHECK(reply.body == R"j({"error":"Request body too large (limit 1024 bytes)"})j");
    }
    SECTION("Content-Length over the limit is refused without reading the body") {
        call.declaredLength = 50'000'000;  // we never send it
        const Reply reply = send(server.port(), call);
        CHECK(reply.status == 413);
        CHECK_FALSE(reply.head.getKeepAlive());  // the unread body makes the connection unusable
    }
    SECTION("chunked body over the limit") {
        call.chunked = true;
        call.body = std::string(5000, 'y');
        const Reply reply = send(server.port(), call);
        CHECK(reply.status == 413);
        CHECK_THAT(reply.body, Catch::Contains("too large"));
    }
    SECTION("form body over the limit") {
        call.contentType = "application/x-www-form-urlencoded";
        call.body = "uri=" + std::string(2000, 'u');
        const Reply reply = send(server.port(), call);
        CHECK(reply.status == 413);
    }
    server.requireAlive();
}

TEST_CASE("HttpServer enforces route access policies", "[http]") {
    TestServer server;
    const std::string port = std::to_string(server.port());

    SECTION("no token on a user route: 401") {
        const Reply reply = get(server.port(), "/me");
        CHECK(reply.status == 401);
        CHECK(reply.header("Content-Type") == "application/json");
        CHECK(reply.body == R"({"error":"Authentication required"})");
        CHECK(server.authCalls == 0);
    }
    SECTION("the literal null token after a logout is no token") {
        const Reply reply = get(server.port(), "/me", {{"Authorization", "null"}});
        CHECK(reply.status == 401);
        CHECK(server.authCalls == 0);
        const Reply open = get(server.port(), "/echo", {{"Authorization", "null"}});
        CHECK(open.status == 200);
        CHECK_THAT(open.body, Catch::Contains(R"("user":"","admin":false)"));
    }
    SECTION("unknown token: 403") {
        const Reply reply = get(server.port(), "/me", {{"Authorization", "stolen"}});
        CHECK(reply.status == 403);
        CHECK(reply.body == R"({"error":"Invalid or expired token"})");
        CHECK(get(server.port(), "/admin", {{"Authorization", "Bearer stolen"}}).status == 403);
    }
    SECTION("bare token and Bearer token") {
        Reply reply = get(server.port(), "/me", {{"Authorization", "usertoken"}});
        CHECK(reply.status == 200);
        CHECK_THAT(reply.body, Catch::Contains(R"("user":"ana","admin":false)"));
        reply = get(server.port(), "/me", {{"Authorization", "Bearer usertoken"}});
        CHECK(reply.status == 200);
        CHECK_THAT(reply.body, Catch::Contains(R"("user":"ana")"));
        reply = get(server.port(), "/me", {{"Authorization", "bearer   usertoken "}});
        CHECK(reply.status == 200);
        CHECK(get(server.port(), "/me", {{"Authorization", "Bearer "}}).status == 401);
    }
    SECTION("admin routes need an admin") {
        CHECK(get(server.port(), "/admin").status == 401);
        const Reply user = get(server.port(), "/admin", {{"Authorization", "usertoken"}});
        CHECK(user.status == 403);
        CHECK(user.body == R"({"error":"Administrator rights required"})");
        const Reply admin = get(server.port(), "/admin", {{"Authorization", "admintoken"}});
        CHECK(admin.status == 200);
        CHECK_THAT(admin.body, Catch::Contains(R"("user":"root","admin":true)"));
        // a user route admits an admin too
        CHECK(get(server.port(), "/me", {{"Authorization", "Bearer admintoken"}}).status == 200);
    }
    SECTION("public routes see a valid token's identity and ignore a bad one") {
        Reply reply = get(server.port(), "/echo", {{"Authorization", "admintoken"}});
        CHECK(reply.status == 200);
        CHECK_THAT(reply.body, Catch::Contains(R"("user":"root","admin":true)"));
        reply = get(server.port(), "/echo", {{"Authorization", "stolen"}});
        CHECK(reply.status == 200);
        CHECK_THAT(reply.body, Catch::Contains(R"("user":"","admin":false)"));
    }
    SECTION("the policy is checked after routing: a 404 stays a 404 without a token") {
        CHECK(get(server.port(), "/admin/nothing").status == 404);
        Call put;
        put.method = "PUT";
        put.uri = "/admin";
        CHECK(send(server.port(), put).status == 405);
    }
    server.requireAlive();
}

TEST_CASE("HttpServer maps handler exceptions to JSON errors", "[http]") {
    TestServer server;
    Reply reply = get(server.port(), "/missing");
    CHECK(reply.status == 404);
    CHECK(reply.header("Content-Type") == "application/json");
    CHECK(reply.body == R"({"error":"No such study: 1.2.3"})");

    reply = get(server.port(), "/conflict");
    CHECK(reply.status == 409);
    CHECK(reply.body == R"({"error":"Cannot remove the last administrator"})");

    reply = get(server.port(), "/boom");
    CHECK(reply.status == 500);
    CHECK(reply.body == R"({"error":"Internal server error"})");
    CHECK(reply.body.find("secret") == std::string::npos);
    CHECK(reply.body.find("/var/lib") == std::string::npos);
    server.requireAlive();

    reply = get(server.port(), "/boom-int");
    CHECK(reply.status == 500);
    CHECK(reply.body == R"({"error":"Internal server error"})");

    reply = get(server.port(), "/bad-status");
    CHECK(reply.status == 500);
    server.requireAlive();
}

TEST_CASE("HttpServer writes status, extra headers and drops unsafe ones", "[http]") {
    TestServer server;
    Reply reply = get(server.port(), "/created");
    CHECK(reply.status == 201);
    CHECK(reply.header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(reply.body == "made");
    CHECK(reply.header("Content-Length") == "4");  // ours, not the handler's 999
    std::vector<std::string> custom;
    for (auto it = reply.head.find("X-Custom"); it != reply.head.end() && it->first == "X-Custom"; ++it)
        custom.push_back(it->second);
    CHECK(custom == std::vector<std::string>{"one", "two"});
    CHECK_FALSE(reply.has("X-Bad"));
    CHECK_FALSE(reply.has("Injected"));

    Call del;
    del.method = "DELETE";
    del.uri = "/nothing";
    reply = send(server.port(), del);
    CHECK(reply.status == 204);
    CHECK_FALSE(reply.has("Content-Type"));
    CHECK(reply.body.empty());
    server.requireAlive();
}

TEST_CASE("HttpServer streams a writer's output chunked", "[http]") {
    TestServer server;
    const Reply reply = get(server.port(), "/stream");
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == "text/csv");
    CHECK(reply.head.getChunkedTransferEncoding());
    CHECK(reply.body.size() == kStreamBytes);
    CHECK(reply.body == streamPattern());
}

TEST_CASE("HttpServer cuts a failing stream instead of finishing it", "[http]") {
    TestServer server;
    const std::string raw = rawExchange(
        server.port(), "GET /broken-stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 200"));
    CHECK_THAT(raw, Catch::Contains("first part;"));
    // no terminating zero-length chunk: the client can tell the body is incomplete
    CHECK(raw.find("\r\n0\r\n\r\n") == std::string::npos);
    server.requireAlive();
}

TEST_CASE("HttpServer answers HEAD like GET without a body", "[http]") {
    TestServer server;
    Call head;
    head.method = "HEAD";
    head.uri = "/ping";
    Reply reply = send(server.port(), head);
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Length") == "13");
    CHECK(reply.body.empty());

    head.uri = "/me";
    CHECK(send(server.port(), head).status == 401);

    // HEAD of a streamed resource: no body at all, so the connection stays in step
    Poco::Net::HTTPClientSession session("127.0.0.1", server.port());
    session.setTimeout(Poco::Timespan(10, 0));
    session.setKeepAlive(true);
    head.uri = "/stream";
    reply = exchange(session, head);
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == "text/csv");
    CHECK(reply.body.empty());
    const Reply after = exchange(session, Call{});
    CHECK(after.status == 200);
    CHECK(after.body == R"({"pong":true})");
    server.requireAlive();
}

TEST_CASE("HttpServer keeps a keep-alive connection usable after errors", "[http]") {
    TestServer server;
    Poco::Net::HTTPClientSession session("127.0.0.1", server.port());
    session.setTimeout(Poco::Timespan(10, 0));
    session.setKeepAlive(true);
    Call call;
    call.uri = "/nowhere";
    CHECK(exchange(session, call).status == 404);
    call.uri = "/echo?x=%zz";
    CHECK(exchange(session, call).status == 400);
    call.uri = "/me";
    CHECK(exchange(session, call).status == 401);
    call.method = "POST";
    call.uri = "/echo";
    call.contentType = "application/x-www-form-urlencoded";
    call.body = "a=1";
    const Reply reply = exchange(session, call);
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, Catch::Contains(R"("params":[["a","1"]])"));
    call = Call{};
    CHECK(exchange(session, call).status == 200);
}

TEST_CASE("HttpServer survives raw protocol abuse", "[http]") {
    TestServer server;
    SECTION("unsupported transfer coding") {
        const std::string raw = rawExchange(server.port(),
                                            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                                            "Connection: close\r\n\r\nabc");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 501"));
    }
    SECTION("both Content-Length and chunked") {
        const std::string raw =
            rawExchange(server.port(),
                        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
    }
    SECTION("malformed chunk size") {
        const std::string raw = rawExchange(server.port(),
                                            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                            "Connection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
        CHECK_THAT(raw, Catch::Contains(R"({"error":"Malformed request body"})"));
    }
    SECTION("chunk data not followed by CRLF") {
        const std::string raw = rawExchange(server.port(),
                                            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                            "Connection: close\r\n\r\n2\r\nabc\r\n0\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
    }
    SECTION("chunk extensions and trailers are accepted") {
        const std::string raw =
            rawExchange(server.port(),
                        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n3;name=v\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 200"));
        CHECK_THAT(raw, Catch::Contains(R"("body":"abcde")"));
    }
    SECTION("chunked body cut short") {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
        const std::string request =
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
        socket.sendBytes(request.data(), static_cast<int>(request.size()));
        socket.shutdownSend();
        char buffer[1024];
        socket.setReceiveTimeout(Poco::Timespan(10, 0));
        const int count = socket.receiveBytes(buffer, sizeof buffer);
        const std::string raw(buffer, static_cast<std::size_t>(std::max(count, 0)));
        INFO(raw);
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
    }
    SECTION("body shorter than announced") {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
        const std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
        socket.sendBytes(request.data(), static_cast<int>(request.size()));
        socket.shutdownSend();
        char buffer[1024];
        socket.setReceiveTimeout(Poco::Timespan(10, 0));
        const int count = socket.receiveBytes(buffer, sizeof buffer);
        CHECK_THAT(std::string(buffer, static_cast<std::size_t>(std::max(count, 0))),
                   Catch::StartsWith("HTTP/1.1 400"));
    }
    SECTION("garbage request line") {
        const std::string raw = rawExchange(server.port(), "HELLO\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
    }
    SECTION("request target that is not a path") {
        const std::string raw =
            rawExchange(server.port(), "GET ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
        CHECK_THAT(raw, Catch::Contains(R"({"error":"Malformed request target"})"));
    }
    SECTION("absolute-form target") {
        const std::string raw = rawExchange(
            server.port(), "GET http://localhost/echo?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 200"));
        CHECK_THAT(raw, Catch::Contains(R"("path":"/echo","params":[["a","1"]])"));
    }
    SECTION("client disconnects mid-body") {
        {
            Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
            const std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc";
            socket.sendBytes(request.data(), static_cast<int>(request.size()));
        }
    }
    server.requireAlive();
}

TEST_CASE("HttpServer sends CORS headers only for configured origins", "[http]") {
    SECTION("not configured: no CORS headers, OPTIONS still answered") {
        TestServer server;
        const Reply reply = get(server.port(), "/ping", {{"Origin", "http://app.example"}});
        CHECK(reply.status == 200);
        CHECK_FALSE(reply.has("Access-Control-Allow-Origin"));
        Call options;
        options.method = "OPTIONS";
        options.uri = "/echo";
        options.headers = {{"Origin", "http://app.example"}, {"Access-Control-Request-Method", "POST"}};
        const Reply preflight = send(server.port(), options);
        CHECK(preflight.status == 204);
        CHECK(preflight.header("Allow") == "DELETE, GET, HEAD, OPTIONS, POST, PUT");
        CHECK_FALSE(preflight.has("Access-Control-Allow-Origin"));
    }
    SECTION("configured origin") {
        HttpServerOptions options;
        options.allowedOrigins = {"http://app.example"};
        TestServer server(options);
        Reply reply = get(server.port(), "/ping", {{"Origin", "http://app.example"}});
        CHECK(reply.header("Access-Control-Allow-Origin") == "http://app.example");
        CHECK(reply.header("Vary") == "Origin");
        reply = get(server.port(), "/nowhere", {{"Origin", "http://app.example"}});
        CHECK(reply.status == 404);
        CHECK(reply.header("Access-Control-Allow-Origin") == "http://app.example");
        reply = get(server.port(), "/ping", {{"Origin", "http://evil.example"}});
        CHECK_FALSE(reply.has("Access-Control-Allow-Origin"));

        Call preflight;
        preflight.method = "OPTIONS";
        preflight.uri = "/admin";  // an admin route: a preflight carries no token and needs none
        preflight.headers = {{"Origin", "http://app.example"}, {"Access-Control-Request-Method", "POST"}};
        reply = send(server.port(), preflight);
        CHECK(reply.status == 204);
        CHECK(reply.header("Access-Control-Allow-Origin") == "http://app.example");
        CHECK(reply.header("Access-Control-Allow-Methods") == "GET,POST,HEAD,PUT,DELETE");
        CHECK(reply.header("Access-Control-Allow-Headers") ==
              "X-Requested-With,Content-Type,Accept,Origin,Authorization,Content-Length");
        preflight.uri = "/unknown";
        CHECK(send(server.port(), preflight).status == 404);
        server.requireAlive();
    }
    SECTION("wildcard") {
        HttpServerOptions options;
        options.allowedOrigins = {"*"};
        TestServer server(options);
        const Reply reply = get(server.port(), "/ping", {{"Origin", "http://any.example"}});
        CHECK(reply.header("Access-Control-Allow-Origin") == "*");
    }
}

TEST_CASE("HttpServer serves concurrent clients", "[http]") {
    TestServer server;
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                try {
                    const std::string tag = std::to_string(t) + "-" + std::to_string(i);
                    const Reply reply = get(server.port(), "/items/" + tag, {{"Authorization", "usertoken"}});
                    if (reply.status == 200 &&
                        reply.body.find("\"id\":\"" + tag + "\"") != std::string::npos &&
                        reply.body.find("\"user\":\"ana\"") != std::string::npos)
                        ++ok;
                } catch (...) {
                }
            }
        });
    }
    for (auto& client : clients) client.join();
    CHECK(ok == 100);
}

TEST_CASE("HttpServer start, stop and bind failures", "[http]") {
    TestServer first;
    const std::uint16_t port = first.port();

    HttpServerOptions clash;
    clash.port = port;
    Router router;
    HttpServer second(router, nullptr, clash);
    try {
        second.start();
        FAIL("bound a port that is in use");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains(std::to_string(port)));
    }
    CHECK_FALSE(second.running());

    HttpServerOptions foreign;
    foreign.address = "192.0.2.1";  // TEST-NET-1: not an address of this machine
    foreign.port = 0;
    HttpServer third(router, nullptr, foreign);
    CHECK_THROWS_AS(third.start(), Error);

    CHECK_THROWS_AS(first.server().start(), Error);  // already running

    first.server().stop();
    CHECK_FALSE(first.server().running());
    CHECK_THROWS(get(port, "/ping"));  // nobody listens any more
    first.server().stop();             // idempotent

    // a stopped server can start again (on a new free port, as configured with 0)
    first.server().start();
    first.requireAlive();

    HttpServerOptions noThreads;
    noThreads.maxThreads = 0;
    CHECK_THROWS_AS(HttpServer(router, nullptr, noThreads), Error);
}
