#pragma once
// One stable 64-bit hash for the xapian plugin: FNV-1a is the same across runs, builds and
// platforms (unlike std::hash), which every use needs because the hash is persisted: in the
// suffix of a truncated term, in a field-set term, and implicitly in the shard a URI lives in.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::plugins::xapian {

/// FNV-1a, 64 bits.
inline std::uint64_t fnv1a64(std::string_view bytes) noexcept {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/// `value` as 16 lower-case hex digits appended to `out`.
inline void appendHex64(std::uint64_t value, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xf]);
}

}  // namespace tessera::plugins::xapian
