#include "tessera/core/session_store.hpp"

#include <openssl/rand.h>

#include <array>
#include <mutex>
#include <unordered_map>

#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;

std::string randomUuidV4() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw sdk::Error(sdk::ErrorCode::Internal, "no random bytes for a session token");
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += kHex[bytes[i] >> 4];
        text += kHex[bytes[i] & 0x0F];
    }
    return text;
}

struct Entry {
    Session session;
    TimePoint lastUse;
};

}  // namespace

struct SessionStore::Impl {
    mutable std::mutex mutex;
    std::chrono::seconds idleTimeout;
    Clock clock;
    std::unordered_map<std::string, Entry> sessions;

    bool expired(const Entry& entry, TimePoint now) const {
        return idleTimeout.count() > 0 && now - entry.lastUse > idleTimeout;
    }
};

SessionStore::SessionStore(std::chrono::seconds idleTimeout, Clock clock) : impl_(std::make_unique<Impl>()) {
    impl_->idleTimeout = idleTimeout.count() < 0 ? std::chrono::seconds{0} : idleTimeout;
    impl_->clock = clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); });
}

SessionStore::~SessionStore() = default;

std::string SessionStore::create(const UserRecord& user) {
    std::string token = randomUuidV4();
    std::lock_guard lock(impl_->mutex);
    const TimePoint now = impl_->clock();
    std::erase_if(impl_->sessions, [&](const auto& item) { return impl_->expired(item.second, now); });
    // A collision of 122 random bits does not happen; if the generator were broken, refusing is
    // safer than handing one user another's session.
    const auto [it, inserted] =
        impl_->sessions.try_emplace(token, Entry{Session{token, user.username, user.admin, user.roles}, now});
    if (!inserted) throw sdk::Error(sdk::ErrorCode::Internal, "session token collision");
    return token;
}

std::optional<Session> SessionStore::touch(std::string_view token) {
    std::lock_guard lock(impl_->mutex);
    const auto it = impl_->sessions.find(std::string(token));
    if (it == impl_->sessions.end()) return std::nullopt;
    const TimePoint now = impl_->clock();
    if (impl_->expired(it->second, now)) {
        impl_->sessions.erase(it);
        return std::nullopt;
    }
    it->second.lastUse = now;
    return it->second.session;
}

bool SessionStore::revoke(std::string_view token) {
    std::lock_guard lock(impl_->mutex);
    return impl_->sessions.erase(std::string(token)) > 0;
}

void SessionStore::revokeUser(std::string_view username) {
    std::lock_guard lock(impl_->mutex);
    std::erase_if(impl_->sessions, [&](const auto& item) { return item.second.session.username == username; });
}

void SessionStore::setIdleTimeout(std::chrono::seconds idleTimeout) {
    std::lock_guard lock(impl_->mutex);
    impl_->idleTimeout = idleTimeout.count() < 0 ? std::chrono::seconds{0} : idleTimeout;
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(impl_->mutex);
    const TimePoint now = impl_->clock();
    std::size_t live = 0;
    for (const auto& [token, entry] : impl_->sessions) {
        if (!impl_->expired(entry, now)) ++live;
    }
    return live;
}

}  // namespace tessera::core
