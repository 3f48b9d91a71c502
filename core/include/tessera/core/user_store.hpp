#pragma once
// The account store: users, their password hashes, the admin flag and web-UI roles, kept in one
// SQLite file (table `users`, WAL mode) through Poco::Data.
//
// Thread-safety: every method may be called concurrently; calls on one store are serialised by
// an internal mutex (a login costs one password hash, so the lock is not held across hashing).
// Each change is a single SQL statement, so the "last admin" rule also holds against a second
// process writing the same file.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core {

struct UserRecord {
    std::string username;
    bool admin = false;
    std::vector<std::string> roles;
};

enum class RemoveUserResult { Removed, NotFound, LastAdmin };

class UserStore {
public:
    /// Longest accepted user name, in bytes.
    static constexpr std::size_t kMaxUsernameBytes = 128;
    /// Longest accepted password, in bytes: far beyond any passphrase, short enough that nobody
    /// can make the server hash megabytes per request.
    static constexpr std::size_t kMaxPasswordBytes = 1024;
    /// Dicoogle's first-start account (behaviour §4); operators are told to change it.
    static constexpr std::string_view kDefaultAdminName = "dicoogle";
    static constexpr std::string_view kDefaultAdminPassword = "dicoogle";

    /// Opens (creating when missing, with its directory) the database. New hashes use
    /// `hashIterations`. Throws sdk::Error(Unavailable) if the file cannot be opened and
    /// sdk::Error(Corrupted) if it is not a usable SQLite database; InvalidArgument for
    /// iterations out of range.
    UserStore(const std::filesystem::path& databaseFile, unsigned hashIterations);
    ~UserStore();
    UserStore(const UserStore&) = delete;
    UserStore& operator=(const UserStore&) = delete;

    /// Creates "dicoogle"/"dicoogle" (admin) when there are no users at all. Returns true if created.
    bool ensureDefaultAdmin();

    /// false if the user exists; throws Error(InvalidArgument) for an empty name or password, a
    /// name with control characters or longer than kMaxUsernameBytes, or a password longer than
    /// kMaxPasswordBytes.
    bool add(std::string_view username, std::string_view password, bool admin);

    /// The last admin is never removed.
    RemoveUserResult remove(std::string_view username);

    /// The user when the password is right, else nullopt. Constant-time compare; for an unknown
    /// user it still hashes (a dummy), so timing does not reveal which users exist. A hash made
    /// with fewer iterations than configured is upgraded after a successful check.
    std::optional<UserRecord> verify(std::string_view username, std::string_view password) const;

    std::optional<UserRecord> find(std::string_view username) const;

    /// Every user, ordered by username.
    std::vector<UserRecord> list() const;

    /// Throws Error(NotFound) for an unknown user, Error(InvalidArgument) for a bad password.
    void setPassword(std::string_view username, std::string_view newPassword);

    /// Replaces a user's roles (web-UI plugin filtering only; behaviour §4). Throws
    /// Error(NotFound) for an unknown user, Error(InvalidArgument) for an empty role or one with
    /// a comma or control character.
    void setRoles(std::string_view username, const std::vector<std::string>& roles);

    /// Iterations used for new hashes from now on (e.g. after a settings change).
    void setHashIterations(unsigned iterations);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::core
