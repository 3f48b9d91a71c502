#pragma once
// SqliteSearcher: answers QueryRequests from an sqlite index that a SqliteIndex (in this or
// another process) writes. Each query takes a read-only connection from a small pool and runs
// in one read transaction, so its total and its page come from the same snapshot: the last
// commit (WAL mode: readers neither wait for the writer nor block it).
//
// Results: boolean match (no ranking), in record id order (the order URIs were first indexed,
// as the xapian provider); `total` is exact; `fields` holds the requested keywords the object
// has (first value for attributes repeated in sequence items), "" for a missing DIM field, and
// nothing for other missing fields. `uri` may be requested as a field too; the single field `*`
// returns every stored attribute.
//
// Thread-safety: search() may be called from any number of threads at once.

#include <cstddef>
#include <filesystem>
#include <memory>

#include "tessera/sdk/query_provider.hpp"

namespace tessera::plugins::sqlite {

class SqliteSearcher {
public:
    /// The index is opened on first use. `maxPooled` read connections are kept between queries.
    explicit SqliteSearcher(const std::filesystem::path& file, std::size_t maxPooled = 8);
    ~SqliteSearcher();

    SqliteSearcher(const SqliteSearcher&) = delete;
    SqliteSearcher& operator=(const SqliteSearcher&) = delete;

    /// Throws Error(InvalidArgument) for a query it cannot answer, Error(Unavailable) when the
    /// index cannot be opened (or is of another layout), Error(Internal) for other failures.
    sdk::QueryResponse search(const sdk::QueryRequest& request);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::plugins::sqlite
