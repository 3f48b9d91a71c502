#pragma once
// Indexing: turns "index this URI" into a task that reads every stored item under it once and
// hands the parsed objects to the chosen IndexProviders; removes records (unindex); indexes an
// object that is already parsed (C-STORE).
//
// The pipeline of one task, memory bounded whatever the corpus size:
//   1. a counting pass over the storage provider's (streaming) enumeration, so that progress is
//      a real fraction;
//   2. the work pass: the task's thread enumerates again into a bounded queue; a pool of parser
//      threads reads each item ONCE — the local file's header through
//      StorageProvider::localPath() when the provider has one, else the bytes from open() — and
//      collects parsed objects into batches that each parser hands to every chosen indexer
//      (IndexProviders build documents in parallel and serialise their own writes);
//   3. commit() on each indexer, then the task's report.
// Unreadable items are counted as errors (warning with URI and reason), readable ones that are
// not storable objects (DICOMDIR, no SOP UIDs) as skipped (information). Nothing a file holds can
// crash the server. A stop request is seen between items and between batches, so a stopped task
// ends within about a second (one batch).
//
// Ownership: borrows the registry and the task manager, which must outlive it; the providers
// it uses must stay registered until shutdown() has returned.
// Thread-safety: every method may be called from any thread, concurrently.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/task_manager.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {

class ProviderRegistry;

struct IndexServiceOptions {
    /// Parser threads per task; 0 = std::thread::hardware_concurrency() (at least 1).
    std::size_t threads = 0;
    /// Objects per IndexProvider::index() call.
    std::size_t batchSize = 256;
    /// Tasks that run at once; more wait (stoppable) for a free slot.
    std::size_t maxConcurrentTasks = 2;
    /// How long indexObject() lets records wait before it commits the indexers it touched, so a
    /// burst of C-STOREs costs one commit rather than one each.
    std::chrono::milliseconds commitDelay{1000};
    /// One log line; empty = Poco's logger "tessera.index".
    std::function<void(sdk::LogLevel, const std::string&)> log;
    /// Called for each object handed to the indexers (tasks, indexItems(), indexObject()), on the
    /// thread that parsed it, e.g. to make its thumbnail. Must be thread-safe; what it throws is
    /// logged and otherwise ignored. Empty = nothing.
    std::function<void(const sdk::Uri&, const sdk::DicomObjectView&)> onIndexed;
    /// Called with the URIs of every unindex() call, after the indexers, e.g. to drop their
    /// thumbnails. Same rules as onIndexed.
    std::function<void(const std::vector<sdk::Uri>&)> onUnindexed;
};


class IndexService {
public:
    IndexService(ProviderRegistry& registry, TaskManager& tasks, IndexServiceOptions options = {});
    /// Calls shutdown().
    ~IndexService();
    IndexService(const IndexService&) = delete;
    IndexService& operator=(const IndexService&) = delete;

    /// The indexers these names choose: enabled IndexProviders by name, case-insensitive, in the
    /// order given, duplicates dropped; no names = every enabled IndexProvider in registration
    /// order. Throws Error(InvalidArgument) "<name> is not a valid index provider" for an
    /// unknown or disabled one.
    std::vector<sdk::IndexProvider*> resolveIndexers(const std::vector<std::string>& names) const;

    /// Starts one task per URI, fed to every chosen indexer (so each file is parsed once), named
    /// `[<indexer>[,<indexer>...]]index <uri>`, and returns at once with their snapshots. URIs
    /// that no enabled StorageProvider serves get no task; nor does anything when no indexer is
    /// chosen. Before any task starts, each URI is checked by its provider: the Error it throws
    /// (Forbidden outside its roots, NotFound, InvalidArgument) propagates and nothing starts.
    /// Throws like resolveIndexers() for bad names, Error(Unavailable) after shutdown().
    std::vector<TaskInfo> index(const std::vector<sdk::Uri>& uris, const std::vector<std::string>& indexerNames);

    /// Indexes these stored items (each URI names one item, e.g. files a watch folder saw) on the
    /// calling thread, without a task (so a stream of small batches does not flood the task
    /// list): each is read once through the enabled StorageProvider that serves it, handed in
    /// batches of batchSize to every enabled indexer that handles it, and the indexers touched
    /// are committed before it returns. A URI no provider serves, or one it refuses (outside its
    /// roots, gone), counts as an error and is logged; nothing is thrown for an item. Throws
    /// Error(Unavailable) after shutdown().
    sdk::IndexReport indexItems(const std::vector<sdk::Uri>& uris);

    /// Indexes an object already parsed (a C-STORE) into every enabled indexer that handles the
    /// URI; they are committed within commitDelay. Returns the summed reports. An indexer that
    /// throws is logged and counted as one error; nothing is thrown.
    sdk::IndexReport indexObject(const sdk::Uri& uri, const sdk::DicomObjectView& object);

    /// indexObject() for a batch (the storage SCP's background indexer): one
    /// IndexProvider::index() call per enabled indexer with the items it handles, committed
    /// within commitDelay (or by flush()). Returns the summed reports; an indexer that throws is
    /// logged and counts one error per item it was given; nothing is thrown.
    sdk::IndexReport indexObjects(std::span<const sdk::IndexItem> items);

    /// Commits now what indexObject() left pending.
    void flush();

    /// Removes the records of these URIs from the chosen indexers (names as resolveIndexers()),
    /// then commits them. With several indexers a URI counts once: `removed` and `failed` are
    /// the largest any indexer reported and `notFound` the rest.
    sdk::UnindexReport unindex(const std::vector<sdk::Uri>& uris, const std::vector<std::string>& indexerNames);

    /// Stops every running task, waits for them, commits pending indexObject() work, and refuses
    /// new tasks. Idempotent. Call before the providers go away.
    void shutdown();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};


}  // namespace tessera::core
