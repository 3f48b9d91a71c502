#pragma once
// Password hashing for the account store: PBKDF2-HMAC-SHA256 with a random 16-byte salt.
//
// Encoded form (one printable string, safe to store in SQLite or show in a dump):
//     pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>
// The iteration count travels with each hash, so raising the configured count later keeps old
// hashes verifiable (and UserStore re-hashes them at the next successful login).
//
// Thread-safety: every function is reentrant; they share no state.

#include <optional>
#include <string>
#include <string_view>

namespace tessera::core {

/// Upper bound on iterations accepted when hashing or verifying. A stored hash is data: one
/// tampered to claim billions of iterations must not let a single login stall a worker thread.
inline constexpr unsigned kMaxPasswordHashIterations = 10'000'000;

/// Hashes `password` with a fresh salt from the OS CSPRNG. Throws sdk::Error(InvalidArgument)
/// when `iterations` is 0 or above kMaxPasswordHashIterations, and sdk::Error(Internal) if the
/// random generator or the KDF fails.
std::string hashPassword(std::string_view password, unsigned iterations);

/// True when `password` matches `encoded`. The derived keys are compared in constant time.
/// Anything that is not exactly the canonical encoding above (unknown scheme, bad base64, wrong
/// lengths, iteration count out of range) is false, never an exception.
bool verifyPassword(std::string_view password, std::string_view encoded);

/// The iteration count recorded in `encoded`, or nullopt when it is not a well-formed hash.
std::optional<unsigned> passwordHashIterations(std::string_view encoded);

/// Equality whose running time depends only on the lengths, not on where the inputs differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tessera::core
