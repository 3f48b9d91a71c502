#pragma once
// XapianSearcher: answers QueryRequests from a Xapian database that a XapianIndex (in this or
// another process) writes. Each query takes a read handle from a small pool and reopens it, so
// it sees the last commit; a handle overtaken by the writer (DatabaseModifiedError) is reopened
// and the query retried.
//
// Results: boolean match (no ranking), in document id order (the order documents were first
// indexed); `total` is exact, taken from statistics where they tell it (see run()) and counted
// otherwise; `fields` holds the requested keywords the object has (first value for attributes
// repeated in sequence items), "" for a missing DIM field, and nothing for other missing fields.
// `uri` may be requested as a field too; the single field `*` returns every stored attribute.
//
// Thread-safety: search() may be called from any number of threads at once.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>

#include "tessera/sdk/query_provider.hpp"

namespace tessera::plugins::xapian {

/// Whether the keyword is one of the default DIM fields (Dicoogle's list), which results always
/// carry ("" when the object lacks them).
bool isDimField(std::string_view keyword) noexcept;

class XapianSearcher {
public:
    /// The database is opened on first use. `maxPooled` read handles are kept between queries.
    explicit XapianSearcher(const std::filesystem::path& path, std::size_t maxPooled = 8);
    ~XapianSearcher();

    XapianSearcher(const XapianSearcher&) = delete;
    XapianSearcher& operator=(const XapianSearcher&) = delete;

    /// Throws Error(InvalidArgument) for a query it cannot answer, Error(Unavailable) when the
    /// database cannot be opened, Error(Internal) for other engine failures.
    sdk::QueryResponse search(const sdk::QueryRequest& request);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::plugins::xapian
