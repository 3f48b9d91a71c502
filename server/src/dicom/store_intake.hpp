#pragma once
// The storage SCP's intake: what happens to a C-STORE between its journal record and the index.
//
// submit() runs on the association thread before the Success response: it appends the received
// Part 10 bytes (with the AE titles and the storage providers chosen) to the intake journal
// (intake_journal.hpp: one fdatasync per group of concurrent C-STOREs, the durability point) and
// queues the parsed object. Backpressure: submit() waits while the records not yet done exceed
// backlogBytes (or capacity instances), so memory and journal disk stay bounded.
// Off the association threads:
//   1. `materialisers` threads store each record through its storage providers: a provider that
//      also implements sdk::DeferredDurabilityStorage gets storeUnsynced() (no flush: the journal
//      holds the record durably until the provider's syncStored() at the next commit, step 3),
//      any other its own durable store() (several at once). One SOP
//      Instance UID always goes to the same thread, so copies of an instance are stored in the
//      order they arrived. A provider that fails keeps the record: the error is logged and the
//      store retried with backoff (retryMin doubling up to retryMax) until it succeeds; nothing
//      acknowledged is dropped (a stop abandons the retries; the journal replays the record on
//      the next start);
//   2. the indexer takes what is stored (after gatherDelay, or sooner when batchSize are
//      waiting), up to batchSize, ordered by seq:
//      one earlier-copy lookup for the batch (QueryService::urisMatching on SOPInstanceUID) and
//      one unindex() of the records of those instances under other URIs, so a re-sent instance
//      replaces the old one (within a batch, the last copy of an instance wins);
//      records indexed but not yet committed (which a query does not see) are remembered by SOP
//      Instance UID and count as earlier copies too; then one IndexService::indexObjects();
//   3. every commitInterval (250 ms) while work keeps coming, and that long after the last
//      batch: syncStored() of everything stored unsynced since the last commit (one call per
//      provider), flush() (commit), then the journal is told those records are done (its
//      segments are recycled once all their records are). A record is marked done only once
//      its files are durable: a crash before that replays it from the journal. When a sync
//      fails, its records are not done: they go back to step 1 with the durable store().
// Bound: an acknowledged instance is searchable once the records ahead of it are stored and
// indexed (at most backlogBytes of them) and the next commit is done (commitInterval): under a
// second at the rates in docs/benchmarks.md.
// start() opens the journal and queues every record it holds that is not done (a process killed
// with acknowledged instances not yet stored or indexed): they are stored again (store()
// replaces) and indexed as above. stop() stores and indexes everything queued, then joins.
//
// Ownership: borrows the services, which must outlive it (stop() before they go).
// Thread-safety: submit() from any number of threads; start()/stop() from one at a time.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dicom/intake_journal.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {
class IndexService;
class ProviderRegistry;
class QueryService;
}  // namespace tessera::core

namespace tessera::server {

struct StoreIntakeOptions {
    /// Instances not yet done (stored, indexed, committed) at most; submit() waits beyond.
    std::size_t capacity = 8192;
    /// Part 10 bytes not yet done at most; submit() waits beyond (one record always passes).
    std::uint64_t backlogBytes = std::uint64_t(256) << 20;
    /// Threads storing records through the storage providers.
    std::size_t materialisers = 4;
    /// Instances per indexing batch at most.
    std::size_t batchSize = 256;
    /// The indexer, woken by a first stored instance, waits this long for more (or a full
    /// batch) before it indexes: one earlier-copy lookup and one wake-up per batch instead of
    /// per instance at one association's rate. Well inside commitInterval.
    std::chrono::milliseconds gatherDelay{40};
    /// Indexed records are committed at most this often while C-STOREs keep coming, and this
    /// long after the last one (one commit per instance would cost more than the indexing).
    std::chrono::milliseconds commitInterval{250};
    /// Backoff of a store that failed after Success.
    std::chrono::milliseconds retryMin{100};
    std::chrono::milliseconds retryMax{5000};
    IntakeJournalOptions journal;
};

class StoreIntake {
public:
    /// `journalDir` empty = no journal (nothing survives a crash; for tests of the queue alone).
    StoreIntake(core::IndexService& indexing, core::QueryService& queries, core::ProviderRegistry& registry,
                std::filesystem::path journalDir, StoreIntakeOptions options = {});
    /// Calls stop().
    ~StoreIntake();
    StoreIntake(const StoreIntake&) = delete;
    StoreIntake& operator=(const StoreIntake&) = delete;

    /// Opens the journal, queues the records it holds that are not done, starts the threads.
    /// Idempotent. Throws Error(Internal) when the journal cannot be opened.
    void start();

    /// Journals one received instance (durable when this returns) and queues it with its parsed
    /// object. Waits while the backlog is over its bounds. Throws Error(Unavailable) when not
    /// started, Error(Internal) when the journal cannot be written or flushed (the caller refuses
    /// the C-STORE; nothing will be stored).
    void submit(IntakeRecord record, std::unique_ptr<sdk::DicomObjectView> object);

    /// Stores and indexes everything queued, stops the threads. Idempotent.
    void stop();

    /// Instances submitted and not yet done (stored, indexed and committed).
    std::size_t backlog() const;
    /// Their Part 10 bytes.
    std::uint64_t backlogBytes() const;

private:
    struct Entry {
        std::uint64_t seq = 0;
        std::uint64_t bytes = 0;
        IntakeRecord record;  // its part10 is released once stored durably
        std::vector<sdk::Uri> uris;
        std::unique_ptr<sdk::DicomObjectView> object;
        // Indexes into record.providers of the stores made with storeUnsynced().
        std::vector<std::size_t> unsynced;
        bool durableOnly = false;  // a sync of it failed: store() from now on
    };

    void enqueue(Entry entry);  // caller holds mutex_
    void materialise(std::size_t shard);
    bool storeEntry(Entry& entry);  // false: a provider failed
    void run();
    void indexBatch(std::vector<Entry>& batch);
    // Syncs `unsynced` (entries indexed since the last commit), commits, marks done. Entries
    // whose sync failed are queued again for a durable store() instead.
    void commitIndexed(std::vector<std::uint64_t>& seqs, std::uint64_t& bytes, std::vector<Entry>& unsynced);

    core::IndexService& indexing_;
    core::QueryService& queries_;
    core::ProviderRegistry& registry_;
    std::filesystem::path journalDir_;
    StoreIntakeOptions options_;
    std::unique_ptr<IntakeJournal> journal_;

    std::mutex startMutex_;  // start()/stop()
    mutable std::mutex mutex_;  // the queues, the counters
    std::condition_variable hasWork_;   // the indexer
    // One per materialiser: an enqueue wakes the one thread that owns the shard, not all.
    std::vector<std::unique_ptr<std::condition_variable>> toStore_;
    std::condition_variable hasRoom_;
    std::condition_variable stopped_;   // wakes retry backoffs
    std::vector<std::deque<Entry>> toStoreQueues_;  // one per materialiser
    std::deque<Entry> queue_;  // stored, to index
    std::size_t pending_ = 0;  // submitted, not done
    std::uint64_t pendingBytes_ = 0;
    std::size_t materialisersLeft_ = 0;
    std::uint64_t nextSeq_ = 1;  // without a journal
    bool running_ = false;
    bool stopping_ = false;
    std::vector<std::thread> materialisers_;
    std::thread indexer_;
    // SOP Instance UID -> URIs indexed since the last commit (the indexer thread's own).
    std::map<std::string, std::vector<sdk::Uri>> uncommitted_;
};

}  // namespace tessera::server
