// Accounts over real HTTP against the real binary: login, session restore, logout, users.
#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

using tessera::test::parseObject;
using tessera::test::ServerProcess;

TEST_CASE("login returns Dicoogle's shape and a token that GET /login accepts", "[accounts]") {
    ServerProcess server;
    auto response = server.request("POST", "/login", {}, "username=dicoogle&password=dicoogle");
    REQUIRE(response.status == 200);
    REQUIRE(response.contentType.find("application/json") == 0);
    auto body = parseObject(response.body);
    CHECK(body->getValue<std::string>("user") == "dicoogle");
    CHECK(body->getValue<bool>("admin"));
    CHECK(body->getArray("roles"));
    const auto token = body->getValue<std::string>("token");
    REQUIRE(token.size() >= 32);

    for (const std::string& header : {token, "Bearer " + token}) {
        auto who = server.request("GET", "/login", header);
        REQUIRE(who.status == 200);
        auto whoBody = parseObject(who.body);
        CHECK(whoBody->getValue<std::string>("user") == "dicoogle");
        CHECK(whoBody->getValue<bool>("admin"));
        CHECK_FALSE(whoBody->has("token"));
    }
}

TEST_CASE("login refuses bad or missing credentials with 401 JSON", "[accounts]") {
    ServerProcess server;
    for (const char* form : {"username=dicoogle&password=wrong", "username=nobody&password=dicoogle",
                                   "username=dicoogle", "password=dicoogle"}) {
        auto response = server.request("POST", "/login", {}, form);
        CHECK(response.status == 401);
        CHECK(parseObject(response.body)->has("error"));
    }
    // Query-string credentials work too (Dicoogle's servlets read both).
    CHECK(server.request("POST", "/login?username=dicoogle&password=dicoogle").status == 200);
}

TEST_CASE("GET /login without or with an unknown token is 401", "[accounts]") {
    ServerProcess server;
    CHECK(server.request("GET", "/login").status == 401);
    CHECK(server.request("GET", "/login", "not-a-token").status == 401);
    CHECK(server.request("GET", "/login", "null").status == 401);
}

TEST_CASE("logout revokes the token and says so", "[accounts]") {
    ServerProcess server;
    const auto token = server.login();
    auto out = server.request("POST", "/logout", token);
    REQUIRE(out.status == 200);
    CHECK(parseObject(out.body)->getValue<bool>("success"));
    CHECK(server.request("GET", "/login", token).status == 401);
    CHECK(server.request("GET", "/user", token).status == 403);
    // A second logout with the same token, or none, reports false.
    CHECK_FALSE(parseObject(server.request("POST", "/logout", token).body)->getValue<bool>("success"));
    CHECK_FALSE(parseObject(server.request("GET", "/logout").body)->getValue<bool>("success"));
    // GET /logout (the client's fallback) revokes too.
    const auto second = server.login();
    CHECK(parseObject(server.request("GET", "/logout", second).body)->getValue<bool>("success"));
    CHECK(server.request("GET", "/login", second).status == 401);
}

TEST_CASE("each login gets its own token and logging one out leaves the other", "[accounts]") {
    ServerProcess server;
    const auto first = server.login();
    const auto second = server.login();
    CHECK(first != second);
    server.request("POST", "/logout", first);
    CHECK(server.request("GET", "/login", second).status == 200);
}

TEST_CASE("users: add with POST and PUT, list, delete by path and by query", "[accounts]") {
    ServerProcess server;
    const auto admin = server.login();

    auto added = server.request("POST", "/user?username=alice&password=secret1&admin=false", admin);
    REQUIRE(added.status == 200);
    CHECK(parseObject(added.body)->getValue<bool>("success"));
    // Dicoogle 2 form, as client 5.1.0 sends it.
    CHECK(parseObject(server.request("PUT", "/user?username=bob&password=secret2&admin=true", admin).body)
              ->getValue<bool>("success"));
    // Duplicate → success false.
    CHECK_FALSE(parseObject(server.request("POST", "/user?username=alice&password=x", admin).body)->getValue<bool>("success"));
    // Missing password → 400 JSON.
    auto noPassword = server.request("POST", "/user?username=carol", admin);
    CHECK(noPassword.status == 400);
    CHECK(parseObject(noPassword.body)->has("error"));

    auto list = parseObject(server.request("GET", "/user", admin).body)->getArray("users");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i) names.push_back(list->getObject(static_cast<unsigned>(i))->getValue<std::string>("username"));
    CHECK(names == std::vector<std::string>{"alice", "bob", "dicoogle"});

    // The new users can log in; bob is admin, alice is not.
    const auto alice = server.login("alice", "secret1");
    const auto bob = server.login("bob", "secret2");
    CHECK(server.request("GET", "/user", alice).status == 403);
    CHECK(server.request("GET", "/user", bob).status == 200);

    CHECK(parseObject(server.request("DELETE", "/user/alice", admin).body)->getValue<bool>("success"));
    CHECK(parseObject(server.request("DELETE", "/user?username=bob", admin).body)->getValue<bool>("success"));
    CHECK_FALSE(parseObject(server.request("DELETE", "/user/nobody", admin).body)->getValue<bool>("success"));
    auto noName = server.request("DELETE", "/user", admin);
    CHECK(noName.status == 400);
    CHECK(parseObject(noName.body)->getValue<std::string>("error") == "Username not provided");
    // Deleted users' sessions end with them.
    CHECK(server.request("GET", "/login", alice).status == 401);
    CHECK(server.request("GET", "/login", bob).status == 401);
}

TEST_CASE("the last administrator cannot be deleted", "[accounts]") {
    ServerProcess server;
    const auto admin = server.login();
    auto response = server.request("DELETE", "/user/dicoogle", admin);
    REQUIRE(response.status == 200);
    CHECK_FALSE(parseObject(response.body)->getValue<bool>("success"));
    CHECK(server.request("GET", "/login", admin).status == 200);
    // With a second admin, the first may go.
    server.request("POST", "/user?username=root2&password=pw&admin=true", admin);
    CHECK(parseObject(server.request("DELETE", "/user/dicoogle", admin).body)->getValue<bool>("success"));
}

TEST_CASE("users and passwords survive a restart but tokens do not", "[accounts][restart]") {
    auto dataDir = tessera::test::makeTempDir("tessera-restart");
    std::string oldToken;
    {
        ServerProcess server({}, dataDir);
        const auto admin = server.login();
        server.request("POST", "/user?username=dana&password=pa55&admin=false", admin);
        oldToken = admin;
        CHECK(server.stop() == 0);
    }
    {
        ServerProcess server({}, dataDir);
        CHECK(server.request("GET", "/login", oldToken).status == 401);
        CHECK_NOTHROW(server.login("dana", "pa55"));
        CHECK_THROWS(server.login("dana", "wrong"));
    }
    std::filesystem::remove_all(dataDir);
}

TEST_CASE("tokens expire after the configured idle time", "[accounts][expiry]") {
    auto dataDir = tessera::test::makeTempDir("tessera-expiry");
    {
        std::ofstream out(dataDir / "server.xml");
        out << "<config><web-server><token-idle-timeout>1</token-idle-timeout></web-server></config>\n";
    }
    {
        ServerProcess server({}, dataDir);
        const auto token = server.login();
        CHECK(server.request("GET", "/user", token).status == 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        CHECK(server.request("GET", "/user", token).status == 403);
        CHECK(server.request("GET", "/login", token).status == 401);
        // Using a token keeps it alive: each use resets the idle clock.
        const auto busy = server.login();
        for (int i = 0; i < 4; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));
            CHECK(server.request("GET", "/user", busy).status == 200);
        }
    }
    std::filesystem::remove_all(dataDir);
}
