#include "tessera/core/user_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include "tessera/core/password_hasher.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using namespace Poco::Data::Keywords;
using sdk::Error;
using sdk::ErrorCode;

void registerSqliteOnce() {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
}

bool hasControlCharacter(std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return true;
    }
    return false;
}

bool validUsername(std::string_view username) {
    return !username.empty() && username.size() <= UserStore::kMaxUsernameBytes &&
           !hasControlCharacter(username);
}

void checkUsername(std::string_view username) {
    if (username.empty()) throw Error(ErrorCode::InvalidArgument, "user name is empty");
    if (username.size() > UserStore::kMaxUsernameBytes) {
        throw Error(ErrorCode::InvalidArgument,
                    "user name is longer than " + std::to_string(UserStore::kMaxUsernameBytes) + " bytes");
    }
    if (hasControlCharacter(username)) {
        throw Error(ErrorCode::InvalidArgument, "user name contains a control character");
    }
}

void checkPassword(std::string_view password) {
    if (password.empty()) throw Error(ErrorCode::InvalidArgument, "password is empty");
    if (password.size() > UserStore::kMaxPasswordBytes) {
        throw Error(ErrorCode::InvalidArgument,
                    "password is longer than " + std::to_string(UserStore::kMaxPasswordBytes) + " bytes");
    }
}

std::vector<std::string> splitRoles(const std::string& text) {
    std::vector<std::string> roles;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) roles.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return roles;
}

// Poco::Data reports every failure as its own exception type; callers of the store see only
// sdk::Error. Lock contention is worth a retry, anything else is a broken or unusable file.
[[noreturn]] void rethrowAsError(const Poco::Exception& e, const std::string& context) {
    const std::string message = context + ": " + e.message();
    if (dynamic_cast<const Poco::Data::SQLite::DBLockedException*>(&e) ||
        dynamic_cast<const Poco::Data::SQLite::TableLockedException*>(&e)) {
        throw Error(ErrorCode::Unavailable, message);
    }
    if (dynamic_cast<const Poco::Data::SQLite::CorruptImageException*>(&e) ||
        dynamic_cast<const Poco::Data::SQLite::SchemaDiffersException*>(&e) ||
        e.message().find("not a database") != std::string::npos) {
        throw Error(ErrorCode::Corrupted, message);
    }
    throw Error(ErrorCode::Internal, message);
}

// Creates the file owner-only before SQLite touches it: it holds password hashes. SQLite gives
// its -wal and -shm companions the same mode.
void createPrivateFile(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
    } else if (errno != EEXIST) {
        throw Error(ErrorCode::Unavailable,
                    "cannot create user database " + file.string() + ": " + std::strerror(errno));
    }
}

}  // namespace

struct UserStore::Impl {
    mutable std::mutex mutex;  // guards session and hashIterations
    std::unique_ptr<Poco::Data::Session> session;
    unsigned hashIterations = 0;

    mutable std::mutex dummyMutex;
    mutable std::string dummyHash;  // verified against for unknown users, made lazily
    mutable unsigned dummyIterations = 0;

    unsigned iterations() const {
        std::lock_guard lock(mutex);
        return hashIterations;
    }

    std::string dummy(unsigned wanted) const {  // a copy: another thread may remake it
        std::lock_guard lock(dummyMutex);
        if (dummyIterations != wanted) {
            dummyHash = hashPassword("tessera-dummy-password", wanted);
            dummyIterations = wanted;
        }
        return dummyHash;
    }

    struct Row {
        UserRecord user;
        std::string hash;
    };

    std::optional<Row> fetch(const std::string& username) const {
        std::vector<std::string> hashes, roles;
        std::vector<int> admins;
        std::string name = username;
        try {
            std::lock_guard lock(mutex);
            *session << "SELECT hash, admin, roles FROM users WHERE username = ?", use(name),
                into(hashes), into(admins), into(roles), now;
        } catch (const Poco::Exception& e) {
            rethrowAsError(e, "user database");
        }
        if (hashes.empty()) return std::nullopt;
        Row row;
        row.user.username = username;
        row.user.admin = admins.front() != 0;
        row.user.roles = splitRoles(roles.front());
        row.hash = hashes.front();
        return row;
    }

    // Runs one data-changing statement and returns how many rows it changed.
    template <typename... Bindings>
    std::size_t change(const std::string& sql, Bindings&&... bindings) {
        try {
            std::lock_guard lock(mutex);
            Poco::Data::Statement statement(*session);
            ((statement << sql), ..., std::forward<Bindings>(bindings));
            return statement.execute();
        } catch (const Poco::Exception& e) {
            rethrowAsError(e, "user database");
        }
    }
};

UserStore::UserStore(const std::filesystem::path& databaseFile, unsigned hashIterations)
    : impl_(std::make_unique<Impl>()) {
    if (hashIterations == 0 || hashIterations > kMaxPasswordHashIterations) {
        throw Error(ErrorCode::InvalidArgument, "password hash iterations out of range");
    }
    impl_->hashIterations = hashIterations;
    registerSqliteOnce();

    std::error_code ec;
    if (databaseFile.has_parent_path()) std::filesystem::create_directories(databaseFile.parent_path(), ec);
    if (ec) {
        throw Error(ErrorCode::Unavailable,
                    "cannot create the directory of " + databaseFile.string() + ": " + ec.message());
    }
    createPrivateFile(databaseFile);
    // Checked here because Poco retries a failed open for its whole login timeout.
    if (!std::filesystem::is_regular_file(databaseFile, ec)) {
        throw Error(ErrorCode::Unavailable, "user database " + databaseFile.string() + " is not a regular file");
    }

    try {
        constexpr std::size_t kOpenTimeoutSeconds = 5;
        impl_->session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY,
                                                               databaseFile.string(), kOpenTimeoutSeconds);
        auto& session = *impl_->session;
        int busyTimeout = 0;
        std::string journalMode;
        // Another process (an admin tool, a second server by mistake) may hold the write lock
        // briefly; wait for it instead of failing a login.
        session << "PRAGMA busy_timeout = 5000", into(busyTimeout), now;
        session << "PRAGMA journal_mode = WAL", into(journalMode), now;
        session << "CREATE TABLE IF NOT EXISTS users ("
                   "username TEXT PRIMARY KEY NOT NULL, "
                   "hash TEXT NOT NULL, "
                   "admin INTEGER NOT NULL DEFAULT 0, "
                   "roles TEXT NOT NULL DEFAULT '')",
            now;
    } catch (const Poco::Exception& e) {
        rethrowAsError(e, "cannot open user database " + databaseFile.string());
    }
}

UserStore::~UserStore() = default;

bool UserStore::ensureDefaultAdmin() {
    const std::string name(kDefaultAdminName);
    const std::string hash = hashPassword(kDefaultAdminPassword, impl_->iterations());
    // One statement, so two processes starting at once cannot both decide the table is empty.
    return impl_->change("INSERT INTO users (username, hash, admin, roles) "
                         "SELECT ?, ?, 1, '' WHERE NOT EXISTS (SELECT 1 FROM users)",
                         bind(name), bind(hash)) == 1;
}

bool UserStore::add(std::string_view username, std::string_view password, bool admin) {
    checkUsername(username);
    checkPassword(password);
    const std::string hash = hashPassword(password, impl_->iterations());
    const int adminFlag = admin ? 1 : 0;
    return impl_->change("INSERT OR IGNORE INTO users (username, hash, admin, roles) VALUES (?, ?, ?, '')",
                         bind(std::string(username)), bind(hash), bind(adminFlag)) == 1;
}

RemoveUserResult UserStore::remove(std::string_view username) {
    const std::string name(username);
    // The admin count is checked in the same statement that deletes, so two concurrent removals
    // of the last two admins cannot both succeed.
    const auto removed = impl_->change(
        "DELETE FROM users WHERE username = ? AND "
        "(admin = 0 OR (SELECT COUNT(*) FROM users WHERE admin <> 0) > 1)",
        bind(name));
    if (removed > 0) return RemoveUserResult::Removed;
    return impl_->fetch(name) ? RemoveUserResult::LastAdmin : RemoveUserResult::NotFound;
}

std::optional<UserRecord> UserStore::verify(std::string_view username, std::string_view password) const {
    const unsigned iterations = impl_->iterations();
    std::optional<Impl::Row> row;
    if (validUsername(username)) row = impl_->fetch(std::string(username));
    if (!row) {
        verifyPassword(password, impl_->dummy(iterations));
        return std::nullopt;
    }
    if (!verifyPassword(password, row->hash)) return std::nullopt;

    const auto stored = passwordHashIterations(row->hash);
    if (stored && *stored < iterations && password.size() <= kMaxPasswordBytes) {
        // Upgrade an old, cheaper hash now that we know the password. Only if nobody changed it
        // meanwhile: the hash in the WHERE clause makes this a compare-and-swap.
        const std::string upgraded = hashPassword(password, iterations);
        impl_->change("UPDATE users SET hash = ? WHERE username = ? AND hash = ?", bind(upgraded),
                      bind(row->user.username), bind(row->hash));
    }
    return row->user;
}

std::optional<UserRecord> UserStore::find(std::string_view username) const {
    if (!validUsername(username)) return std::nullopt;
    auto row = impl_->fetch(std::string(username));
    if (!row) return std::nullopt;
    return row->user;
}

std::vector<UserRecord> UserStore::list() const {
    std::vector<std::string> names, roles;
    std::vector<int> admins;
    try {
        std::lock_guard lock(impl_->mutex);
        *impl_->session << "SELECT username, admin, roles FROM users ORDER BY username", into(names),
            into(admins), into(roles), now;
    } catch (const Poco::Exception& e) {
        rethrowAsError(e, "user database");
    }
    std::vector<UserRecord> users;
    users.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        users.push_back(UserRecord{names[i], admins[i] != 0, splitRoles(roles[i])});
    }
    return users;
}

void UserStore::setPassword(std::string_view username, std::string_view newPassword) {
    checkPassword(newPassword);
    if (!validUsername(username)) throw Error(ErrorCode::NotFound, "no such user");
    const std::string hash = hashPassword(newPassword, impl_->iterations());
    if (impl_->change("UPDATE users SET hash = ? WHERE username = ?", bind(hash),
                      bind(std::string(username))) == 0) {
        throw Error(ErrorCode::NotFound, "no such user");
    }
}

void UserStore::setRoles(std::string_view username, const std::vector<std::string>& roles) {
    std::string joined;
    for (const auto& role : roles) {
        if (role.empty() || role.find(',') != std::string::npos || hasControlCharacter(role)) {
            throw Error(ErrorCode::InvalidArgument, "role names must be non-empty, without commas");
        }
        if (!joined.empty()) joined += ',';
        joined += role;
    }
    if (!validUsername(username)) throw Error(ErrorCode::NotFound, "no such user");
    if (impl_->change("UPDATE users SET roles = ? WHERE username = ?", bind(joined),
                      bind(std::string(username))) == 0) {
        throw Error(ErrorCode::NotFound, "no such user");
    }
}

void UserStore::setHashIterations(unsigned iterations) {
    if (iterations == 0 || iterations > kMaxPasswordHashIterations) {
        throw Error(ErrorCode::InvalidArgument, "password hash iterations out of range");
    }
    std::lock_guard lock(impl_->mutex);
    impl_->hashIterations = iterations;
}

}  // namespace tessera::core
