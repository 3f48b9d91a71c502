#pragma once
/// @file web_service_provider.hpp
/// A WebServiceProvider adds HTTP routes to the server. They are mounted under
/// `/ext/<provider name>` and go through the same router, parameter parsing and access checks as
/// the built-in API.
///
/// Ownership: the handlers returned by routes() are kept by the host until the plugin set is
/// shut down.
/// Thread-safety: handlers are called concurrently from the HTTP worker threads.
/// @since 1.0

#include <functional>
#include <string>
#include <vector>

#include "tessera/sdk/http.hpp"
#include "tessera/sdk/provider.hpp"

namespace tessera::sdk {

/// @since 1.0
struct WebRoute {
    std::string method;  ///< GET, POST, PUT, DELETE
    /// Relative to the mount point, starting with `/` (`/hello`, `/items/{id}`); `/` alone is the
    /// mount point itself.
    std::string path;
    AccessPolicy policy = AccessPolicy::Admin;
    std::string summary;  ///< one line, for the route listing
    /// Throwing Error maps to its HTTP status; anything else thrown becomes a 500.
    std::function<HttpResponse(const HttpRequest&)> handler;
};

/// @since 1.0
class WebServiceProvider : public virtual Provider {
public:
    /// The routes to mount. Called once, after the set is configured.
    virtual std::vector<WebRoute> routes() = 0;
};

}  // namespace tessera::sdk
