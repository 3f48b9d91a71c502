#include "dicom/store_intake.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/core/query_service.hpp"
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

// One stored item read back (replay after a crash): through the local file when the provider has
// one, else its bytes.
core::DicomReadResult readBack(sdk::StorageProvider& storage, const sdk::Uri& uri) {
    if (auto path = storage.localPath(uri)) return core::readDicomFile(*path);
    auto stream = storage.open(uri);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(*stream)), std::istreambuf_iterator<char>());
    return core::readDicomBytes(bytes);
}

}  // namespace

StoreIntake::StoreIntake(core::IndexService& indexing, core::QueryService& queries, core::ProviderRegistry& registry,
                         std::filesystem::path log, StoreIntakeOptions options)
    : indexing_(indexing), queries_(queries), registry_(registry), logPath_(std::move(log)), options_(options) {
    options_.capacity = std::max<std::size_t>(options_.capacity, 1);
    options_.batchSize = std::max<std::size_t>(options_.batchSize, 1);
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
    if (!logPath_.empty()) {
        replay();
        const int fd = ::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
            throw Error(ErrorCode::Internal,
                        "Cannot open the C-STORE intake log " + logPath_.string() + ": " + std::strerror(errno));
        // Everything the log listed is indexed now: start it afresh.
        if (::ftruncate(fd, 0) != 0) {
            ::close(fd);
            throw Error(ErrorCode::Internal,
                        "Cannot reset the C-STORE intake log " + logPath_.string() + ": " + std::strerror(errno));
        }
        std::lock_guard lock(mutex_);
        logFd_ = fd;
    }
    std::lock_guard lock(mutex_);
    stopping_ = false;
    running_ = true;
    indexer_ = std::thread([this] { run(); });
}

void StoreIntake::stop() {
    std::lock_guard startLock(startMutex_);
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
    }
    hasWork_.notify_all();
    if (indexer_.joinable()) indexer_.join();
    std::lock_guard lock(mutex_);
    running_ = false;
    if (logFd_ >= 0) {
        ::close(logFd_);
        logFd_ = -1;
    }
}

std::size_t StoreIntake::backlog() const {
    std::lock_guard lock(mutex_);
    return queue_.size() + inFlight_;
}

void StoreIntake::appendLog(const std::string& record) {
    if (logFd_ < 0) return;
    // One write() of a whole record: a killed process leaves it complete or absent.
    const ssize_t written = ::write(logFd_, record.data(), record.size());
    if (written != static_cast<ssize_t>(record.size()))
        throw Error(ErrorCode::Internal, "Cannot write the C-STORE intake log " + logPath_.string() + ": " +
                                             (written < 0 ? std::strerror(errno) : "short write"));
}

void StoreIntake::submit(std::vector<sdk::Uri> uris, std::unique_ptr<sdk::DicomObjectView> object) {
    std::unique_lock lock(mutex_);
    hasRoom_.wait(lock, [&] { return queue_.size() < options_.capacity || !running_ || stopping_; });
    if (!running_ || stopping_) throw Error(ErrorCode::Unavailable, "The C-STORE intake is stopped");
    const std::uint64_t seq = nextSeq_;
    std::string record = "I " + std::to_string(seq);
    for (const auto& uri : uris) record += '\t' + uri.str();
    record += '\n';
    appendLog(record);
    ++nextSeq_;
    queue_.push_back(Entry{seq, std::move(uris), std::move(object)});
    hasWork_.notify_one();
}

void StoreIntake::run() {
    std::unique_lock lock(mutex_);
    auto lastCommit = std::chrono::steady_clock::now();
    std::uint64_t indexedUpTo = 0;
    bool dirty = false;  // indexed since the last commit
    auto commit = [&] {
        lock.unlock();
        commitIndexed(indexedUpTo);
        lock.lock();
        dirty = false;
        lastCommit = std::chrono::steady_clock::now();
    };
    const auto ready = [&] { return !queue_.empty() || stopping_; };
    for (;;) {
        if (queue_.empty()) {
            if (dirty) {
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
        std::vector<Entry> batch;
        while (!queue_.empty() && batch.size() < options_.batchSize) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        inFlight_ = batch.size();
        lock.unlock();
        hasRoom_.notify_all();
        try {
            indexBatch(batch);
        } catch (const std::exception& e) {
            logger().error("C-STORE intake: a batch of %z instances was not indexed: %s", batch.size(),
                           std::string(e.what()));
        }
        indexedUpTo = batch.back().seq;
        batch.clear();
        lock.lock();
        inFlight_ = 0;
        dirty = true;
        if (std::chrono::steady_clock::now() - lastCommit >= options_.commitInterval) commit();
    }
}

void StoreIntake::commitIndexed(std::uint64_t seq) {
    indexing_.flush();
    uncommitted_.clear();
    markDone(seq);
}

void StoreIntake::indexBatch(std::vector<Entry>& batch) {
    // The last copy of each instance in the batch wins; earlier copies are not indexed.
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

void StoreIntake::markDone(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    if (logFd_ < 0) return;
    try {
        if (seq + 1 == nextSeq_ && queue_.empty()) {
            if (::ftruncate(logFd_, 0) != 0)
                throw Error(ErrorCode::Internal, std::string("cannot truncate: ") + std::strerror(errno));
        } else {
            appendLog("D " + std::to_string(seq) + "\n");
        }
    } catch (const std::exception& e) {
        // The records stay: a restart indexes them again, which is harmless.
        logger().warning("C-STORE intake log: %s", std::string(e.what()));
    }
}

void StoreIntake::replay() {
    std::ifstream in(logPath_, std::ios::binary);
    if (!in) return;
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    std::vector<std::pair<std::uint64_t, std::vector<sdk::Uri>>> records;
    std::uint64_t done = 0;
    std::size_t begin = 0;
    for (std::size_t end; (end = all.find('\n', begin)) != std::string::npos; begin = end + 1) {
        const std::string line = all.substr(begin, end - begin);
        try {
            if (line.rfind("D ", 0) == 0) {
                done = std::max<std::uint64_t>(done, std::stoull(line.substr(2)));
            } else if (line.rfind("I ", 0) == 0) {
                std::vector<std::string> fields;
                std::size_t from = 2;
                for (std::size_t tab; (tab = line.find('\t', from)) != std::string::npos; from = tab + 1)
                    fields.push_back(line.substr(from, tab - from));
                fields.push_back(line.substr(from));
                std::vector<sdk::Uri> uris;
                for (std::size_t i = 1; i < fields.size(); ++i) uris.push_back(sdk::Uri::parse(fields[i]));
                records.emplace_back(std::stoull(fields[0]), std::move(uris));
            }
        } catch (const std::exception& e) {
            logger().warning("C-STORE intake log %s: a bad record is skipped: %s", logPath_.string(),
                             std::string(e.what()));
        }
    }
    std::erase_if(records, [&](const auto& record) { return record.first <= done; });
    if (records.empty()) return;

    logger().information("C-STORE intake: indexing %z instances acknowledged before the last stop", records.size());
    std::vector<Entry> batch;
    auto flushBatch = [&] {
        if (batch.empty()) return;
        indexBatch(batch);
        batch.clear();
        // Committed before the next batch, so the records do not pile up uncommitted.
        indexing_.flush();
        uncommitted_.clear();
    };
    for (auto& [seq, uris] : records) {
        Entry entry;
        entry.seq = seq;
        for (auto& uri : uris) {
            auto* storage = registry_.storageForUri(uri);
            if (!storage) continue;
            try {
                auto result = readBack(*storage, uri);
                if (result.status == core::DicomReadStatus::Ok) {
                    if (!entry.object) entry.object = std::move(result.object);
                    entry.uris.push_back(uri);
                } else {
                    logger().warning("C-STORE intake: cannot read %s back: %s", uri.str(), result.reason);
                }
            } catch (const std::exception& e) {
                // Removed since (a later copy replaced it, or a DELETE): nothing to index.
                logger().information("C-STORE intake: %s is gone: %s", uri.str(), std::string(e.what()));
            }
        }
        if (!entry.object) continue;
        batch.push_back(std::move(entry));
        if (batch.size() >= options_.batchSize) flushBatch();
    }
    flushBatch();
}

}  // namespace tessera::server
