#pragma once
// XapianIndex: the single writer of one Xapian database. One document per URI (replaced on
// re-index), terms per tessera/plugins/xapian/terms.hpp, every attribute stored in the document
// data, range keys in value slots.
//
// Durability: documents become visible and durable at commit(), which also runs by itself every
// `commitEvery` documents so that a crash (even kill -9) loses at most that many; Xapian keeps
// the last commit readable whatever happens to the process.
//
// Thread-safety: index(), unindex() and commit() may be called from several threads; building
// documents runs in parallel, writing is serialised by one mutex. Only one XapianIndex (in any
// process) may have a database open: a second gets Error(Unavailable).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"

namespace tessera::plugins::xapian {

struct XapianIndexOptions {
    /// Commit after this many documents written since the last commit (0 = only on commit()).
    /// Xapian keeps every uncommitted posting in memory maps; at 2000 documents of ~50
    /// attributes they stay near 30 MB and indexing costs less CPU per document than with
    /// larger batches (bench/xapian_plugin_bench.cpp: 5000 took ~10-20 % more, 20000 ~60 %).
    std::size_t commitEvery = 2000;
};

using XapianLogger = std::function<void(sdk::LogLevel, std::string_view)>;

class XapianIndex {
public:
    /// Opens or creates the database at `path` (directories created). Throws Error(Unavailable)
    /// when another writer holds it, Error(Corrupted) when it cannot be read.
    explicit XapianIndex(const std::filesystem::path& path, XapianIndexOptions options = {},
                         XapianLogger logger = {});
    /// Commits what is pending.
    ~XapianIndex();

    XapianIndex(const XapianIndex&) = delete;
    XapianIndex& operator=(const XapianIndex&) = delete;

    /// Adds or replaces each item's document. An item that cannot be indexed is counted in
    /// `errors` and logged; the others go on.
    sdk::IndexReport index(std::span<const sdk::IndexItem> batch);

    /// Deletes the documents of these URIs.
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris);

    /// Makes everything written so far durable and visible to readers.
    void commit();

    /// Documents in the database, uncommitted changes included.
    std::size_t documentCount() const;

    const std::filesystem::path& path() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::plugins::xapian
