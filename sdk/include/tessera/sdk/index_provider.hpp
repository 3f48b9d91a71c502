#pragma once
/// @file index_provider.hpp
/// An IndexProvider keeps a searchable record of DICOM objects, keyed by their URI.
///
/// Ownership: the batch and the views in it are borrowed for the duration of the call.
/// Thread-safety: index() and unindex() may be called from several threads at once (the host
/// does not serialise them); an implementation with a single writer must serialise internally.
/// They may run concurrently with the same plugin's QueryProvider.
/// @since 1.0

#include <cstddef>
#include <span>
#include <vector>

#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/provider.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::sdk {

/// One object to index and where it is stored.
/// @since 1.0
struct IndexItem {
    Uri uri;
    const DicomObjectView* object = nullptr;  ///< never null when handed to a provider
};

/// @since 1.0
struct IndexReport {
    std::size_t indexed = 0;  ///< objects now in the index (re-indexed ones included)
    std::size_t errors = 0;   ///< objects refused; the provider logs why
};

/// @since 1.0
struct UnindexReport {
    std::size_t removed = 0;   ///< URIs whose record was removed
    std::size_t notFound = 0;  ///< URIs it had no record of
    std::size_t failed = 0;    ///< URIs it could not remove
};

/// @since 1.0
class IndexProvider : public virtual Provider {
public:
    /// False when a URI is surely not something this index takes (cheap, no I/O).
    virtual bool handles(const Uri&) const { return true; }

    /// Adds or replaces the record of each item (indexing a URI twice leaves one record).
    /// Records become visible to queries no later than the next commit().
    virtual IndexReport index(std::span<const IndexItem> batch) = 0;

    /// Removes the records of these URIs.
    virtual UnindexReport unindex(std::span<const Uri> uris) = 0;

    /// Makes everything indexed so far durable and visible to queries. Called by the host at the
    /// end of a task and periodically during long ones.
    virtual void commit() {}
};

}  // namespace tessera::sdk
