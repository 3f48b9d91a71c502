#pragma once
/// @file deferred_durability_storage.hpp
/// An optional interface a StorageProvider may also implement: store now, make durable later,
/// many items with one flush.
///
/// A host that already holds the bytes durably elsewhere (the storage SCP's intake journal) does
/// not need every store to reach stable storage on its own; it needs a point after which a batch
/// of stores is durable, so that it can drop its own copy. A provider offers that by deriving
/// from this class too; the host finds it with
/// `dynamic_cast<sdk::DeferredDurabilityStorage*>(storageProvider)`. Providers that do not
/// implement it keep being called through StorageProvider::store() alone, so SDK v1 plugins stay
/// source- and binary-compatible (no member was added to StorageProvider).
///
/// Contract:
/// - storeUnsynced() is store() without the wait for stable storage: same URI, same layout, same
///   replacement of an earlier copy, same errors, and just as atomic for readers (open() sees
///   the old item or the new one, never a part). After a crash the item may be missing, old or
///   torn: the caller must be able to store it again.
/// - syncStored(uris) returns once every item that storeUnsynced() returned in `uris` (and what
///   names it: directory entries) is on stable storage. It may flush more than that. Throws
///   Error(Unavailable) when it cannot; then none of `uris` may be taken as durable (the caller
///   stores them again with store()).
///
/// Thread-safety: both may be called concurrently with each other and with every other method.
/// @since 1.1

#include <cstdint>
#include <span>

#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::sdk {

/// @since 1.1
class DeferredDurabilityStorage {
public:
    virtual ~DeferredDurabilityStorage() = default;

    /// Stores like StorageProvider::store(), except that the item need not be durable yet.
    virtual Uri storeUnsynced(const DicomObjectView& object, std::span<const std::uint8_t> part10) = 0;

    /// Makes every item in `uris` (returned by storeUnsynced()) durable. Throws Error(Unavailable).
    virtual void syncStored(std::span<const Uri> uris) = 0;
};

}  // namespace tessera::sdk
