#pragma once
/// @file http.hpp
/// HTTP request and response as plain values, so that web-service plugins never see the host's
/// HTTP library.
///
/// Thread-safety: value types.
/// @since 1.0

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::sdk {

/// Who may call a route. The host refuses a call without a token with 401, and a bad token or
/// a non-admin token on an Admin route with 403.
/// @since 1.0
enum class AccessPolicy {
    Public,  ///< anyone, no token needed
    User,    ///< any logged-in user
    Admin,   ///< logged-in administrators only
};

/// @since 1.0
inline constexpr std::string_view toString(AccessPolicy policy) noexcept {
    switch (policy) {
        case AccessPolicy::Public: return "public";
        case AccessPolicy::User: return "user";
        case AccessPolicy::Admin: return "admin";
    }
    return "admin";
}

/// @since 1.0
struct HttpRequest {
    std::string method;  ///< upper case
    std::string path;    ///< decoded path, without the query string
    /// Values of `{name}` segments of the route's path template.
    std::map<std::string, std::string> pathParams;
    /// Query-string parameters then form-body parameters, decoded, in order; a key may repeat.
    std::vector<std::pair<std::string, std::string>> params;
    /// Header names in lower case.
    std::map<std::string, std::string> headers;
    std::string body;  ///< raw body (empty for form bodies, which are already in params)
    std::string user;  ///< the logged-in user, empty on a public call without a token
    bool admin = false;

    /// First value of a parameter, or nullopt when absent. A bare `key` gives "".
    std::optional<std::string> param(std::string_view name) const {
        for (const auto& [key, value] : params)
            if (key == name) return value;
        return std::nullopt;
    }
    /// Every value of a repeated parameter, in order.
    std::vector<std::string> paramList(std::string_view name) const {
        std::vector<std::string> values;
        for (const auto& [key, value] : params)
            if (key == name) values.push_back(value);
        return values;
    }
    bool hasParam(std::string_view name) const { return param(name).has_value(); }
    std::optional<std::string> header(const std::string& lowerCaseName) const {
        auto it = headers.find(lowerCaseName);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
};

/// @since 1.0
struct HttpResponse {
    int status = 200;
    std::string contentType = "application/json";  ///< empty: no Content-Type header
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, the body is produced by this writer (streamed, chunked) instead of `body`.
    std::function<void(std::ostream&)> writer;

    static HttpResponse json(std::string jsonText, int status = 200) {
        HttpResponse r;
        r.status = status;
        r.body = std::move(jsonText);
        return r;
    }
    static HttpResponse text(std::string plain, int status = 200) {
        HttpResponse r;
        r.status = status;
        r.contentType = "text/plain; charset=utf-8";
        r.body = std::move(plain);
        return r;
    }
};

}  // namespace tessera::sdk
