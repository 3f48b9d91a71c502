#include <catch2/catch.hpp>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "tessera/core/session_store.hpp"

using namespace tessera::core;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand, so expiry is exact and the test takes no time.
struct ManualClock {
    std::shared_ptr<std::chrono::steady_clock::time_point> now =
        std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::time_point{} + 1000h);
    SessionStore::Clock clock() const {
        return [now = now] { return *now; };
    }
    void advance(std::chrono::seconds by) { *now += by; }
};

const UserRecord kAlice{"alice", false, {"viewer"}};
const UserRecord kRoot{"root", true, {}};

}  // namespace

TEST_CASE("SessionStore: create then touch returns the user", "[sessions]") {
    SessionStore store(60s);
    const std::string token = store.create(kAlice);
    const auto session = store.touch(token);
    REQUIRE(session);
    CHECK(session->token == token);
    CHECK(session->username == "alice");
    CHECK_FALSE(session->admin);
    CHECK(session->roles == std::vector<std::string>{"viewer"});

    const auto admin = store.touch(store.create(kRoot));
    REQUIRE(admin);
    CHECK(admin->admin);
    CHECK(store.size() == 2);
}

TEST_CASE("SessionStore: tokens are unique UUID v4 text", "[sessions]") {
    SessionStore store(60s);
    const std::regex uuidV4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> tokens;
    for (int i = 0; i < 2000; ++i) {
        const std::string token = store.create(kAlice);
        REQUIRE(std::regex_match(token, uuidV4));
        tokens.insert(token);
    }
    CHECK(tokens.size() == 2000);  // a new token per login, even for the same user
    // The non-fixed nibbles vary: all 16 hex digits show up in the first position.
    std::set<char> firstDigits;
    for (const auto& token : tokens) firstDigits.insert(token.front());
    CHECK(firstDigits.size() == 16);
}

TEST_CASE("SessionStore: unknown and malformed tokens are refused", "[sessions]") {
    SessionStore store(60s);
    const std::string token = store.create(kAlice);
    CHECK_FALSE(store.touch(""));
    CHECK_FALSE(store.touch("not-a-token"));
    CHECK_FALSE(store.touch("00000000-0000-4000-8000-000000000000"));
    CHECK_FALSE(store.touch(token.substr(0, 35)));
    CHECK_FALSE(store.touch(token + " "));
    std::string upper = token;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper != token) CHECK_FALSE(store.touch(upper));
    CHECK(store.touch(token));
}

TEST_CASE("SessionStore: revoke ends one session", "[sessions]") {
    SessionStore store(60s);
    const std::string first = store.create(kAlice);
    const std::string second = store.create(kAlice);
    CHECK(store.revoke(first));
    CHECK_FALSE(store.revoke(first));
    CHECK_FALSE(store.revoke("nonsense"));
    CHECK_FALSE(store.touch(first));
    CHECK(store.touch(second));  // the user's other client stays logged in
}

TEST_CASE("SessionStore: revokeUser ends every session of that user only", "[sessions]") {
    SessionStore store(60s);
    const std::string a1 = store.create(kAlice);
    const std::string a2 = store.create(kAlice);
    const std::string r1 = store.create(kRoot);
    store.revokeUser("alice");
    CHECK_FALSE(store.touch(a1));
    CHECK_FALSE(store.touch(a2));
    CHECK(store.touch(r1));
    store.revokeUser("nobody");
    CHECK(store.touch(r1));
    CHECK(store.size() == 1);
}

TEST_CASE("SessionStore: idle sessions expire, used ones stay", "[sessions]") {
    ManualClock clock;
    SessionStore store(60s, clock.clock());
    const std::string used = store.create(kAlice);
    const std::string idle = store.create(kRoot);

    clock.advance(40s);
    REQUIRE(store.touch(used));
    clock.advance(20s);  // idle is exactly at the limit: still valid
    CHECK(store.touch(idle));
    clock.advance(40s);  // used: 60 s idle since the touch at 40 s; idle: 40 s since its touch
    CHECK(store.touch(used));
    CHECK(store.touch(idle));
    clock.advance(61s);
    CHECK_FALSE(store.touch(used));
    CHECK_FALSE(store.touch(idle));
    CHECK_FALSE(store.revoke(used));  // forgotten, not just hidden
    CHECK(store.size() == 0);
}

TEST_CASE("SessionStore: expired sessions are swept at login", "[sessions]") {
    ManualClock clock;
    SessionStore store(10s, clock.clock());
    const std::string old = store.create(kAlice);
    clock.advance(11s);
    const std::string fresh = store.create(kRoot);
    CHECK_FALSE(store.revoke(old));  // already gone
    CHECK(store.touch(fresh));
}

TEST_CASE("SessionStore: the idle timeout can change at run time", "[sessions]") {
    ManualClock clock;
    SessionStore store(3600s, clock.clock());
    const std::string token = store.create(kAlice);
    clock.advance(120s);
    store.setIdleTimeout(60s);
    CHECK_FALSE(store.touch(token));

    SECTION("zero means never") {
        store.setIdleTimeout(0s);
        const std::string forever = store.create(kAlice);
        clock.advance(std::chrono::hours(24 * 365));
        CHECK(store.touch(forever));
    }
}

TEST_CASE("SessionStore: the default clock works", "[sessions]") {
    SessionStore store(1s);
    const std::string token = store.create(kAlice);
    CHECK(store.touch(token));
}

TEST_CASE("SessionStore: concurrent logins, checks and logouts", "[sessions]") {
    SessionStore store(60s);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                const std::string token = store.create(kAlice);
                if (!store.touch(token)) ++failures;
                if (!store.revoke(token)) ++failures;
                if (store.touch(token)) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    CHECK(store.size() == 0);
}
