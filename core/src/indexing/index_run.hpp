#pragma once
// One index task's pipeline (see tessera/core/index_service.hpp): count, then enumerate into a
// bounded queue, parse each item once on a pool of threads, hand full batches through a
// one-deep queue to as many writer threads (so parsing goes on while the indexers write),
// commit. Private to core.
//
// Thread-safety: runIndexTask() runs on the calling thread plus the parser and writer threads
// it starts and joins before returning; the config is read-only meanwhile. Indexers may get
// concurrent index() calls (as they did before, from the parsers).

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core::indexing {

using LogFunction = std::function<void(sdk::LogLevel, const std::string&)>;

struct IndexRunConfig {
    sdk::StorageProvider* storage = nullptr;
    sdk::Uri root;
    std::vector<sdk::IndexProvider*> indexers;
    std::size_t threads = 1;
    std::size_t batchSize = 256;
    LogFunction log;
    /// IndexServiceOptions::onIndexed, or empty.
    std::function<void(const sdk::Uri&, const sdk::DicomObjectView&)> onIndexed;
};

struct IndexRunResult {
    TaskReport report;  // elapsed not filled in
    bool cancelled = false;
};

/// Runs the whole pipeline, reporting progress on `task` and watching its stop flag. Never
/// throws for anything an item or a provider does.
IndexRunResult runIndexTask(const IndexRunConfig& config, TaskHandle& task);

/// Hands a batch of parsed objects to every indexer that handles them. `handled` (same size as
/// `items`) tells which items at least one indexer took; returns how many of the handled items
/// the worst indexer refused. Calls config.onIndexed for each handled item. Never throws.
std::size_t indexParsedBatch(const IndexRunConfig& config, const std::vector<sdk::IndexItem>& items,
                             std::vector<bool>& handled);

/// Reads one stored item once: the local file's header when the provider has a local path,
/// else the bytes from open(). Errors of the provider become an Error result with its message.
DicomReadResult readStoredItem(sdk::StorageProvider& storage, const sdk::Uri& uri);

}  // namespace tessera::core::indexing
