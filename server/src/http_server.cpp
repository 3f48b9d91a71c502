#include "tessera/server/http_server.hpp"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/HTTPSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <ios>
#include <mutex>
#include <set>
#include <utility>

#include "tessera/sdk/error.hpp"
#include "tessera/server/error_mapping.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/url_encoding.hpp"

namespace tessera::server {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerRequestImpl;
using Poco::Net::HTTPServerResponse;

constexpr std::string_view kDefaultAddress = "127.0.0.1";
constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr std::string_view kCorsMethods = "GET,POST,HEAD,PUT,DELETE";
constexpr std::string_view kCorsHeaders =
    "X-Requested-With,Content-Type,Accept,Origin,Authorization,Content-Length";
constexpr std::string_view kCorsMaxAgeSeconds = "1800";
constexpr std::string_view kInternalError = "Internal server error";
// Generous enough for a slow client on a LAN, short enough that a stalled one frees its
// worker thread.
constexpr long kRequestTimeoutSeconds = 30;
constexpr long kKeepAliveTimeoutSeconds = 5;
constexpr int kMaxQueuedConnections = 64;
constexpr int kListenBacklog = 64;
// After refusing a body we keep reading (and discarding) for a short while before closing,
// so that the client, still sending, reads our 413 instead of a connection reset.
constexpr long kLingerMilliseconds = 2000;
constexpr std::size_t kMaxLingerBytes = 16u << 20;
constexpr std::size_t kReadChunkBytes = 16384;

std::string toLower(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return lower;
}

std::string toUpper(std::string_view text) {
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c); });
    return upper;
}

std::string_view trim(std::string_view text) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return text;
}

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && toLower(text.substr(0, prefix.size())) == prefix;
}

// The token from an Authorization header: bare (what dicoogle-client sends) or "Bearer <t>".
// The client sends the literal "null" after a logout: that is no token at all.
std::optional<std::string> tokenFromHeader(const std::optional<std::string>& header) {
    if (!header) return std::nullopt;
    std::string_view value = trim(*header);
    if (startsWithNoCase(value, "bearer") && (value.size() == 6 || value[6] == ' ' || value[6] == '\t'))
        value = trim(value.substr(6));
    if (value.empty() || value == "null") return std::nullopt;
    return std::string(value);
}

// The media type of a Content-Type value, lower case, without parameters.
std::string mediaTypeOf(const std::optional<std::string>& contentType) {
    if (!contentType) return {};
    std::string_view value = *contentType;
    value = value.substr(0, value.find(';'));
    return toLower(trim(value));
}

bool isHeaderNameChar(char c) {
    static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
}

bool isSafeHeader(const std::string& name, const std::string& value) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), isHeaderNameChar)) return false;
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Message framing is the server's business: a handler cannot set these.
bool isFramingHeader(const std::string& name) {
    const std::string lower = toLower(name);
    return lower == "content-length" || lower == "transfer-encoding" || lower == "connection";
}

// Poco's own chunked decoder takes a body cut short (no final zero-size chunk) or an
// unreadable chunk size for the end of the body, so a truncated upload would reach a handler as
// if it were whole. We decode chunked bodies ourselves, strictly, from the session's buffered
// bytes. HTTPSession's byte accessors are protected; a pointer to member formed through a
// derived class is the standard-conforming way to reach them.
class SessionBytes : public Poco::Net::HTTPSession {
public:
    static int nextByte(Poco::Net::HTTPSession& session) {
        int (Poco::Net::HTTPSession::*get)() = &SessionBytes::get;
        return (session.*get)();
    }
    static int readBytes(Poco::Net::HTTPSession& session, char* buffer, std::streamsize length) {
        int (Poco::Net::HTTPSession::*readMember)(char*, std::streamsize) = &SessionBytes::read;
        return (session.*readMember)(buffer, length);
    }
};

enum class ChunkedResult { Complete, Malformed, TooLarge };

constexpr std::size_t kMaxChunkLineBytes = 4096;
constexpr int kMaxTrailerLines = 64;

// One CRLF-terminated line (a bare LF is tolerated), without the terminator; nullopt at EOF
// or past kMaxChunkLineBytes. (HTTPSession::get() sign-extends, so a 0xFF byte reads as EOF:
// such a byte has no business in a chunk-size or trailer line, and the body is refused.)
std::optional<std::string> readLine(Poco::Net::HTTPSession& session) {
    std::string line;
    while (true) {
        const int c = SessionBytes::nextByte(session);
        if (c == std::char_traits<char>::eof()) return std::nullopt;
        if (c == '\n') break;
        if (line.size() >= kMaxChunkLineBytes) return std::nullopt;
        line.push_back(static_cast<char>(c));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

ChunkedResult readChunkedBody(Poco::Net::HTTPSession& session, std::size_t maxBytes, std::string& body) {
    std::array<char, kReadChunkBytes> buffer{};
    while (true) {
        const std::optional<std::string> line = readLine(session);
        if (!line) return ChunkedResult::Malformed;
        const std::string_view size = trim(std::string_view(*line).substr(0, line->find(';')));
        if (size.empty() || size.size() > 15 || !std::all_of(size.begin(), size.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) != 0;
            }))
            return ChunkedResult::Malformed;
        const std::uint64_t chunk = std::stoull(std::string(size), nullptr, 16);
        if (chunk == 0) break;
        if (chunk > maxBytes - body.size()) return ChunkedResult::TooLarge;
        std::uint64_t left = chunk;
        while (left > 0) {
            const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size()));
            const int count = SessionBytes::readBytes(session, buffer.data(), want);
            if (count <= 0) return ChunkedResult::Malformed;
            body.append(buffer.data(), static_cast<std::size_t>(count));
            left -= static_cast<std::uint64_t>(count);
        }
        const std::optional<std::string> end = readLine(session);
        if (!end || !end->empty()) return ChunkedResult::Malformed;
    }
    // Trailer fields (ignored) up to the empty line that ends the message.
    for (int i = 0; i < kMaxTrailerLines; ++i) {
        const std::optional<std::string> trailer = readLine(session);
        if (!trailer) return ChunkedResult::Malformed;
        if (trailer->empty()) return ChunkedResult::Complete;
    }
    return ChunkedResult::Malformed;
}

// What one exchange answers, before it is written.
struct Outgoing {
    sdk::HttpResponse response;
    bool close = false;   // close the connection after the response (body not consumed)
    bool linger = false;  // and drain the unread body for a while first
};

Outgoing refuse(int status, std::string_view message, bool close = false, bool linger = false) {
    return Outgoing{jsonError(status, message), close, linger};
}

}  // namespace

class HttpServer::Impl {
public:
    Impl(const Router& router, std::function<std::optional<Identity>(std::string_view)> authenticate,
         HttpServerOptions options)
        : router_(router),
          authenticate_(std::move(authenticate)),
          options_(std::move(options)),
          logger_(Poco::Logger::get("tessera.http")) {
        if (options_.maxThreads < 1)
            throw sdk::Error(sdk::ErrorCode::InvalidArgument, "HTTP maxThreads must be at least 1");
        if (options_.address.empty()) options_.address = std::string(kDefaultAddress);
        boundPort_ = options_.port;
    }

    void start();
    void stop();
    void handle(HTTPServerRequest& req, HTTPServerResponse& resp) noexcept;

    std::uint16_t port() const {
        std::lock_guard lock(mutex_);
        return boundPort_;
    }
    std::string address() const { return options_.address; }
    bool running() const {
        std::lock_guard lock(mutex_);
        return server_ != nullptr;
    }

private:
    Outgoing process(HTTPServerRequest& req, sdk::HttpRequest& request, bool& headOnly,
                     std::vector<std::pair<std::string, std::string>>& cors);
    std::optional<Outgoing> readBody(HTTPServerRequest& req, std::string& body) const;
    Outgoing callHandler(const sdk::WebRoute& route, const sdk::HttpRequest& request);
    void corsHeaders(const sdk::HttpRequest& request, bool preflight,
                     std::vector<std::pair<std::string, std::string>>& out) const;
    void write(HTTPServerRequest& req, HTTPServerResponse& resp, Outgoing& out, bool headOnly,
               const std::vector<std::pair<std::string, std::string>>& cors, const sdk::HttpRequest& request);
    void lingeringClose(HTTPServerRequest& req) const;

    class RequestHandler final : public Poco::Net::HTTPRequestHandler {
    public:
        explicit RequestHandler(Impl& impl) : impl_(impl) {}
        void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
            impl_.handle(req, resp);
        }

    private:
        Impl& impl_;
    };

    class RequestHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit RequestHandlerFactory(Impl& impl) : impl_(impl) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
            return new RequestHandler(impl_);
        }

    private:
        Impl& impl_;
    };

    const Router& router_;
    std::function<std::optional<Identity>(std::string_view)> authenticate_;
    HttpServerOptions options_;
    Poco::Logger& logger_;

    mutable std::mutex mutex_;  // guards the members below (start/stop/port)
    std::uint16_t boundPort_ = 0;
    // The pool is declared first so that it outlives the server that runs on it.
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

void HttpServer::Impl::start() {
    std::lock_guard lock(mutex_);
    if (server_) throw sdk::Error(sdk::ErrorCode::Conflict, "The HTTP server is already running");

    // A client that disconnects while we write must cost us an exception, not the process.
    // Leave the disposition alone if the application installed its own handler.
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
        std::signal(SIGPIPE, SIG_IGN);

    Poco::Net::ServerSocket socket;
    try {
        const Poco::Net::SocketAddress where(options_.address, options_.port);
        // SO_REUSEADDR only skips TIME_WAIT on restart; without SO_REUSEPORT a port that another
        // process listens on still fails here, as it must.
        socket.bind(where, /*reuseAddress=*/true, /*reusePort=*/false);
        socket.listen(kListenBacklog);
    } catch (const Poco::Exception& e) {
        throw sdk::Error(sdk::ErrorCode::Unavailable, "Cannot listen on " + options_.address + ":" +
                                                          std::to_string(options_.port) + ": " +
                                                          e.displayText());
    }

    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(kMaxQueuedConnections);
    params->setTimeout(Poco::Timespan(kRequestTimeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(kKeepAliveTimeoutSeconds, 0));
#ifdef TESSERA_VERSION
    params->setSoftwareVersion("Tessera/" TESSERA_VERSION);
#endif

    auto pool = std::make_unique<Poco::ThreadPool>(std::min(2, options_.maxThreads), options_.maxThreads);
    auto server =
        std::make_unique<Poco::Net::HTTPServer>(new RequestHandlerFactory(*this), *pool, socket, params);
    server->start();
    boundPort_ = socket.address().port();
    pool_ = std::move(pool);
    server_ = std::move(server);
    logger_.information(fmt::format("REST listening on {}:{}", options_.address, boundPort_));
}

void HttpServer::Impl::stop() {
    std::lock_guard lock(mutex_);
    if (!server_) return;
    // Not aborting: a request being handled finishes and is answered; idle keep-alive
    // connections are closed at once.
    server_->stopAll(false);
    pool_->joinAll();
    server_.reset();
    pool_.reset();
    logger_.information("REST stopped");
}

void HttpServer::Impl::handle(HTTPServerRequest& req, HTTPServerResponse& resp) noexcept {
    sdk::HttpRequest request;
    std::vector<std::pair<std::string, std::string>> cors;
    bool headOnly = false;
    Outgoing out;
    try {
        if (auto* impl = dynamic_cast<HTTPServerRequestImpl*>(&req)) impl->socket().setNoDelay(true);
        out = process(req, request, headOnly, cors);
    } catch (const std::exception& e) {
        logger_.error(
            fmt::format("{} {} failed before its handler: {}", request.method, request.path, e.what()));
        out = refuse(500, kInternalError, true);
    } catch (...) {
        logger_.error(fmt::format("{} {} failed before its handler", request.method, request.path));
        out = refuse(500, kInternalError, true);
    }
    try {
        write(req, resp, out, headOnly, cors, request);
    } catch (const std::exception& e) {
        // The client went away or the connection broke: nothing left to tell anyone.
        logger_.debug(
            fmt::format("{} {}: response not delivered: {}", request.method, request.path, e.what()));
    } catch (...) {
        logger_.debug(fmt::format("{} {}: response not delivered", request.method, request.path));
    }
}

Outgoing HttpServer::Impl::process(HTTPServerRequest& req, sdk::HttpRequest& request, bool& headOnly,
                                   std::vector<std::pair<std::string, std::string>>& cors) {
    request.method = toUpper(req.getMethod());
    headOnly = request.method == "HEAD";
    for (const auto& [name, value] : req) {
        auto [it, inserted] = request.headers.emplace(toLower(name), value);
        if (!inserted) it->second += ", " + value;  // repeated header = comma-joined list
    }
    corsHeaders(request, false, cors);

    // The body first, so that every later answer leaves the connection reusable.
    std::string body;
    if (auto refused = readBody(req, body)) return std::move(*refused);

    std::string target = req.getURI();
    if (startsWithNoCase(target, "http://") || startsWithNoCase(target, "https://")) {
        // absolute-form (RFC 9112 §3.2.2): keep only the path and query
        const std::size_t pathStart = target.find('/', target.find("//") + 2);
        target = pathStart == std::string::npos ? "/" : target.substr(pathStart);
    }
    target = target.substr(0, target.find('#'));
    const std::size_t queryStart = target.find('?');
    const std::string rawPath = target.substr(0, queryStart);
    const std::string_view rawQuery = queryStart == std::string::npos
                                          ? std::string_view()
                                          : std::string_view(target).substr(queryStart + 1);
    if (rawPath.empty() || rawPath.front() != '/') return refuse(400, "Malformed request target");

    // Decode segment by segment, so that %2F stays inside its segment.
    std::vector<std::string> segments;
    try {
        for (const std::string& raw : splitPath(rawPath)) {
            segments.push_back(urlDecode(raw, false));
            if (segments.back() == "." || segments.back() == "..")
                return refuse(400, "Malformed path: '.' and '..' segments are not allowed");
        }
        request.path = urlDecode(rawPath, false);
    } catch (const sdk::Error&) {
        return refuse(400, "Malformed path encoding");
    }

    try {
        parseUrlEncoded(rawQuery, request.params);
        if (mediaTypeOf(request.header("content-type")) == kFormContentType) {
            parseUrlEncoded(body, request.params);
            body.clear();
        }
    } catch (const sdk::Error& e) {
        return refuse(400, e.what());
    }
    request.body = std::move(body);

    RouteMatch match = router_.match(request.method, segments);
    if (match.kind != RouteMatch::Kind::Found && request.method == "HEAD") {
        RouteMatch asGet = router_.match("GET", segments);
        if (asGet.kind == RouteMatch::Kind::Found) match = std::move(asGet);
    }
    if (match.kind == RouteMatch::Kind::NotFound) return refuse(404, "Unknown resource: " + request.path);
    if (match.kind == RouteMatch::Kind::MethodNotAllowed) {
        std::set<std::string> allowed(match.allowedMethods.begin(), match.allowedMethods.end());
        if (allowed.count("GET") != 0) allowed.insert("HEAD");
        allowed.insert("OPTIONS");
        std::string allow;
        for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;

        if (request.method == "OPTIONS") {
            // A CORS preflight (or a plain OPTIONS) on a known path: no handler, no token.
            Outgoing out;
            out.response.status = 204;
            out.response.contentType.clear();
            out.response.headers.emplace_back("Allow", allow);
            cors.clear();
            corsHeaders(request, true, cors);
            return out;
        }
        Outgoing out = refuse(405, "Method " + request.method + " is not allowed on " + request.path);
        out.response.headers.emplace_back("Allow", allow);
        return out;
    }

    const sdk::WebRoute& route = *match.route;
    request.pathParams = std::move(match.pathParams);

    const std::optional<std::string> token = tokenFromHeader(request.header("authorization"));
    std::optional<Identity> identity;
    if (token && authenticate_) identity = authenticate_(*token);
    if (route.policy != sdk::AccessPolicy::Public) {
        if (!token) {
            Outgoing out = refuse(401, "Authentication required");
            out.response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tessera\"");
            return out;
        }
        if (!identity) return refuse(403, "Invalid or expired token");
        if (route.policy == sdk::AccessPolicy::Admin && !identity->admin)
            return refuse(403, "Administrator rights required");
    }
    if (identity) {
        request.user = identity->user;
        request.admin = identity->admin;
    }
    return callHandler(route, request);
}

std::optional<Outgoing> HttpServer::Impl::readBody(HTTPServerRequest& req, std::string& body) const {
    const bool chunked = req.getChunkedTransferEncoding();
    if (req.has("Transfer-Encoding") && !chunked) return refuse(501, "Unsupported Transfer-Encoding", true);
    if (chunked && req.hasContentLength())
        return refuse(400, "Both Content-Length and Transfer-Encoding given", true);

    const std::string tooLarge =
        "Request body too large (limit " + std::to_string(options_.maxBodyBytes) + " bytes)";
    Poco::Int64 expected = -1;
    if (req.hasContentLength()) {
        try {
            expected = req.getContentLength64();
        } catch (const Poco::Exception&) {
            return refuse(400, "Malformed Content-Length", true);
        }
        if (expected < 0) return refuse(400, "Malformed Content-Length", true);
        if (static_cast<std::uint64_t>(expected) > options_.maxBodyBytes)
            return refuse(413, tooLarge, true, true);
    }
    // Without Content-Length or chunking a request has no body (RFC 9112 §6.3); reading to
    // the end of the connection, as Poco would, would stall a keep-alive client.
    if (!chunked && expected < 0) return std::nullopt;

    try {
        if (chunked) {
            auto* impl = dynamic_cast<HTTPServerRequestImpl*>(&req);
            if (impl == nullptr) return refuse(500, kInternalError, true);
            switch (readChunkedBody(impl->session(), options_.maxBodyBytes, body)) {
                case ChunkedResult::Complete: return std::nullopt;
                case ChunkedResult::TooLarge: return refuse(413, tooLarge, true, true);
                case ChunkedResult::Malformed: return refuse(400, "Malformed request body", true);
            }
        }
        std::istream& in = req.stream();
        in.exceptions(std::ios::badbit);  // so that a read error surfaces with its real cause
        std::array<char, kReadChunkBytes> buffer{};
        while (true) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            const auto count = static_cast<std::size_t>(in.gcount());
            if (body.size() + count > options_.maxBodyBytes) return refuse(413, tooLarge, true, true);
            body.append(buffer.data(), count);
            if (count < buffer.size()) break;
        }
    } catch (const Poco::TimeoutException&) {
        return refuse(408, "Timed out reading the request body", true);
    } catch (const std::exception&) {
        return refuse(400, "Malformed request body", true);
    }
    if (expected >= 0 && body.size() != static_cast<std::uint64_t>(expected))
        return refuse(400, "Request body shorter than its Content-Length", true);
    return std::nullopt;
}

Outgoing HttpServer::Impl::callHandler(const sdk::WebRoute& route, const sdk::HttpRequest& request) {
    try {
        return Outgoing{route.handler(request), false, false};
    } catch (const sdk::Error& e) {
        const int status = httpStatusFor(e.code());
        if (status >= 500)
            logger_.error(fmt::format("{} {}: {}: {}", request.method, request.path, sdk::toString(e.code()),
                                      e.what()));
        return refuse(status, e.what());
    } catch (const std::exception& e) {
        logger_.error(fmt::format("{} {}: unexpected exception: {}", request.method, request.path, e.what()));
    } catch (...) {
        logger_.error(fmt::format("{} {}: unexpected non-standard exception", request.method, request.path));
    }
    return refuse(500, kInternalError);
}

void HttpServer::Impl::corsHeaders(const sdk::HttpRequest& request, bool preflight,
                                   std::vector<std::pair<std::string, std::string>>& out) const {
    if (options_.allowedOrigins.empty()) return;
    const std::optional<std::string> origin = request.header("origin");
    if (!origin) return;
    const auto& allowed = options_.allowedOrigins;
    if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
        out.emplace_back("Access-Control-Allow-Origin", "*");
    } else if (std::find(allowed.begin(), allowed.end(), *origin) != allowed.end()) {
        out.emplace_back("Access-Control-Allow-Origin", *origin);
        out.emplace_back("Vary", "Origin");
    } else {
        return;
    }
    if (preflight) {
        out.emplace_back("Access-Control-Allow-Methods", std::string(kCorsMethods));
        out.emplace_back("Access-Control-Allow-Headers", std::string(kCorsHeaders));
        out.emplace_back("Access-Control-Max-Age", std::string(kCorsMaxAgeSeconds));
    }
}

void HttpServer::Impl::write(HTTPServerRequest& req, HTTPServerResponse& resp, Outgoing& out, bool headOnly,
                             const std::vector<std::pair<std::string, std::string>>& cors,
                             const sdk::HttpRequest& request) {
    sdk::HttpResponse& response = out.response;
    if (response.status < 200 || response.status > 599) {
        logger_.error(fmt::format("{} {}: handler returned HTTP status {}", request.method, request.path,
                                  response.status));
        response = jsonError(500, kInternalError);
    }
    resp.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(response.status));
    if (out.close) resp.setKeepAlive(false);
    if (!response.contentType.empty()) resp.setContentType(response.contentType);
    for (const auto& [name, value] : response.headers) {
        if (!isSafeHeader(name, value) || isFramingHeader(name)) {
            logger_.warning(fmt::format("{} {}: dropped response header '{}'", request.method, request.path,
                                        jsonQuote(name)));
            continue;
        }
        resp.add(name, value);
    }
    for (const auto& [name, value] : cors) resp.set(name, value);

    // 204 and 304 carry no body and no Content-Length (RFC 9110 §8.6).
    const bool noBody = headOnly || response.status == 204 || response.status == 304;
    if (response.writer && !noBody) {
        resp.setChunkedTransferEncoding(true);
        std::ostream& os = resp.send();
        bool complete = false;
        try {
            response.writer(os);
            os.flush();
            complete = static_cast<bool>(os);
            if (!complete)
                logger_.debug(fmt::format("{} {}: client went away during a streamed response",
                                          request.method, request.path));
        } catch (const std::exception& e) {
            logger_.error(
                fmt::format("{} {}: streamed response failed: {}", request.method, request.path, e.what()));
        } catch (...) {
            logger_.error(fmt::format("{} {}: streamed response failed", request.method, request.path));
        }
        if (!complete) {
            // Cut the connection before the last chunk, so the client sees a broken response
            // rather than a complete-looking truncated one.
            resp.setKeepAlive(false);
            if (auto* impl = dynamic_cast<HTTPServerRequestImpl*>(&req)) impl->socket().shutdown();
        }
        return;
    }
    if (response.status != 204 && response.status != 304) {
        if (response.writer)
            resp.setChunkedTransferEncoding(true);  // HEAD of a streamed resource: length unknown
        else
            resp.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
    }
    std::ostream& os = resp.send();
    if (!noBody) os.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    os.flush();
    if (out.linger) lingeringClose(req);
}

void HttpServer::Impl::lingeringClose(HTTPServerRequest& req) const {
    auto* impl = dynamic_cast<HTTPServerRequestImpl*>(&req);
    if (impl == nullptr) return;
    Poco::Net::StreamSocket& socket = impl->socket();
    try {
        socket.shutdownSend();
        const Poco::Timestamp started;
        std::array<char, kReadChunkBytes> buffer{};
        std::size_t drained = 0;
        while (drained < kMaxLingerBytes) {
            const Poco::Timestamp::TimeDiff leftMicros = kLingerMilliseconds * 1000 - started.elapsed();
            if (leftMicros <= 0) break;
            socket.setReceiveTimeout(Poco::Timespan(leftMicros));
            const int count = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
            if (count <= 0) break;
            drained += static_cast<std::size_t>(count);
        }
    } catch (const Poco::Exception&) {
        // timeout or reset: either way we are done with this connection
    }
}

HttpServer::HttpServer(const Router& router,
                       std::function<std::optional<Identity>(std::string_view token)> authenticate,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(authenticate), std::move(options))) {}

HttpServer::~HttpServer() {
    try {
        impl_->stop();
    } catch (...) {
        // a destructor must not throw; stop() only fails when Poco does
    }
}

void HttpServer::start() { impl_->start(); }
void HttpServer::stop() { impl_->stop(); }
std::uint16_t HttpServer::port() const { return impl_->port(); }
std::string HttpServer::address() const { return impl_->address(); }
bool HttpServer::running() const { return impl_->running(); }

std::optional<std::string> authorizationToken(const sdk::HttpRequest& request) {
    return tokenFromHeader(request.header("authorization"));
}

}  // namespace tessera::server
