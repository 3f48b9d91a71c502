#pragma once
// Thumbnails at index time: the IndexService hooks that keep a ThumbnailStore in step with the
// index. After an object is indexed (task, watch folder, C-STORE) its thumbnail is rendered from
// the local file behind its URI, when `enabled()` says so (archive.save-thumbnails) and the
// store has a renderer, at `size()` (archive.thumbnail-size); items of providers without local
// files get none (the on-demand path renders them). Unindexing removes the thumbnails of the
// URIs, whatever the setting.
//
// Thread-safety: the hooks run on the indexing threads; `enabled` and `size` must be
// thread-safe. The store and registry must outlive the IndexService.

#include <functional>

#include "tessera/core/index_service.hpp"
#include "tessera/core/thumbnail_store.hpp"

namespace tessera::core {

class ProviderRegistry;

/// Sets options.onIndexed and options.onUnindexed (chaining any already set, which run first).
void addThumbnailHooks(IndexServiceOptions& options, ThumbnailStore& store, const ProviderRegistry& registry,
                       std::function<bool()> enabled, std::function<unsigned()> size);

}  // namespace tessera::core
