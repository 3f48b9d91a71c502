#pragma once
// The REST transport: a Poco HTTP server that turns each request into an sdk::HttpRequest,
// routes it through a Router, checks the route's access policy and writes the handler's
// sdk::HttpResponse back. Every failure becomes a JSON `{"error":...}` answer and the server
// keeps serving.
//
// Thread-safety: start(), stop() and the destructor are serialised internally, but must not be
// called from a route handler (stop() waits for running handlers). port() and address() may be
// called from any thread. Handlers and `authenticate` run concurrently on worker threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/server/router.hpp"

namespace tessera::server {

struct Identity {
    std::string user;
    bool admin = false;
};

struct HttpServerOptions {
    std::string address = "127.0.0.1";        // empty means 127.0.0.1 too
    std::uint16_t port = 8080;                // 0 = pick a free port
    std::size_t maxBodyBytes = 3325000;       // Dicoogle's form size limit
    int maxThreads = 16;                      // at least 1
    std::vector<std::string> allowedOrigins;  // empty: no CORS headers; "*" allows any origin
};

class HttpServer {
public:
    // `authenticate` maps a token (already stripped of "Bearer ") to an identity, or nullopt
    // for an unknown/expired one. Router must outlive the server.
    // Throws sdk::Error(InvalidArgument) for options that cannot work (maxThreads < 1).
    HttpServer(const Router& router,
               std::function<std::optional<Identity>(std::string_view token)> authenticate,
               HttpServerOptions options);
    ~HttpServer();  // stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; throws sdk::Error(Unavailable) when it can't bind, and
    // sdk::Error(Conflict) when already started. May be called again after stop().
    void start();
    // Stops accepting, lets running requests finish, closes idle connections. Idempotent.
    void stop();
    std::uint16_t port() const;   // the bound port (after start); the configured one before
    std::string address() const;  // the address listened on
    bool running() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

/// The session token a request carries in `Authorization`: bare (what dicoogle-client sends) or
/// after `Bearer `; nullopt when absent, empty or the literal `null` the client sends after a
/// logout. The same rule the server applies before a handler runs.
std::optional<std::string> authorizationToken(const sdk::HttpRequest& request);

}  // namespace tessera::server
