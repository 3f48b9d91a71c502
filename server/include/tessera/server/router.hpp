#pragma once
// The one route table of the REST API: built-in routes and plugin routes alike.
//
// Thread-safety: add() is not synchronised; call it during start-up (or under the caller's own
// lock, with no concurrent match()). match() and routes() are const and may run concurrently.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/web_service_provider.hpp"

namespace tessera::server {

struct RouteMatch {
    enum class Kind { Found, NotFound, MethodNotAllowed } kind;
    const sdk::WebRoute* route = nullptr;           // when Found
    std::map<std::string, std::string> pathParams;  // when Found
    std::vector<std::string> allowedMethods;        // when MethodNotAllowed (sorted)
};

class Router {
public:
    Router();
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Path templates: literal segments, `{name}` = one segment, a final `{name*}` = the rest
    // (possibly empty, may contain '/'). Throws sdk::Error(Conflict) on a duplicate method+template
    // and sdk::Error(InvalidArgument) on a malformed template.
    //
    // Two templates that differ only in parameter names (`/a/{x}`, `/a/{y}`) are duplicates.
    // The method must be upper case letters; the handler must be set. A template starts with
    // '/', has no empty segment (so no trailing '/', except `/` alone) and no '%', '?', '#',
    // '{' or '}' in a literal segment; parameter names are [A-Za-z0-9_-]+ and unique.
    void add(sdk::WebRoute route);

    // Literal segments beat parameters (so /user/{name} doesn't shadow a literal /user/x if added).
    //
    // `path` is already decoded and starts with '/'; it is split on '/'. Precedence is per
    // method: when /user/x only has DELETE and /user/{name} has GET, GET /user/x finds the
    // latter. A `{name}` never matches an empty segment; `{rest*}` matches "/base" and
    // "/base/" with "" as well as "/base/a/b" with "a/b". MethodNotAllowed lists the methods of
    // every template that matches the path.
    RouteMatch match(std::string_view method, std::string_view path) const;

    // The same on a path already split into decoded segments ("/a/b" -> {"a","b"}, "/" -> {}),
    // so that an encoded slash (%2F) stays inside one segment.
    RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;

    std::vector<const sdk::WebRoute*> routes() const;  // every route, in add order

private:
    struct Node;
    struct Entry;
    std::unique_ptr<Node> root_;
    std::vector<std::unique_ptr<Entry>> entries_;
};

/// Splits a path starting with '/' into its segments: "/" -> {}, "/a/b" -> {"a","b"},
/// "/a/" -> {"a",""}. Empty segments are kept (they never match a template).
std::vector<std::string> splitPath(std::string_view path);

}  // namespace tessera::server
