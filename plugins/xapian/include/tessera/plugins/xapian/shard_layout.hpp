#pragma once
// Shard layout of the xapian provider: which directories hold the shards of an index, which
// shard a URI belongs to, and the shard count stored beside them.
//
// A sharded index at `<root>` is `<root>/shard-count` (the count, written once when the index
// is created) and one complete Xapian database per shard in `<root>/shard-<i>`. The stored count
// wins over the configured one on every later open, because a URI's shard is its hash modulo
// the count: changing it would strand every existing document in the wrong shard. A database
// directly in `<root>` (the unsharded layout of before) opens as one shard, and a new index of
// one shard is created in that layout.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "tessera/plugins/xapian/stable_hash.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"

namespace tessera::plugins::xapian {

/// The most shards an index may have (each costs a writer, a thread and open files).
inline constexpr std::size_t kMaxShards = 64;
/// The file under the index root that records the shard count.
inline constexpr std::string_view kShardCountFile = "shard-count";

/// The shard of a URI in an index of `shardCount` (> 0) shards.
std::size_t shardOf(std::string_view uri, std::size_t shardCount) noexcept;

/// min(hardware threads, 4); 1 on a single core or when the count is unknown.
std::size_t defaultShardCount() noexcept;

struct ShardLayout {
    std::vector<std::filesystem::path> directories;  ///< one per shard, in shard order
    bool unsharded = false;                          ///< one database at the root, no count file
};

/// Resolves (creating it for a new index) the layout under `root`. `requested` is the configured
/// count (0 = defaultShardCount()); it only matters for a new index, and a difference from an
/// existing index's count is logged. Throws Error(Corrupted) for an unreadable count file,
/// Error(Unavailable) when the root cannot be written, Error(InvalidArgument) for a requested
/// count above kMaxShards.
ShardLayout resolveShardLayout(const std::filesystem::path& root, std::size_t requested, const XapianLogger& logger);

}  // namespace tessera::plugins::xapian
