#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/server/router.hpp"

using tessera::sdk::AccessPolicy;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::sdk::HttpRequest;
using tessera::sdk::HttpResponse;
using tessera::sdk::WebRoute;
using tessera::server::RouteMatch;
using tessera::server::Router;
using tessera::server::splitPath;
using Kind = RouteMatch::Kind;

namespace {

// Every route answers its own "METHOD template", so a match can be checked by calling it.
WebRoute route(std::string method, std::string path, AccessPolicy policy = AccessPolicy::Public) {
    const std::string name = method + " " + path;
    return WebRoute{std::move(method), std::move(path), policy, "test route " + name,
                    [name](const HttpRequest&) { return HttpResponse::text(name); }};
}

std::string target(const RouteMatch& match) {
    REQUIRE(match.kind == Kind::Found);
    REQUIRE(match.route != nullptr);
    return match.route->handler(HttpRequest{}).body;
}

ErrorCode addError(Router& router, WebRoute r) {
    try {
        router.add(std::move(r));
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("add() accepted a bad route");
    return ErrorCode::Internal;
}

Router dicoogleLikeRouter() {
    Router router;
    router.add(route("GET", "/search"));
    router.add(route("GET", "/searchDIM"));
    router.add(route("POST", "/login"));
    router.add(route("GET", "/login"));
    router.add(route("GET", "/user", AccessPolicy::Admin));
    router.add(route("POST", "/user", AccessPolicy::Admin));
    router.add(route("DELETE", "/user/{username}", AccessPolicy::Admin));
    router.add(route("GET", "/management/settings/index/{field}"));
    router.add(route("GET", "/management/settings/index/thumbnail/size"));
    router.add(route("GET", "/ext/{plugin}/{rest*}"));
    router.add(route("GET", "/"));
    return router;
}

}  // namespace

TEST_CASE("splitPath", "[router]") {
    CHECK(splitPath("/") == std::vector<std::string>{});
    CHECK(splitPath("/a") == std::vector<std::string>{"a"});
    CHECK(splitPath("/a/b") == std::vector<std::string>{"a", "b"});
    CHECK(splitPath("/a/") == std::vector<std::string>{"a", ""});
    CHECK(splitPath("//a") == std::vector<std::string>{"", "a"});
}

TEST_CASE("Router matches literal routes exactly", "[router]") {
    const Router router = dicoogleLikeRouter();
    CHECK(target(router.match("GET", "/search")) == "GET /search");
    CHECK(target(router.match("GET", "/searchDIM")) == "GET /searchDIM");
    CHECK(target(router.match("POST", "/login")) == "POST /login");
    CHECK(target(router.match("GET", "/login")) == "GET /login");
    CHECK(target(router.match("GET", "/")) == "GET /");
    CHECK(router.match("GET", "/search").pathParams.empty());

    CHECK(router.match("GET", "/searc").kind == Kind::NotFound);
    CHECK(router.match("GET", "/search/").kind == Kind::NotFound);  // trailing slash is a different path
    CHECK(router.match("GET", "//search").kind == Kind::NotFound);
    CHECK(router.match("GET", "/Search").kind == Kind::NotFound);  // case-sensitive
    CHECK(router.match("GET", "/search/x").kind == Kind::NotFound);
    CHECK(router.match("GET", "search").kind == Kind::NotFound);  // not a path
    CHECK(router.match("GET", "").kind == Kind::NotFound);
}

TEST_CASE("Router binds {name} and {rest*} parameters", "[router]") {
    const Router router = dicoogleLikeRouter();
    const RouteMatch user = router.match("DELETE", "/user/alice");
    CHECK(target(user) == "DELETE /user/{username}");
    CHECK(user.pathParams == std::map<std::string, std::string>{{"username", "alice"}});

    const RouteMatch field = router.match("GET", "/management/settings/index/path");
    CHECK(field.pathParams.at("field") == "path");

    const RouteMatch deep = router.match("GET", "/ext/viewer/static/js/app.js");
    CHECK(target(deep) == "GET /ext/{plugin}/{rest*}");
    CHECK(deep.pathParams ==
          std::map<std::string, std::string>{{"plugin", "viewer"}, {"rest", "static/js/app.js"}});

    // the rest may be empty, with or without the final slash
    CHECK(router.match("GET", "/ext/viewer").pathParams.at("rest") == "");
    CHECK(router.match("GET", "/ext/viewer/").pathParams.at("rest") == "");
    CHECK(router.match("GET", "/ext/viewer/a//b").pathParams.at("rest") == "a//b");

    // a {name} never matches an empty segment
    CHECK(router.match("DELETE", "/user/").kind == Kind::NotFound);
    CHECK(router.match("GET", "/ext//x").kind == Kind::NotFound);
}

TEST_CASE("Router segment overload keeps encoded slashes inside a segment", "[router]") {
    const Router router = dicoogleLikeRouter();
    const RouteMatch match = router.match("DELETE", std::vector<std::string>{"user", "a/b"});
    CHECK(target(match) == "DELETE /user/{username}");
    CHECK(match.pathParams.at("username") == "a/b");
    // the string overload splits on every '/'
    CHECK(router.match("DELETE", "/user/a/b").kind == Kind::NotFound);
}

TEST_CASE("Router prefers literals over parameters over rest", "[router]") {
    Router router;
    router.add(route("GET", "/items/{id}"));
    router.add(route("GET", "/items/special"));  // added after the parameter route: still wins
    router.add(route("GET", "/items/{id}/{rest*}"));
    router.add(route("GET", "/items/{id}/meta"));
    router.add(route("GET", "/{anything*}"));

    CHECK(target(router.match("GET", "/items/special")) == "GET /items/special");
    CHECK(target(router.match("GET", "/items/other")) == "GET /items/{id}");
    CHECK(target(router.match("GET", "/items/7/meta")) == "GET /items/{id}/meta");
    CHECK(target(router.match("GET", "/items/7/meta/x")) == "GET /items/{id}/{rest*}");
    CHECK(target(router.match("GET", "/items/7/other")) == "GET /items/{id}/{rest*}");
    CHECK(target(router.match("GET", "/items")) == "GET /{anything*}");
    CHECK(target(router.match("GET", "/")) == "GET /{anything*}");
    CHECK(router.match("GET", "/").pathParams.at("anything") == "");

    // backtracking: the literal branch leads nowhere, the parameter branch matches
    Router backtrack;
    backtrack.add(route("GET", "/a/b"));
    backtrack.add(route("GET", "/a/{x}/c"));
    CHECK(target(backtrack.match("GET", "/a/b/c")) == "GET /a/{x}/c");
    CHECK(backtrack.match("GET", "/a/b/c").pathParams.at("x") == "b");
}

TEST_CASE("Router precedence is per method", "[router]") {
    Router router;
    router.add(route("GET", "/user/{name}"));
    router.add(route("DELETE", "/user/x"));
    CHECK(target(router.match("GET", "/user/x")) == "GET /user/{name}");
    CHECK(target(router.match("DELETE", "/user/x")) == "DELETE /user/x");
    const RouteMatch wrong = router.match("DELETE", "/user/y");
    CHECK(wrong.kind == Kind::MethodNotAllowed);
    CHECK(wrong.allowedMethods == std::vector<std::string>{"GET"});
}

TEST_CASE("Router tells 405 from 404 and lists the allowed methods", "[router]") {
    const Router router = dicoogleLikeRouter();
    const RouteMatch put = router.match("PUT", "/user");
    CHECK(put.kind == Kind::MethodNotAllowed);
    CHECK(put.route == nullptr);
    CHECK(put.allowedMethods == std::vector<std::string>{"GET", "POST"});

    const RouteMatch del = router.match("DELETE", "/login");
    CHECK(del.kind == Kind::MethodNotAllowed);
    CHECK(del.allowedMethods == std::vector<std::string>{"GET", "POST"});

    const RouteMatch unknown = router.match("PUT", "/nothing/here");
    CHECK(unknown.kind == Kind::NotFound);
    CHECK(unknown.allowedMethods.empty());

    // methods are case-sensitive: the server upper-cases before matching
    CHECK(router.match("get", "/search").kind == Kind::MethodNotAllowed);
}

TEST_CASE("Router refuses duplicate routes", "[router]") {
    Router router;
    router.add(route("GET", "/items/{id}"));
    CHECK(addError(router, route("GET", "/items/{id}")) == ErrorCode::Conflict);
    CHECK(addError(router, route("GET", "/items/{other}")) == ErrorCode::Conflict);  // same shape
    router.add(route("POST", "/items/{id}"));                                        // other method: fine
    router.add(route("GET", "/items/{id}/{r*}"));                                    // other shape: fine
    CHECK(addError(router, route("GET", "/items/{x}/{y*}")) == ErrorCode::Conflict);
    CHECK(router.routes().size() == 3);
    // the refused routes changed nothing
    CHECK(target(router.match("GET", "/items/1")) == "GET /items/{id}");
}

TEST_CASE("Router refuses malformed templates", "[router]") {
    Router router;
    const std::vector<std::string> badPaths = {
        "",       "items",  "/items/", "//items",         "/a//b",   "/{",   "/{}",  "/{id",
        "/x{id}", "/{id}x", "/{a b}",  "/{id}/{id}",      "/{r*}/x", "/{*}", "/a b", "/a%20b",
        "/a?b",   "/a#b",   "/a}",     "/{id}/{r*}/{s*}",
    };
    for (const std::string& path : badPaths) {
        INFO(path);
        CHECK(addError(router, route("GET", path)) == ErrorCode::InvalidArgument);
    }
    for (const char* method : {"", "get", "G ET", "GET1"}) {
        INFO(method);
        CHECK(addError(router, route(method, "/ok")) == ErrorCode::InvalidArgument);
    }
    WebRoute noHandler = route("GET", "/ok");
    noHandler.handler = nullptr;
    CHECK(addError(router, std::move(noHandler)) == ErrorCode::InvalidArgument);
    CHECK(router.routes().empty());
    CHECK(router.match("GET", "/ok").kind == Kind::NotFound);
}

TEST_CASE("Router lists routes in add order with their metadata", "[router]") {
    const Router router = dicoogleLikeRouter();
    const auto routes = router.routes();
    REQUIRE(routes.size() == 11);
    CHECK(routes.front()->method == "GET");
    CHECK(routes.front()->path == "/search");
    CHECK(routes[4]->path == "/user");
    CHECK(routes[4]->policy == AccessPolicy::Admin);
    CHECK(routes[4]->summary == "test route GET /user");
    CHECK(routes.back()->path == "/");
    // the pointers are the ones match() returns
    CHECK(router.match("GET", "/user").route == routes[4]);
}

TEST_CASE("Router is movable and keeps route pointers stable", "[router]") {
    Router first;
    first.add(route("GET", "/a"));
    const WebRoute* before = first.routes().front();
    Router second = std::move(first);
    for (int i = 0; i < 100; ++i) second.add(route("GET", "/n" + std::to_string(i)));
    CHECK(second.routes().front() == before);
    CHECK(second.match("GET", "/a").route == before);
}
