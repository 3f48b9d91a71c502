// Walks the server's whole route table (GET /routes) and checks that every route refuses what
// its policy says: no token → 401, unknown token → 403, a non-admin on an admin route → 403.
// The public routes are an explicit list here: a route that becomes public by mistake fails.
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

using tessera::test::parseObject;
using tessera::test::ServerProcess;

namespace {

// Replaces {name} and {rest*} segments with sample values so the path matches the template.
std::string samplePath(const std::string& pathTemplate) {
    static const std::regex kParam(R"(\{[A-Za-z0-9_]+\*?\})");
    return std::regex_replace(pathTemplate, kParam, "sample");
}

const std::set<std::string> kExpectedPublic = {
    "POST /login", "GET /login", "POST /logout", "GET /logout", "GET /ext/version", "GET /health",
    "GET /ext/hello/greeting",  // the example plugin declares its route public
};

}  // namespace

TEST_CASE("every route declares a policy and refuses callers accordingly", "[security]") {
    ServerProcess server({"--plugin-dir", TESSERA_EXAMPLE_PLUGIN_DIR});
    const auto admin = server.login();
    server.request("POST", "/user?username=plainuser&password=pw-123&admin=false", admin);
    const auto user = server.login("plainuser", "pw-123");

    auto routes = parseObject(server.request("GET", "/routes", admin).body)->getArray("routes");
    REQUIRE(routes->size() >= 15);
    std::set<std::string> publicRoutes;
    for (std::size_t i = 0; i < routes->size(); ++i) {
        auto entry = routes->getObject(static_cast<unsigned>(i));
        const auto method = entry->getValue<std::string>("method");
        const auto path = entry->getValue<std::string>("path");
        const auto policy = entry->getValue<std::string>("policy");
        const auto name = method + " " + path;
        INFO(name << " (" << policy << ")");
        REQUIRE((policy == "public" || policy == "user" || policy == "admin"));
        CHECK_FALSE(entry->getValue<std::string>("summary").empty());
        if (policy == "public") {
            publicRoutes.insert(name);
            continue;
        }
        const auto target = samplePath(path);
        auto anonymous = server.request(method, target);
        CHECK(anonymous.status == 401);
        CHECK(parseObject(anonymous.body)->has("error"));
        auto forged = server.request(method, target, "00000000-0000-4000-8000-000000000000");
        CHECK(forged.status == 403);
        CHECK(parseObject(forged.body)->has("error"));
        if (policy == "admin") {
            auto nonAdmin = server.request(method, target, user);
            CHECK(nonAdmin.status == 403);
            CHECK(parseObject(nonAdmin.body)->has("error"));
        }
    }
    CHECK(publicRoutes == kExpectedPublic);
}
