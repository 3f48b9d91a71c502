#pragma once
// A thin RAII layer over the sqlite3 C API: one connection, prepared statements with bound
// parameters, SQLite result codes turned into sdk::Error. Values only ever reach SQL as bound
// parameters; SQL text is built from fixed fragments (see sql_query_compiler.hpp).
//
// Thread-safety: a Connection and its Statements belong to one thread at a time (connections are
// opened with SQLITE_OPEN_NOMUTEX); distinct connections may be used concurrently.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tessera::plugins::sqlite {

/// A value bound to a `?` parameter.
using SqlValue = std::variant<std::int64_t, double, std::string>;

class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Parameters are 1-based, as in SQLite.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bindBlob(int index, std::string_view bytes);
    Statement& bindNull(int index);
    Statement& bindValue(int index, const SqlValue& value);
    /// Binds values to parameters 1..n.
    Statement& bindAll(const std::vector<SqlValue>& values);

    /// Advances to the next row: true when there is one, false when done. Throws on error.
    bool step();
    /// Runs a statement that returns no rows, then resets it.
    void run();
    /// Resets for a new execution and clears bindings.
    void reset();

    std::int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    /// Text or blob bytes of a column; valid until the next step/reset.
    std::string_view columnText(int column) const;
    bool columnIsNull(int column) const;

    bool valid() const noexcept { return stmt_ != nullptr; }

private:
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

/// How a connection is opened.
enum class OpenMode { ReadWriteCreate, ReadOnly };

class Connection {
public:
    /// Throws Error(Unavailable) when the file cannot be opened, Error(Corrupted) when it is not
    /// an SQLite database.
    Connection(const std::filesystem::path& path, OpenMode mode);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT). Only fixed text.
    void execute(std::string_view sql);

    /// A statement prepared once per connection and kept (the cache is bounded; when full it is
    /// emptied). The reference stays valid until the next call of cached().
    Statement& cached(const std::string& sql);
    /// cached() for SQL compiled from a query tree: a statement SQLite refuses to prepare (too
    /// deep, too many parameters) is Error(InvalidArgument).
    Statement& cachedQuery(const std::string& sql);

    sqlite3* handle() const noexcept { return db_; }
    std::int64_t lastInsertRowid() const;
    int changes() const;

private:
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, Statement> cache_;
};

/// Throws the sdk::Error for an SQLite result code (BUSY/LOCKED -> Unavailable, CORRUPT/NOTADB ->
/// Corrupted, everything else Internal), with the connection's message.
[[noreturn]] void throwSqliteError(sqlite3* db, int code, std::string_view context);

}  // namespace tessera::plugins::sqlite
