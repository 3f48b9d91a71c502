#pragma once
// XapianProvider: the `xapian` provider, one object that is both the IndexProvider and the
// QueryProvider over one index (by default `<data directory>/index`, settings key `path`).
//
// The index is split into shards (tessera/plugins/xapian/shard_layout.hpp), each a complete
// XapianIndex + XapianSearcher on its own directory, so that several writers work at once: a
// URI lives in shard fnv1a64(URI) % count; index/unindex/commit write the shards in parallel
// (ShardPool); a query runs on every shard and answers shard 0's matches, then shard 1's, ...,
// with the exact total summed and offset/limit applied over that concatenation.
//
// Life cycle: open() (the plugin set calls it from configure()) before index()/query(); calls
// before open() or after close() throw Error(Unavailable).
// Thread-safety: index/unindex/commit/query may run concurrently; open/close are called by the
// host's life-cycle thread while no other call runs.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tessera/plugins/xapian/shard_pool.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/plugins/xapian/xapian_searcher.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/query_provider.hpp"

namespace tessera::plugins::xapian {

class XapianProvider final : public sdk::IndexProvider, public sdk::QueryProvider {
public:
    static constexpr const char* kName = "xapian";

    /// `host` (may be null in tests) receives log lines.
    explicit XapianProvider(sdk::HostServices* host = nullptr);
    ~XapianProvider() override;

    /// Opens (creating if needed) the index at `path` with the default shard count.
    void open(const std::filesystem::path& path, XapianIndexOptions options = {});
    /// Same, with `shards` shards for a new index (0 = defaultShardCount()). An existing index
    /// keeps the count it was created with; an unsharded one opens as one shard.
    void open(const std::filesystem::path& path, XapianIndexOptions options, std::size_t shards);
    /// Commits and releases the database.
    void close();

    std::string name() const override { return kName; }

    sdk::IndexReport index(std::span<const sdk::IndexItem> batch) override;
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris) override;
    void commit() override;
    sdk::QueryResponse query(const sdk::QueryRequest& request) override;

    /// Shards of the open index (0 when not open).
    std::size_t shardCount() const noexcept { return shards_.size(); }
    /// Documents in every shard, uncommitted changes included.
    std::size_t documentCount() const;
    /// Documents in one shard (index < shardCount()).
    std::size_t documentCount(std::size_t shard) const;

private:
    struct Shard {
        std::unique_ptr<XapianIndex> index;
        std::unique_ptr<XapianSearcher> searcher;
    };

    sdk::HostServices* host_;
    std::vector<Shard> shards_;
    std::unique_ptr<ShardPool> pool_;  // one worker per shard beyond the first
};

}  // namespace tessera::plugins::xapian
