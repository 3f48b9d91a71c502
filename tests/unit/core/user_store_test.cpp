#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "tessera/core/password_hasher.hpp"
#include "tessera/core/user_store.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"

using namespace tessera::core;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;

namespace {

constexpr unsigned kFast = 100;

using tessera::test::TempDir;

ErrorCode codeOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("expected a tessera::sdk::Error");
    return ErrorCode::Internal;
}

// Reads the file with SQLite directly, beside the store, to see what it really wrote.
std::string storedHash(const std::filesystem::path& db, const std::string& user) {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session("SQLite", db.string());
    std::string hash;
    std::string name = user;
    using namespace Poco::Data::Keywords;
    session << "SELECT hash FROM users WHERE username = ?", use(name), into(hash), now;
    return hash;
}

}  // namespace

TEST_CASE("UserStore: default admin is created once, on an empty store only", "[users]") {
    TempDir dir;
    const auto db = dir.path() / "sub" / "users.db";  // the directory does not exist yet
    {
        UserStore store(db, kFast);
        CHECK(store.ensureDefaultAdmin());
        CHECK_FALSE(store.ensureDefaultAdmin());
        const auto admin = store.verify("dicoogle", "dicoogle");
        REQUIRE(admin);
        CHECK(admin->username == "dicoogle");
        CHECK(admin->admin);
        CHECK(store.list().size() == 1);
    }
    {
        UserStore reopened(db, kFast);
        CHECK_FALSE(reopened.ensureDefaultAdmin());
        CHECK(reopened.list().size() == 1);
    }
    TempDir other;
    UserStore store(other.path() / "users.db", kFast);
    REQUIRE(store.add("alice", "pw", false));
    CHECK_FALSE(store.ensureDefaultAdmin());  // "no users at all" only
    CHECK_FALSE(store.find("dicoogle"));
}

TEST_CASE("UserStore: the file is real SQLite, WAL, owner-only, with hashes not passwords", "[users]") {
    TempDir dir;
    const auto db = dir.path() / "users.db";
    {
        UserStore store(db, kFast);
        REQUIRE(store.add("alice", "wonderland", true));
    }
    struct stat info {};
    REQUIRE(::stat(db.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);

    const std::string hash = storedHash(db, "alice");
    CHECK(hash.rfind("pbkdf2-sha256$100$", 0) == 0);
    CHECK(hash.find("wonderland") == std::string::npos);
    CHECK(verifyPassword("wonderland", hash));

    Poco::Data::Session session("SQLite", db.string());
    std::string mode;
    using namespace Poco::Data::Keywords;
    session << "PRAGMA journal_mode", into(mode), now;
    CHECK(mode == "wal");
}

TEST_CASE("UserStore: add, duplicate, find, list in name order", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    CHECK(store.add("zoe", "pw-z", false));
    CHECK(store.add("alice", "pw-a", true));
    CHECK(store.add("Bob", "pw-b", false));
    CHECK_FALSE(store.add("alice", "other", false));  // exists: not replaced
    CHECK(store.verify("alice", "pw-a"));
    CHECK_FALSE(store.verify("alice", "other"));
    CHECK(store.find("alice")->admin);
    CHECK_FALSE(store.find("zoe")->admin);
    CHECK_FALSE(store.find("nobody"));
    CHECK_FALSE(store.find("ALICE"));  // names are case-sensitive, as in Dicoogle

    const auto users = store.list();
    REQUIRE(users.size() == 3);
    CHECK(users[0].username == "Bob");  // byte order
    CHECK(users[1].username == "alice");
    CHECK(users[2].username == "zoe");
    CHECK(users[1].admin);
}

TEST_CASE("UserStore: remove, not found, and the last admin is kept", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    REQUIRE(store.ensureDefaultAdmin());
    CHECK(store.remove("nobody") == RemoveUserResult::NotFound);
    CHECK(store.remove("") == RemoveUserResult::NotFound);
    CHECK(store.remove("dicoogle") == RemoveUserResult::LastAdmin);
    CHECK(store.find("dicoogle"));

    REQUIRE(store.add("carol", "pw", false));
    CHECK(store.remove("carol") == RemoveUserResult::Removed);  // a non-admin with one admin left
    CHECK_FALSE(store.find("carol"));
    CHECK(store.remove("carol") == RemoveUserResult::NotFound);

    SECTION("two admins: one can go, then the other is the last") {
        REQUIRE(store.add("root2", "pw", true));
        CHECK(store.remove("dicoogle") == RemoveUserResult::Removed);
        CHECK(store.remove("root2") == RemoveUserResult::LastAdmin);
        CHECK(store.find("root2"));
        CHECK_FALSE(store.verify("dicoogle", "dicoogle"));
    }
    SECTION("non-admins do not count as admins") {
        REQUIRE(store.add("u1", "pw", false));
        REQUIRE(store.add("u2", "pw", false));
        CHECK(store.remove("dicoogle") == RemoveUserResult::LastAdmin);
    }
}

TEST_CASE("UserStore: concurrent removal of the last two admins keeps one", "[users]") {
    for (int round = 0; round < 10; ++round) {
        TempDir dir;
        const auto db = dir.path() / "users.db";
        // Two stores = two SQLite connections, as two processes would have.
        UserStore first(db, kFast);
        UserStore second(db, kFast);
        REQUIRE(first.add("a", "pw", true));
        REQUIRE(first.add("b", "pw", true));
        RemoveUserResult ra{}, rb{};
        std::thread ta([&] { ra = first.remove("a"); });
        std::thread tb([&] { rb = second.remove("b"); });
        ta.join();
        tb.join();
        CHECK(((ra == RemoveUserResult::Removed) != (rb == RemoveUserResult::Removed)));
        CHECK((ra == RemoveUserResult::LastAdmin || rb == RemoveUserResult::LastAdmin));
        const auto users = second.list();
        REQUIRE(users.size() == 1);
        CHECK(users.front().admin);
    }
}

TEST_CASE("UserStore: verify", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    REQUIRE(store.add("dave", "correct horse", false));
    store.setRoles("dave", {"radiology", "research"});

    const auto user = store.verify("dave", "correct horse");
    REQUIRE(user);
    CHECK(user->username == "dave");
    CHECK_FALSE(user->admin);
    CHECK(user->roles == std::vector<std::string>{"radiology", "research"});

    CHECK_FALSE(store.verify("dave", "correct horsE"));
    CHECK_FALSE(store.verify("dave", ""));
    CHECK_FALSE(store.verify("Dave", "correct horse"));
    CHECK_FALSE(store.verify("nobody", "correct horse"));
    CHECK_FALSE(store.verify("", ""));
    CHECK_FALSE(store.verify(std::string(500, 'x'), "pw"));
    CHECK_FALSE(store.verify("bad\nname", "pw"));
    CHECK_FALSE(store.verify("dave", std::string(5000, 'p')));
}

TEST_CASE("UserStore: everything survives reopening", "[users]") {
    TempDir dir;
    const auto db = dir.path() / "users.db";
    {
        UserStore store(db, kFast);
        REQUIRE(store.ensureDefaultAdmin());
        REQUIRE(store.add("erin", "first", false));
        store.setPassword("erin", "second");
        store.setRoles("erin", {"viewer"});
        REQUIRE(store.add("frank", "pw", true));
        REQUIRE(store.remove("frank") == RemoveUserResult::Removed);
    }
    UserStore store(db, kFast);
    const auto users = store.list();
    REQUIRE(users.size() == 2);
    CHECK(users[0].username == "dicoogle");
    CHECK(users[1].username == "erin");
    CHECK(users[1].roles == std::vector<std::string>{"viewer"});
    CHECK_FALSE(store.verify("erin", "first"));
    CHECK(store.verify("erin", "second"));
    CHECK_FALSE(store.find("frank"));
}

TEST_CASE("UserStore: setPassword and setRoles", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    REQUIRE(store.add("gina", "old", false));
    store.setPassword("gina", "new");
    CHECK_FALSE(store.verify("gina", "old"));
    CHECK(store.verify("gina", "new"));

    CHECK(codeOf([&] { store.setPassword("nobody", "x"); }) == ErrorCode::NotFound);
    CHECK(codeOf([&] { store.setPassword("", "x"); }) == ErrorCode::NotFound);
    CHECK(codeOf([&] { store.setPassword("gina", ""); }) == ErrorCode::InvalidArgument);
    CHECK(store.verify("gina", "new"));

    store.setRoles("gina", {});
    CHECK(store.find("gina")->roles.empty());
    CHECK(codeOf([&] { store.setRoles("gina", {"a,b"}); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { store.setRoles("gina", {""}); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { store.setRoles("nobody", {"r"}); }) == ErrorCode::NotFound);
}

TEST_CASE("UserStore: invalid names and passwords are refused", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    const std::string tooLong(UserStore::kMaxUsernameBytes + 1, 'n');
    const std::string longest(UserStore::kMaxUsernameBytes, 'n');
    for (const std::string& name : {std::string(), tooLong, std::string("tab\tname"), std::string("new\nline"),
                                    std::string("nul\0name", 8), std::string("del\x7f"), std::string("\x1b[31m")}) {
        INFO("name: " << name);
        CHECK(codeOf([&] { store.add(name, "pw", false); }) == ErrorCode::InvalidArgument);
    }
    CHECK(codeOf([&] { store.add("henry", "", false); }) == ErrorCode::InvalidArgument);
    CHECK(codeOf([&] {
              store.add("henry", std::string(UserStore::kMaxPasswordBytes + 1, 'p'), false);
          }) == ErrorCode::InvalidArgument);
    CHECK(store.list().empty());

    CHECK(store.add(longest, "pw", false));
    CHECK(store.add("José Ñandú 東京", "pw", false));  // UTF-8 is fine
    CHECK(store.add("o'brien; DROP TABLE users;--", "pw", false));
    CHECK(store.verify("o'brien; DROP TABLE users;--", "pw"));
    CHECK(store.list().size() == 3);
}

TEST_CASE("UserStore: a cheaper old hash is upgraded at login", "[users]") {
    TempDir dir;
    const auto db = dir.path() / "users.db";
    {
        UserStore store(db, kFast);
        REQUIRE(store.add("ivan", "pw", false));
    }
    CHECK(passwordHashIterations(storedHash(db, "ivan")) == kFast);
    UserStore store(db, 2 * kFast);
    CHECK_FALSE(store.verify("ivan", "wrong"));
    CHECK(passwordHashIterations(storedHash(db, "ivan")) == kFast);  // not on a failed login
    CHECK(store.verify("ivan", "pw"));
    CHECK(passwordHashIterations(storedHash(db, "ivan")) == 2 * kFast);
    CHECK(store.verify("ivan", "pw"));

    store.setHashIterations(kFast);  // lowering never downgrades existing hashes
    CHECK(store.verify("ivan", "pw"));
    CHECK(passwordHashIterations(storedHash(db, "ivan")) == 2 * kFast);
    CHECK(codeOf([&] { store.setHashIterations(0); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("UserStore: a file that is not a database is refused", "[users]") {
    TempDir dir;
    const auto db = dir.path() / "users.db";
    {
        std::ofstream out(db, std::ios::binary);
        out << std::string(4096, 'G') << "this is not SQLite";
    }
    CHECK_THROWS_AS(UserStore(db, kFast), Error);
    CHECK(codeOf([&] { UserStore store(db, kFast); }) == ErrorCode::Corrupted);
    CHECK(codeOf([&] { UserStore store(dir.path() / "other.db", 0); }) == ErrorCode::InvalidArgument);
    // A directory where the file should be.
    std::filesystem::create_directories(dir.path() / "adir.db");
    CHECK(codeOf([&] { UserStore store(dir.path() / "adir.db", kFast); }) == ErrorCode::Unavailable);
}

TEST_CASE("UserStore: concurrent use from many threads", "[users]") {
    TempDir dir;
    UserStore store(dir.path() / "users.db", kFast);
    REQUIRE(store.ensureDefaultAdmin());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 15; ++i) {
                const std::string name = "user" + std::to_string(t) + "-" + std::to_string(i);
                if (!store.add(name, name, i % 2 == 0)) ++failures;
                if (!store.verify(name, name)) ++failures;
                if (!store.verify("dicoogle", "dicoogle")) ++failures;
                if (store.list().empty()) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    CHECK(store.list().size() == 61);
}
