#pragma once
// SqliteProvider: the `sqlite` provider, one object that is both the IndexProvider and the
// QueryProvider over one index file (by default `<data directory>/index.sqlite`, settings key
// `path`).
//
// Life cycle: open() (the plugin set calls it from configure()) before index()/query(); calls
// before open() or after close() throw Error(Unavailable).
// Thread-safety: index/unindex/commit/query may run concurrently; open/close are called by the
// host's life-cycle thread while no other call runs.

#include <filesystem>
#include <memory>
#include <string>

#include "tessera/plugins/sqlite/sqlite_index.hpp"
#include "tessera/plugins/sqlite/sqlite_searcher.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/query_provider.hpp"

namespace tessera::plugins::sqlite {

class SqliteProvider final : public sdk::IndexProvider, public sdk::QueryProvider {
public:
    static constexpr const char* kName = "sqlite";

    /// `host` (may be null in tests) receives log lines.
    explicit SqliteProvider(sdk::HostServices* host = nullptr);
    ~SqliteProvider() override;

    /// Opens (creating if needed) the index file at `file`.
    void open(const std::filesystem::path& file, SqliteIndexOptions options = {});
    /// Commits and releases the index.
    void close();

    std::string name() const override { return kName; }

    sdk::IndexReport index(std::span<const sdk::IndexItem> batch) override;
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris) override;
    void commit() override;
    sdk::QueryResponse query(const sdk::QueryRequest& request) override;

private:
    sdk::HostServices* host_;
    std::unique_ptr<SqliteIndex> index_;
    std::unique_ptr<SqliteSearcher> searcher_;
};

}  // namespace tessera::plugins::sqlite
