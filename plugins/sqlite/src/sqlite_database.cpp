#include "tessera/plugins/sqlite/sqlite_database.hpp"

#include <sqlite3.h>

#include <utility>

#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// Prepared statements kept per connection. Query shapes repeat (clients send the same few
/// kinds of query); a burst of odd shapes only empties the cache.
constexpr std::size_t kMaxCachedStatements = 128;

}  // namespace

void throwSqliteError(sqlite3* db, int code, std::string_view context) {
    const int primary = code & 0xff;
    std::string message(context);
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    switch (primary) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED: throw Error(ErrorCode::Unavailable, message);
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB: throw Error(ErrorCode::Corrupted, message);
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_IOERR:
        case SQLITE_FULL: throw Error(ErrorCode::Unavailable, message);
        case SQLITE_TOOBIG: throw Error(ErrorCode::InvalidArgument, message);
        default: throw Error(ErrorCode::Internal, message);
    }
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                      nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
        throwSqliteError(db, rc, "Preparing a statement failed");
    }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        db_ = std::exchange(other.db_, nullptr);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) throwSqliteError(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (const int rc = sqlite3_bind_double(stmt_, index, value); rc != SQLITE_OK) throwSqliteError(db_, rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    const int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) throwSqliteError(db_, rc, "bind");
    return *this;
}

Statement& Statement::bindBlob(int index, std::string_view bytes) {
    const int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) throwSqliteError(db_, rc, "bind");
    return *this;
}

Statement& Statement::bindNull(int index) {
    if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) throwSqliteError(db_, rc, "bind");
    return *this;
}

Statement& Statement::bindValue(int index, const SqlValue& value) {
    std::visit([&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) bind(index, std::string_view(v));
        else bind(index, v);
    }, value);
    return *this;
}

Statement& Statement::bindAll(const std::vector<SqlValue>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) bindValue(static_cast<int>(i + 1), values[i]);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    throwSqliteError(db_, rc, "SQLite statement failed");
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::columnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string_view Statement::columnText(int column) const {
    // Blob first: it never converts, and text columns are returned as their bytes as well.
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) return {};
    return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

bool Statement::columnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Connection::Connection(const std::filesystem::path& path, OpenMode mode) {
    const int flags = (mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw Error(ErrorCode::Unavailable, "Cannot open the sqlite index: " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    // Readers wait for a writer's checkpoint or schema change instead of failing at once.
    sqlite3_busy_timeout(db_, 10000);
}

Connection::~Connection() {
    cache_.clear();  // statements first: close_v2 would otherwise linger as a zombie
    sqlite3_close_v2(db_);
}

void Connection::execute(std::string_view sql) {
    char* error = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        sqlite3_free(error);
        throwSqliteError(db_, rc, "SQLite command failed");
    }
}

Statement& Connection::cached(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
        it->second.reset();
        return it->second;
    }
    if (cache_.size() >= kMaxCachedStatements) cache_.clear();
    Statement statement(db_, sql);
    return cache_.emplace(sql, std::move(statement)).first->second;
}

Statement& Connection::cachedQuery(const std::string& sql) {
    try {
        return cached(sql);
    } catch (const Error& e) {
        // Our fragments are valid SQL, so what fails to prepare is a tree beyond SQLite's
        // limits (expression depth, number of parameters).
        if (e.code() != ErrorCode::Internal && e.code() != ErrorCode::InvalidArgument) throw;
        throw Error(ErrorCode::InvalidArgument, "The query is too complex for the sqlite index");
    }
}

std::int64_t Connection::lastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

}  // namespace tessera::plugins::sqlite
