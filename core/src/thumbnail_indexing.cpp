#include "tessera/core/thumbnail_indexing.hpp"

#include "tessera/core/provider_registry.hpp"
#include "tessera/sdk/storage_provider.hpp"

namespace tessera::core {

void addThumbnailHooks(IndexServiceOptions& options, ThumbnailStore& store, const ProviderRegistry& registry,
                       std::function<bool()> enabled, std::function<unsigned()> size) {
    options.onIndexed = [previous = std::move(options.onIndexed), &store, &registry, enabled = std::move(enabled),
                         size = std::move(size)](const sdk::Uri& uri, const sdk::DicomObjectView& object) {
        if (previous) previous(uri, object);
        if (!store.canRender() || !enabled()) return;
        auto* storage = registry.storageForUri(uri);
        if (!storage) return;
        const auto file = storage->localPath(uri);  // the provider's root checks apply
        if (!file) return;
        store.make(uri, *file, size());
    };
    options.onUnindexed = [previous = std::move(options.onUnindexed), &store](const std::vector<sdk::Uri>& uris) {
        if (previous) previous(uris);
        store.remove(uris);
    };
}

}  // namespace tessera::core
