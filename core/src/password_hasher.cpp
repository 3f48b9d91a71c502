#include "tessera/core/password_hasher.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>

#include <array>
#include <charconv>
#include <iterator>
#include <climits>
#include <sstream>
#include <vector>

#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

// OpenSSL (reached through Poco::Crypto) rather than Poco::PBKDF2Engine: Poco's SHA2Engine has no
// BLOCK_SIZE for HMACEngine, and OpenSSL's PBKDF2 is several times faster, which lets operators
// afford more iterations for the same login latency.
constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;  // one SHA-256 block: longer output only helps an attacker

std::string toBase64(const std::string& bytes) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << bytes;
    encoder.close();
    return out.str();
}

// Strict: only the exact text toBase64() would produce is accepted, so one hash has one spelling.
std::optional<std::string> fromBase64(std::string_view text) {
    if (text.empty()) return std::nullopt;
    try {
        std::istringstream in{std::string(text)};
        Poco::Base64Decoder decoder(in);
        std::string bytes((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
        if (toBase64(bytes) != text) return std::nullopt;
        return bytes;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

std::string deriveKey(std::string_view password, const std::string& salt, unsigned iterations) {
    if (password.size() > static_cast<std::size_t>(INT_MAX)) {
        throw sdk::Error(sdk::ErrorCode::InvalidArgument, "password too long");
    }
    std::array<unsigned char, kKeyBytes> key{};
    const int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                     reinterpret_cast<const unsigned char*>(salt.data()),
                                     static_cast<int>(salt.size()), static_cast<int>(iterations),
                                     EVP_sha256(), static_cast<int>(key.size()), key.data());
    if (ok != 1) throw sdk::Error(sdk::ErrorCode::Internal, "password hashing failed");
    return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

bool validIterations(unsigned iterations) {
    return iterations >= 1 && iterations <= kMaxPasswordHashIterations;
}

struct ParsedHash {
    unsigned iterations = 0;
    std::string salt;
    std::string key;
};

std::optional<ParsedHash> parse(std::string_view encoded) {
    std::array<std::string_view, 4> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto end = encoded.find('$', start);
        const bool last = i + 1 == parts.size();
        if (last != (end == std::string_view::npos)) return std::nullopt;  // too few or too many
        parts[i] = encoded.substr(start, last ? std::string_view::npos : end - start);
        start = end + 1;
    }
    if (parts[0] != kScheme) return std::nullopt;

    const auto& digits = parts[1];
    // Canonical decimal only: no sign, no leading zero, no spaces.
    if (digits.empty() || digits.front() == '0') return std::nullopt;
    ParsedHash result;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), result.iterations);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    if (!validIterations(result.iterations)) return std::nullopt;

    auto salt = fromBase64(parts[2]);
    auto key = fromBase64(parts[3]);
    if (!salt || !key || salt->size() != kSaltBytes || key->size() != kKeyBytes) return std::nullopt;
    result.salt = std::move(*salt);
    result.key = std::move(*key);
    return result;
}

}  // namespace

std::string hashPassword(std::string_view password, unsigned iterations) {
    if (!validIterations(iterations)) {
        throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                         "password hash iterations must be between 1 and " +
                             std::to_string(kMaxPasswordHashIterations));
    }
    std::string salt(kSaltBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
        throw sdk::Error(sdk::ErrorCode::Internal, "no random bytes for a password salt");
    }
    const std::string key = deriveKey(password, salt, iterations);
    std::string encoded(kScheme);
    encoded += '$';
    encoded += std::to_string(iterations);
    encoded += '$';
    encoded += toBase64(salt);
    encoded += '$';
    encoded += toBase64(key);
    return encoded;
}

bool verifyPassword(std::string_view password, std::string_view encoded) {
    const auto parsed = parse(encoded);
    if (!parsed) return false;
    try {
        return constantTimeEquals(deriveKey(password, parsed->salt, parsed->iterations), parsed->key);
    } catch (const sdk::Error&) {
        return false;
    }
}

std::optional<unsigned> passwordHashIterations(std::string_view encoded) {
    const auto parsed = parse(encoded);
    if (!parsed) return std::nullopt;
    return parsed->iterations;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    // No early exit: every byte of the longer input is visited whatever the contents. The
    // volatile accumulator keeps the compiler from turning the loop back into a memcmp.
    const std::size_t n = a.size() > b.size() ? a.size() : b.size();
    volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff = static_cast<unsigned char>(diff | (x ^ y));
    }
    return diff == 0;
}

}  // namespace tessera::core
