#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <string>

#include "tessera/core/password_hasher.hpp"
#include "tessera/sdk/error.hpp"

using namespace tessera::core;

namespace {

constexpr unsigned kFast = 1000;  // real deployments use 210000; tests only need the mechanism

// Made with Python's hashlib.pbkdf2_hmac("sha256", b"correct horse", b"0123456789abcdef", 1000):
// an independent implementation, so this proves the encoding is standard PBKDF2.
constexpr const char* kReferenceHash =
    "pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M=";

}  // namespace

TEST_CASE("PasswordHasher: a hash verifies its own password only", "[password]") {
    const std::string hash = hashPassword("s3cret!", kFast);
    CHECK(verifyPassword("s3cret!", hash));
    CHECK_FALSE(verifyPassword("s3cret", hash));
    CHECK_FALSE(verifyPassword("S3cret!", hash));
    CHECK_FALSE(verifyPassword("", hash));
    CHECK_FALSE(verifyPassword("s3cret!s3cret!", hash));
}

TEST_CASE("PasswordHasher: non-ASCII and embedded NUL passwords are exact", "[password]") {
    const std::string withNul("ab\0cd", 5);
    const std::string hash = hashPassword(withNul, kFast);
    CHECK(verifyPassword(withNul, hash));
    CHECK_FALSE(verifyPassword("ab", hash));

    const std::string unicode = "pässwörd-密码";
    CHECK(verifyPassword(unicode, hashPassword(unicode, kFast)));
}

TEST_CASE("PasswordHasher: encoding is pbkdf2-sha256$iter$salt$hash", "[password]") {
    const std::string hash = hashPassword("x", kFast);
    // 16-byte salt → 24 base64 characters, 32-byte key → 44.
    const std::regex shape(R"(pbkdf2-sha256\$1000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=)");
    CHECK(std::regex_match(hash, shape));
}

TEST_CASE("PasswordHasher: matches an independent PBKDF2-HMAC-SHA256", "[password]") {
    CHECK(verifyPassword("correct horse", kReferenceHash));
    CHECK_FALSE(verifyPassword("correct horsf", kReferenceHash));
}

TEST_CASE("PasswordHasher: every hash gets a fresh salt", "[password]") {
    std::set<std::string> hashes;
    std::set<std::string> salts;
    for (int i = 0; i < 20; ++i) {
        const std::string hash = hashPassword("same password", kFast);
        CHECK(verifyPassword("same password", hash));
        hashes.insert(hash);
        salts.insert(hash.substr(0, hash.rfind('$')));
    }
    CHECK(hashes.size() == 20);
    CHECK(salts.size() == 20);
}

TEST_CASE("PasswordHasher: the iteration count is recorded and used", "[password]") {
    const std::string hash = hashPassword("pw", 1234);
    CHECK(hash.rfind("pbkdf2-sha256$1234$", 0) == 0);
    CHECK(passwordHashIterations(hash) == 1234u);
    CHECK(passwordHashIterations(hashPassword("pw", 1)) == 1u);
    CHECK(passwordHashIterations(kReferenceHash) == 1000u);

    // Same salt and key, other count: the derivation differs, so the password no longer matches.
    std::string edited = hash;
    edited.replace(edited.find("1234"), 4, "1235");
    CHECK_FALSE(verifyPassword("pw", edited));
}

TEST_CASE("PasswordHasher: out-of-range iteration counts are refused", "[password]") {
    CHECK_THROWS_AS(hashPassword("pw", 0), tessera::sdk::Error);
    CHECK_THROWS_AS(hashPassword("pw", kMaxPasswordHashIterations + 1), tessera::sdk::Error);
    try {
        hashPassword("pw", 0);
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == tessera::sdk::ErrorCode::InvalidArgument);
    }
}

TEST_CASE("PasswordHasher: tampered or garbage encodings never verify", "[password]") {
    const std::string good = kReferenceHash;
    const std::string salt = "MDEyMzQ1Njc4OWFiY2RlZg==";
    const std::string key = "cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M=";
    REQUIRE(verifyPassword("correct horse", good));

    std::string flipped = good;
    flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';

    std::string otherSalt = good;
    otherSalt[good.find(salt)] = 'N';

    const std::string bad[] = {
        "",
        "correct horse",
        "$$$",
        "pbkdf2-sha256",
        "pbkdf2-sha1$1000$" + salt + "$" + key,
        "PBKDF2-SHA256$1000$" + salt + "$" + key,
        "pbkdf2-sha256$1000$" + salt,
        "pbkdf2-sha256$1000$" + salt + "$" + key + "$",
        "pbkdf2-sha256$1000$" + salt + "$" + key + "$extra",
        "pbkdf2-sha256$$" + salt + "$" + key,
        "pbkdf2-sha256$0$" + salt + "$" + key,
        "pbkdf2-sha256$01000$" + salt + "$" + key,
        "pbkdf2-sha256$+1000$" + salt + "$" + key,
        "pbkdf2-sha256$-1000$" + salt + "$" + key,
        "pbkdf2-sha256$1000 $" + salt + "$" + key,
        "pbkdf2-sha256$abc$" + salt + "$" + key,
        "pbkdf2-sha256$99999999999999999999$" + salt + "$" + key,
        "pbkdf2-sha256$4000000000$" + salt + "$" + key,  // over the cap: must not run for minutes
        "pbkdf2-sha256$1000$$" + key,
        "pbkdf2-sha256$1000$" + salt + "$",
        "pbkdf2-sha256$1000$" + salt.substr(0, 20) + "$" + key,
        "pbkdf2-sha256$1000$" + salt + "$" + key.substr(0, 40),
        "pbkdf2-sha256$1000$" + salt + "$" + key.substr(0, 43),         // padding removed
        "pbkdf2-sha256$1000$" + salt + "$" + key + "\n",
        "pbkdf2-sha256$1000$" + salt + "$ " + key,
        "pbkdf2-sha256$1000$" + salt + "$" + key.substr(0, 10) + "!" + key.substr(11),
        "pbkdf2-sha256$1000$" + salt + "$" + key + key,                   // 64-byte key
        "pbkdf2-sha256$1000$" + key + "$" + key,                          // 32-byte salt
        std::string(good).insert(10, 1, '\0'),
    };
    for (const auto& encoded : bad) {
        INFO("encoded: " << encoded);
        CHECK_FALSE(verifyPassword("correct horse", encoded));
        CHECK_FALSE(passwordHashIterations(encoded).has_value());
    }
    // Well-formed, but one bit of the key or salt changed.
    CHECK_FALSE(verifyPassword("correct horse", flipped));
    CHECK_FALSE(verifyPassword("correct horse", otherSalt));
}

TEST_CASE("PasswordHasher: constantTimeEquals is plain equality", "[password]") {
    CHECK(constantTimeEquals("", ""));
    CHECK(constantTimeEquals("abc", "abc"));
    CHECK_FALSE(constantTimeEquals("abc", "abd"));
    CHECK_FALSE(constantTimeEquals("abc", "xbc"));
    CHECK_FALSE(constantTimeEquals("abc", "ab"));
    CHECK_FALSE(constantTimeEquals("ab", "abc"));
    CHECK_FALSE(constantTimeEquals("", "a"));
    CHECK_FALSE(constantTimeEquals("a", ""));
    // A shorter input padded with NULs must still differ from the longer one.
    CHECK_FALSE(constantTimeEquals(std::string_view("ab\0", 3), "ab"));
    CHECK(constantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
    const std::string longA(4096, 'x');
    std::string longB = longA;
    CHECK(constantTimeEquals(longA, longB));
    longB[4095] = 'y';
    CHECK_FALSE(constantTimeEquals(longA, longB));
}
