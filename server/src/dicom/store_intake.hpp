#pragma once
// The storage SCP's intake: instances that are stored (durable) and acknowledged wait here for
// a background indexer, so an association receives its next C-STORE while the last one is
// indexed.
//
// submit() runs on the association thread before the Success response: it appends one record
// ("I <seq>\t<uri>[\t<uri>...]") to an append-only log with a single write() (no fsync of its
// own: a killed process loses nothing the kernel already has) and queues the parsed object. The
// queue is bounded (capacity); a full queue makes submit() wait, which slows the senders down
// instead of letting memory grow. The indexer thread takes everything queued, up to batchSize:
//   1. one earlier-copy lookup for the batch (QueryService::urisMatching on SOPInstanceUID) and
//      one unindex() of the records of those instances under other URIs, so a re-sent instance
//      replaces the old one (within a batch, the last copy of an instance wins);
//      Records indexed but not yet committed (which a query does not see) are remembered by SOP
//      Instance UID and count as earlier copies too;
//   2. one IndexService::indexObjects() (one index() per indexer);
//   3. every commitInterval (250 ms) while work keeps coming, and that long after the last
//      batch: flush() (commit), then a "D <seq>" record (everything up to seq is indexed and
//      committed), or, when nothing newer was submitted, the log is truncated to zero.
// Bound: an acknowledged instance is searchable once the batches queued ahead of it are indexed
// (at most `capacity` instances) and the next commit is done (commitInterval): well under a
// second at the rates measured in docs/benchmarks.md.
// start() replays what the log holds after its last "D" (a process killed with acknowledged but
// unindexed instances): each URI is read back from its storage provider and indexed as above.
// stop() drains the queue, then joins the thread.
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

#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {
class IndexService;
class ProviderRegistry;
class QueryService;
}  // namespace tessera::core

namespace tessera::server {

struct StoreIntakeOptions {
    /// Instances that may wait for the indexer; submit() blocks beyond.
    std::size_t capacity = 1024;
    /// Instances per indexing batch at most.
    std::size_t batchSize = 256;
    /// Indexed records are committed at most this often while C-STOREs keep coming, and this
    /// long after the last one (one commit per instance would cost more than the indexing).
    std::chrono::milliseconds commitInterval{250};
};

class StoreIntake {
public:
    /// `log` empty = no log (nothing survives a crash; for tests of the queue alone).
    StoreIntake(core::IndexService& indexing, core::QueryService& queries, core::ProviderRegistry& registry,
                std::filesystem::path log, StoreIntakeOptions options = {});
    /// Calls stop().
    ~StoreIntake();
    StoreIntake(const StoreIntake&) = delete;
    StoreIntake& operator=(const StoreIntake&) = delete;

    /// Opens the log, indexes the instances it lists as not yet indexed, starts the indexer.
    /// Idempotent. Throws Error(Internal) when the log cannot be opened.
    void start();

    /// Logs and queues one stored instance (its URIs, one per storage provider, and the parsed
    /// object). Waits while the queue is full. Throws Error(Unavailable) when not started,
    /// Error(Internal) when the log record cannot be written (the caller refuses the C-STORE).
    void submit(std::vector<sdk::Uri> uris, std::unique_ptr<sdk::DicomObjectView> object);

    /// Indexes everything queued, stops the indexer. Idempotent.
    void stop();

    /// Instances queued or being indexed now.
    std::size_t backlog() const;

private:
    struct Entry {
        std::uint64_t seq = 0;
        std::vector<sdk::Uri> uris;
        std::unique_ptr<sdk::DicomObjectView> object;
    };

    void run();
    void indexBatch(std::vector<Entry>& batch);
    void commitIndexed(std::uint64_t seq);  // commit, then mark the log done up to seq
    void markDone(std::uint64_t seq);
    void replay();
    void appendLog(const std::string& record);  // caller holds mutex_

    core::IndexService& indexing_;
    core::QueryService& queries_;
    core::ProviderRegistry& registry_;
    std::filesystem::path logPath_;
    StoreIntakeOptions options_;

    std::mutex startMutex_;  // start()/stop()
    mutable std::mutex mutex_;  // the queue, the log
    std::condition_variable hasWork_;
    std::condition_variable hasRoom_;
    std::deque<Entry> queue_;
    std::size_t inFlight_ = 0;
    std::uint64_t nextSeq_ = 1;
    bool running_ = false;
    bool stopping_ = false;
    int logFd_ = -1;
    std::thread indexer_;
    // SOP Instance UID -> URIs indexed since the last commit (the indexer thread's own).
    std::map<std::string, std::vector<sdk::Uri>> uncommitted_;
};

}  // namespace tessera::server
