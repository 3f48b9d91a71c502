#pragma once
// Login sessions: random tokens held in memory (lost on restart, like Dicoogle), each expiring
// after a configurable idle time.
//
// Unlike Dicoogle, every login gets its own token and tokens expire (behaviour §4, §12): a
// stolen token stops working, and logging out on one client does not log out the others.
//
// Thread-safety: every method may be called concurrently (one internal mutex).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/user_store.hpp"

namespace tessera::core {

struct Session {
    std::string token;
    std::string username;
    bool admin = false;
    std::vector<std::string> roles;
};

class SessionStore {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    /// `idleTimeout` of zero means sessions never expire (Dicoogle's behaviour). An empty
    /// `clock` means std::chrono::steady_clock::now; tests inject their own.
    explicit SessionStore(std::chrono::seconds idleTimeout, Clock clock = {});
    ~SessionStore();
    SessionStore(const SessionStore&) = delete;
    SessionStore& operator=(const SessionStore&) = delete;

    /// A new random token (UUID v4 text, 122 bits from the OS CSPRNG) for this login. Also
    /// forgets sessions that have expired, so abandoned logins do not pile up.
    std::string create(const UserRecord& user);

    /// Valid → refreshes its last-use time and returns the session; unknown or idle too long →
    /// nullopt (and forgets an expired one).
    std::optional<Session> touch(std::string_view token);

    /// true if it existed.
    bool revoke(std::string_view token);

    /// Ends every session of this user, e.g. when the user is deleted.
    void revokeUser(std::string_view username);

    /// Applies to existing sessions too (their idle time so far counts).
    void setIdleTimeout(std::chrono::seconds idleTimeout);

    /// Live sessions (expired ones not yet forgotten are not counted).
    std::size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::core
