#include "dicom/store_intake.hpp"

#include <Poco/Logger.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/sdk/deferred_durability_storage.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/storage_provider.hpp"

namespace tessera::server {
namespace {

using sdk::Error;
using sdk::ErrorCode;

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom.storage");
}

// Named threads: per-thread CPU in /proc/<pid>/task/*/stat and profiles tell them apart.
void nameThread(const std::string& name) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace

StoreIntake::StoreIntake(core::IndexService& indexing, core::QueryService& queries, core::ProviderRegistry& registry,
                         std::filesystem::path journalDir, StoreIntakeOptions options)
    : indexing_(indexing),
      queries_(queries),
      registry_(registry),
      journalDir_(std::move(journalDir)),
      options_(options) {
    options_.capacity = std::max<std::size_t>(options_.capacity, 1);
    options_.batchSize = std::max<std::size_t>(options_.batchSize, 1);
    options_.materialisers = std::max<std::size_t>(options_.materialisers, 1);
    if (!journalDir_.empty()) journal_ = std::make_unique<IntakeJournal>(journalDir_, options_.journal);
}

StoreIntake::~StoreIntake() {
    stop();
}

void StoreIntake::start() {
    std::lock_guard startLock(startMutex_);
    {
        std::lock_guard lock(mutex_);
        if (running_) return;
    }
    std::vector<IntakeRecord> replayed;
    if (journal_) replayed = journal_->open();

    std::lock_guard lock(mutex_);
    stopping_ = false;
    running_ = true;
    toStoreQueues_.clear();
    toStoreQueues_.resize(options_.materialisers);
    toStore_.clear();
    for (std::size_t i = 0; i < options_.materialisers; ++i)
        toStore_.push_back(std::make_unique<std::condition_variable>());
    // What a killed process acknowledged and did not finish: stored again and indexed.
    std::vector<std::uint64_t> unreadable;
    for (auto& record : replayed) {
        auto parsed = core::readDicomBytes(record.part10);
        if (parsed.status != core::DicomReadStatus::Ok) {
            // It was parsed before its Success, so its CRC matched and the bytes changed since?
            // Nothing can be stored from it.
            logger().error("C-STORE journal: record %?d cannot be read back: %s", record.seq, parsed.reason);
            unreadable.push_back(record.seq);
            continue;
        }
        Entry entry;
        entry.seq = record.seq;
        entry.bytes = record.part10.size();
        entry.record = std::move(record);
        entry.object = std::move(parsed.object);
        ++pending_;
        pendingBytes_ += entry.bytes;
        enqueue(std::move(entry));
    }
    if (!unreadable.empty()) journal_->markDone(unreadable);
    materialisersLeft_ = options_.materialisers;
    for (std::size_t i = 0; i < options_.materialisers; ++i)
        materialisers_.emplace_back([this, i] {
            nameThread("intake-store-" + std::to_string(i));
            materialise(i);
        });
    indexer_ = std::thread([this] {
        nameThread("intake-index");
        run();
    });
}

void StoreIntake::stop() {
    std::lock_guard startLock(startMutex_);
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
        for (auto& wake : toStore_) wake->notify_all();
    }
    hasWork_.notify_all();
    hasRoom_.notify_all();
    stopped_.notify_all();
    for (auto& thread : materialisers_) thread.join();
    materialisers_.clear();
    if (indexer_.joinable()) indexer_.join();
    if (journal_) journal_->close();
    std::lock_guard lock(mutex_);
    running_ = false;
    pending_ = 0;
    pendingBytes_ = 0;
    queue_.clear();
    toStoreQueues_.clear();
}

std::size_t StoreIntake::backlog() const {
    std::lock_guard lock(mutex_);
    return pending_;
}

std::uint64_t StoreIntake::backlogBytes() const {
    std::lock_guard lock(mutex_);
    return pendingBytes_;
}

void StoreIntake::enqueue(Entry entry) {
    const std::string sop = entry.object->get("SOPInstanceUID").value_or("");
    const std::size_t index = std::hash<std::string>{}(sop) % toStoreQueues_.size();
    toStoreQueues_[index].push_back(std::move(entry));
    toStore_[index]->notify_one();
}

void StoreIntake::submit(IntakeRecord record, std::unique_ptr<sdk::DicomObjectView> object) {
    const std::uint64_t bytes = record.part10.size();
    {
        std::unique_lock lock(mutex_);
        hasRoom_.wait(lock, [&] {
            return (pending_ < options_.capacity && (pending_ == 0 || pendingBytes_ + bytes <= options_.backlogBytes)) ||
                   !running_ || stopping_;
        });
        if (!running_ || stopping_) throw Error(ErrorCode::Unavailable, "The C-STORE intake is stopped");
        ++pending_;
        pendingBytes_ += bytes;
    }
    std::uint64_t seq = 0;
    try {
        if (journal_) {
            seq = journal_->append(record);
        }
    } catch (...) {
        std::lock_guard lock(mutex_);
        --pending_;
        pendingBytes_ -= bytes;
        hasRoom_.notify_all();
        throw;
    }
    std::lock_guard lock(mutex_);
    if (!journal_) seq = nextSeq_++;
    Entry entry;
    entry.seq = seq;
    entry.bytes = bytes;
    entry.record = std::move(record);
    entry.object = std::move(object);
    enqueue(std::move(entry));
}

bool StoreIntake::storeEntry(Entry& entry) {
    std::vector<sdk::Uri> uris;
    std::vector<std::size_t> unsynced;
    for (std::size_t i = 0; i < entry.record.providers.size(); ++i) {
        const auto& name = entry.record.providers[i];
        auto* provider = registry_.storage(name);
        if (!provider) {
            logger().error("C-STORE of record %?d: storage provider %s is not loaded; retrying", entry.seq, name);
            return false;
        }
        // Without its own flush when the provider can sync a batch later: the journal keeps the
        // record until then.
        auto* deferred = entry.durableOnly ? nullptr : dynamic_cast<sdk::DeferredDurabilityStorage*>(provider);
        try {
            if (deferred) {
                uris.push_back(deferred->storeUnsynced(*entry.object, entry.record.part10));
                unsynced.push_back(i);
            } else {
                uris.push_back(provider->store(*entry.object, entry.record.part10));
            }
        } catch (const std::exception& e) {
            logger().error("C-STORE of record %?d (acknowledged): storage provider %s failed, retrying: %s", entry.seq,
                           name, std::string(e.what()));
            return false;
        }
    }
    entry.uris = std::move(uris);
    entry.unsynced = std::move(unsynced);
    return true;
}

void StoreIntake::materialise(std::size_t shard) {
    std::unique_lock lock(mutex_);
    auto& queue = toStoreQueues_[shard];
    auto& wake = *toStore_[shard];
    for (;;) {
        wake.wait(lock, [&] { return !queue.empty() || stopping_; });
        if (queue.empty()) break;  // stopping, and nothing left
        Entry entry = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        auto backoff = options_.retryMin;
        bool stored = storeEntry(entry);
        while (!stored) {
            lock.lock();
            if (stopping_) {
                // Left in the journal: the next start stores it.
                logger().error("C-STORE record %?d not stored before the stop; the journal keeps it", entry.seq);
                --pending_;
                pendingBytes_ -= entry.bytes;
                break;
            }
            stopped_.wait_for(lock, backoff, [&] { return stopping_; });
            lock.unlock();
            backoff = std::min(backoff * 2, options_.retryMax);
            stored = storeEntry(entry);
        }
        if (!stored) continue;  // lock held
        // Stored durably: the bytes are on the providers now; the parsed object is what the index
        // needs. Stored unsynced: the bytes stay for a durable store() should the sync fail.
        if (entry.unsynced.empty()) std::vector<std::uint8_t>().swap(entry.record.part10);
        lock.lock();
        queue_.push_back(std::move(entry));
        // The indexer waits for a first instance (idle) or for a full batch (gathering).
        if (queue_.size() == 1 || queue_.size() == options_.batchSize) hasWork_.notify_one();
    }
    if (--materialisersLeft_ == 0) hasWork_.notify_all();
}

void StoreIntake::run() {
    std::unique_lock lock(mutex_);
    auto lastCommit = std::chrono::steady_clock::now();
    std::vector<std::uint64_t> indexed;  // seqs indexed since the last commit
    std::uint64_t indexedBytes = 0;
    std::vector<Entry> unsynced;  // of those, stored without a flush
    auto commit = [&] {
        lock.unlock();
        commitIndexed(indexed, indexedBytes, unsynced);
        lock.lock();
        lastCommit = std::chrono::steady_clock::now();
    };
    const auto ready = [&] { return !queue_.empty() || (stopping_ && materialisersLeft_ == 0); };
    for (;;) {
        if (queue_.empty()) {
            if (!indexed.empty()) {
                // Idle: commit when the interval is up, unless more arrives first.
                hasWork_.wait_until(lock, lastCommit + options_.commitInterval, ready);
                if (queue_.empty()) {
                    commit();
                    continue;
                }
            } else {
                hasWork_.wait(lock, ready);
                if (queue_.empty()) return;  // stopping, drained and committed
            }
        }
        if (queue_.size() < options_.batchSize && !stopping_ && options_.gatherDelay.count() > 0)
            hasWork_.wait_for(lock, options_.gatherDelay,
                              [&] { return queue_.size() >= options_.batchSize || stopping_; });
        std::vector<Entry> batch;
        while (!queue_.empty() && batch.size() < options_.batchSize) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        lock.unlock();
        try {
            indexBatch(batch);
        } catch (const std::exception& e) {
            logger().error("C-STORE intake: a batch of %z instances was not indexed: %s", batch.size(),
                           std::string(e.what()));
        }
        for (auto& entry : batch) {
            indexed.push_back(entry.seq);
            indexedBytes += entry.bytes;
            if (!entry.unsynced.empty()) {
                entry.object.reset();  // parsed again should the sync fail
                unsynced.push_back(std::move(entry));
            }
        }
        batch.clear();
        lock.lock();
        if (std::chrono::steady_clock::now() - lastCommit >= options_.commitInterval) commit();
    }
}

void StoreIntake::commitIndexed(std::vector<std::uint64_t>& seqs, std::uint64_t& bytes,
                                std::vector<Entry>& unsynced) {
    // Durable files first: only then may the journal forget the records.
    std::map<std::string, std::vector<sdk::Uri>> toSync;  // provider name -> URIs
    for (const auto& entry : unsynced)
        for (const auto i : entry.unsynced) toSync[entry.record.providers[i]].push_back(entry.uris[i]);
    std::set<std::string> failed;
    for (const auto& [name, uris] : toSync) {
        auto* deferred = dynamic_cast<sdk::DeferredDurabilityStorage*>(registry_.storage(name));
        try {
            if (!deferred) throw Error(ErrorCode::Unavailable, "the provider is not loaded any more");
            deferred->syncStored(uris);
        } catch (const std::exception& e) {
            logger().error("C-STORE intake: %z instances stored in %s cannot be made durable, storing them again: %s",
                           uris.size(), name, std::string(e.what()));
            failed.insert(name);
        }
    }
    std::vector<Entry> again;
    std::size_t abandoned = 0;  // not done, not queued: the journal replays them on the next start
    std::uint64_t abandonedBytes = 0;
    for (auto& entry : unsynced) {
        const bool ok = std::none_of(entry.unsynced.begin(), entry.unsynced.end(),
                                     [&](std::size_t i) { return failed.count(entry.record.providers[i]) > 0; });
        if (ok) continue;
        std::erase(seqs, entry.seq);
        bytes -= entry.bytes;
        auto parsed = core::readDicomBytes(entry.record.part10);
        if (parsed.status != core::DicomReadStatus::Ok) {
            // Parsed before its Success; left to the journal's replay on the next start.
            logger().error("C-STORE record %?d cannot be read back for a store again: %s", entry.seq, parsed.reason);
            ++abandoned;
            abandonedBytes += entry.bytes;
            continue;
        }
        entry.object = std::move(parsed.object);
        entry.durableOnly = true;
        entry.unsynced.clear();
        entry.uris.clear();
        again.push_back(std::move(entry));
    }
    unsynced.clear();
    if (!again.empty()) {
        std::lock_guard lock(mutex_);
        for (auto& entry : again) enqueue(std::move(entry));
    }

    bool committed = true;
    try {
        indexing_.flush();
    } catch (const std::exception& e) {
        // Not done then: the journal keeps the records for the next start.
        committed = false;
        logger().error("C-STORE intake: cannot commit the index: %s", std::string(e.what()));
    }
    uncommitted_.clear();
    if (journal_ && committed) journal_->markDone(seqs);
    std::lock_guard lock(mutex_);
    pending_ -= std::min(pending_, seqs.size() + abandoned);
    pendingBytes_ -= std::min(pendingBytes_, bytes + abandonedBytes);
    seqs.clear();
    bytes = 0;
    hasRoom_.notify_all();
}

void StoreIntake::indexBatch(std::vector<Entry>& batch) {
    // The last copy of each instance in the batch wins; earlier copies are not indexed.
    std::sort(batch.begin(), batch.end(), [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
    std::map<std::string, std::size_t> lastOf;
    for (std::size_t i = 0; i < batch.size(); ++i)
        lastOf[batch[i].object->get("SOPInstanceUID").value_or("")] = i;

    std::set<std::string> now;
    std::vector<sdk::IndexItem> items;
    std::vector<std::string> sops;
    for (const auto& [sop, i] : lastOf) {
        if (!sop.empty()) sops.push_back(sop);
        for (const auto& uri : batch[i].uris) {
            now.insert(uri.str());
            items.push_back({uri, batch[i].object.get()});
        }
    }
    try {
        // Earlier copies: committed records (a query), and those indexed since the last commit,
        // which a query does not see yet.
        auto previous = queries_.urisMatching("SOPInstanceUID", sops);
        for (const auto& sop : sops)
            if (auto it = uncommitted_.find(sop); it != uncommitted_.end()) {
                previous.insert(previous.end(), it->second.begin(), it->second.end());
                uncommitted_.erase(it);
            }
        std::set<std::string> seen;
        std::erase_if(previous,
                      [&](const sdk::Uri& uri) { return now.count(uri.str()) > 0 || !seen.insert(uri.str()).second; });
        if (!previous.empty()) indexing_.unindex(previous, {});
    } catch (const std::exception& e) {
        logger().warning("C-STORE intake: cannot look for earlier copies of %z instances: %s", sops.size(),
                         std::string(e.what()));
    }
    const auto report = indexing_.indexObjects(items);
    if (report.errors > 0)
        logger().warning("C-STORE intake: %z of %z records not indexed by every indexer", report.errors, items.size());
    for (const auto& [sop, i] : lastOf)
        if (!sop.empty()) uncommitted_[sop] = batch[i].uris;
}

}  // namespace tessera::server
