#pragma once
// SqliteIndex: the single writer of one sqlite index file (schema: sqlite_schema.hpp). One
// record per URI (re-indexing replaces it in place, keeping its place in the result order),
// attribute rows per record_builder.hpp, the patient/study/series hierarchy kept up to date and
// pruned when its last instance goes.
//
// Transactions: writes go into one open transaction, committed by commit() and by itself every
// `commitEvery` records, so that readers (WAL mode: they never wait for the writer) see whole
// batches and a crash loses at most that many. Each record is written inside a savepoint: a
// record that fails is rolled back alone and counted, the rest of the batch goes on.
//
// Thread-safety: index(), unindex() and commit() may be called from several threads; building
// records runs in parallel, writing is serialised by one mutex. Only one SqliteIndex (in any
// process) may have an index file open: a second gets Error(Unavailable).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"

namespace tessera::plugins::sqlite {

struct SqliteIndexOptions {
    /// Commit after this many records written or removed since the last commit (0 = only on
    /// commit()). The same default as the xapian provider, so both show a task's progress alike.
    std::size_t commitEvery = 2000;
};

using SqliteLogger = std::function<void(sdk::LogLevel, std::string_view)>;

class SqliteIndex {
public:
    /// Opens or creates the index file at `file` (parent directories created). Throws
    /// Error(Unavailable) when another writer holds it or it cannot be created, Error(Corrupted)
    /// when it is not an SQLite database, Error(Unavailable) for an index of another layout.
    explicit SqliteIndex(const std::filesystem::path& file, SqliteIndexOptions options = {}, SqliteLogger logger = {});
    /// Commits what is pending.
    ~SqliteIndex();

    SqliteIndex(const SqliteIndex&) = delete;
    SqliteIndex& operator=(const SqliteIndex&) = delete;

    /// Adds or replaces each item's record. An item that cannot be indexed is counted in
    /// `errors` and logged; the others go on.
    sdk::IndexReport index(std::span<const sdk::IndexItem> batch);

    /// Deletes the records of these URIs.
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris);

    /// Makes everything written so far durable and visible to readers.
    void commit();

    /// Records in the index, uncommitted changes included.
    std::size_t documentCount() const;

    const std::filesystem::path& path() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::plugins::sqlite
