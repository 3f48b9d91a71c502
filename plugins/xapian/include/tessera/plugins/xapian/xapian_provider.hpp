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
// With several shards the provider, not each shard, commits every `commitEvery` documents, after
// a whole batch and on all shards at once; a query that overlapped a commit is run again (and
// after a few tries holds commits off while it reads), so every answer is one consistent cut
// across the shards, as one database's answer is.
// One shard is exactly the single XapianIndex + XapianSearcher of before.
//
// Life cycle: open() (the plugin set calls it from configure()) before index()/query(); calls
// before open() or after close() throw Error(Unavailable).
// Thread-safety: index/unindex/commit/query may run concurrently; open/close are called by the
// host's life-cycle thread while no other call runs.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
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

    /// Commits every shard in parallel, inside the commit counters queries check.
    void commitShards();
    /// Counts written documents; commits when commitEvery_ is reached. Never throws.
    void noteWritten(std::size_t documents);
    void log(sdk::LogLevel level, const std::string& message) const;

    sdk::HostServices* host_;
    std::vector<Shard> shards_;
    std::unique_ptr<ShardPool> pool_;  // one worker per shard beyond the first
    std::size_t commitEvery_ = 0;
    std::atomic<std::size_t> sinceCommit_{0};
    // A commit is in progress while they differ; a query that saw `started` move retries.
    std::atomic<std::uint64_t> commitsStarted_{0};
    std::atomic<std::uint64_t> commitsFinished_{0};
    // Held exclusively by every commit, shared only by a query that lost its retries to commits:
    // it then waits for the commit under way and keeps the next one out while it reads.
    std::shared_mutex commitGate_;
};

}  // namespace tessera::plugins::xapian
