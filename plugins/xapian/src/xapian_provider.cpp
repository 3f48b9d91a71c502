#include "tessera/plugins/xapian/xapian_provider.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "tessera/plugins/xapian/shard_layout.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

/// Optimistic tries of a query (no lock: it checks the commit counters around its reads) before
/// it takes the commit gate.
constexpr int kOptimisticAttempts = 3;

[[noreturn]] void notOpen() { throw sdk::Error(sdk::ErrorCode::Unavailable, "The xapian index is not open"); }

std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

/// Splits items by their URI's shard, keeping their order within each shard.
template <typename Item, typename UriOf>
std::vector<std::vector<Item>> partition(std::span<const Item> items, std::size_t shards, UriOf uriOf) {
    std::vector<std::vector<Item>> parts(shards);
    for (auto& part : parts) part.reserve(items.size() / shards + 8);
    for (const auto& item : items) parts[shardOf(uriOf(item), shards)].push_back(item);
    return parts;
}

/// The shards that have work, in shard order.
template <typename Item>
std::vector<std::size_t> nonEmpty(const std::vector<std::vector<Item>>& parts) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (!parts[i].empty()) active.push_back(i);
    return active;
}

}  // namespace

XapianProvider::XapianProvider(sdk::HostServices* host) : host_(host) {}

XapianProvider::~XapianProvider() { close(); }

void XapianProvider::open(const std::filesystem::path& path, XapianIndexOptions options) { open(path, options, 0); }

void XapianProvider::open(const std::filesystem::path& path, XapianIndexOptions options, std::size_t shards) {
    close();
    XapianLogger logger;
    if (host_ != nullptr) logger = [host = host_](sdk::LogLevel level, std::string_view message) { host->log(level, message); };
    const ShardLayout layout = resolveShardLayout(path, shards, logger);
    commitEvery_ = options.commitEvery;
    sinceCommit_ = 0;
    // Several shards: the provider commits them together (see the header), not each on its own.
    XapianIndexOptions shardOptions = options;
    if (layout.directories.size() > 1) shardOptions.commitEvery = 0;
    std::vector<Shard> opened;
    opened.reserve(layout.directories.size());
    // A shard that fails to open closes the ones opened before it (their destructors).
    for (const auto& directory : layout.directories) {
        Shard shard;
        // The writer first: it creates the database the searcher reads.
        shard.index = std::make_unique<XapianIndex>(directory, shardOptions, logger);
        shard.searcher = std::make_unique<XapianSearcher>(directory);
        opened.push_back(std::move(shard));
    }
    pool_ = std::make_unique<ShardPool>(opened.size() - 1);
    shards_ = std::move(opened);
}

void XapianProvider::close() {
    pool_.reset();
    // Searchers before writers, as before: the writer's destructor commits what is pending.
    for (auto& shard : shards_) shard.searcher.reset();
    shards_.clear();
}

void XapianProvider::log(sdk::LogLevel level, const std::string& message) const {
    if (host_ != nullptr) host_->log(level, message);
}

void XapianProvider::commitShards() {
    std::unique_lock gate(commitGate_);
    ++commitsStarted_;
    struct Finish {
        std::atomic<std::uint64_t>& finished;
        ~Finish() { ++finished; }
    } finish{commitsFinished_};
    const auto errors = pool_->run(shards_.size(), [&](std::size_t i) { shards_[i].index->commit(); });
    // Every shard has tried its commit; the first failure is the caller's to know about.
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (!errors[i]) continue;
        for (std::size_t j = i + 1; j < errors.size(); ++j)
            if (errors[j]) log(sdk::LogLevel::Error, "xapian shard " + std::to_string(j) + " failed to commit: " + describe(errors[j]));
        std::rethrow_exception(errors[i]);
    }
}

void XapianProvider::noteWritten(std::size_t documents) {
    if (commitEvery_ == 0 || documents == 0) return;
    if (sinceCommit_.fetch_add(documents) + documents < commitEvery_) return;
    // One of the threads that crossed the mark commits.
    if (sinceCommit_.exchange(0) < commitEvery_) return;
    try {
        commitShards();
    } catch (const std::exception& e) {
        log(sdk::LogLevel::Error, std::string("Committing the xapian index failed: ") + e.what());
    }
}

sdk::IndexReport XapianProvider::index(std::span<const sdk::IndexItem> batch) {
    if (shards_.empty()) notOpen();
    if (shards_.size() == 1) return shards_.front().index->index(batch);
    const auto parts = partition(batch, shards_.size(), [](const sdk::IndexItem& item) -> const std::string& { return item.uri.str(); });
    const auto active = nonEmpty(parts);
    std::vector<sdk::IndexReport> reports(active.size());
    const auto errors = pool_->run(active.size(), [&](std::size_t k) {
        reports[k] = shards_[active[k]].index->index(parts[active[k]]);
    });
    sdk::IndexReport total;
    std::size_t failedParts = 0;
    for (std::size_t k = 0; k < active.size(); ++k) {
        if (errors[k]) {
            // The other shards' documents are written: count this shard's items as refused
            // (and say so) rather than throw, which would report the whole batch as failed.
            ++failedParts;
            total.errors += parts[active[k]].size();
            log(sdk::LogLevel::Error, "xapian shard " + std::to_string(active[k]) + " failed on " +
                                          std::to_string(parts[active[k]].size()) + " objects: " + describe(errors[k]));
            continue;
        }
        total.indexed += reports[k].indexed;
        total.errors += reports[k].errors;
    }
    if (failedParts != 0 && failedParts == active.size()) std::rethrow_exception(errors.front());
    noteWritten(total.indexed);
    return total;
}

sdk::UnindexReport XapianProvider::unindex(std::span<const sdk::Uri> uris) {
    if (shards_.empty()) notOpen();
    if (shards_.size() == 1) return shards_.front().index->unindex(uris);
    const auto parts = partition(uris, shards_.size(), [](const sdk::Uri& uri) -> const std::string& { return uri.str(); });
    const auto active = nonEmpty(parts);
    std::vector<sdk::UnindexReport> reports(active.size());
    const auto errors = pool_->run(active.size(), [&](std::size_t k) {
        reports[k] = shards_[active[k]].index->unindex(parts[active[k]]);
    });
    sdk::UnindexReport total;
    std::size_t failedParts = 0;
    for (std::size_t k = 0; k < active.size(); ++k) {
        if (errors[k]) {
            ++failedParts;
            total.failed += parts[active[k]].size();
            log(sdk::LogLevel::Error, "xapian shard " + std::to_string(active[k]) + " failed to remove " +
                                          std::to_string(parts[active[k]].size()) + " objects: " + describe(errors[k]));
            continue;
        }
        total.removed += reports[k].removed;
        total.notFound += reports[k].notFound;
        total.failed += reports[k].failed;
    }
    if (failedParts != 0 && failedParts == active.size()) std::rethrow_exception(errors.front());
    noteWritten(total.removed);
    return total;
}

void XapianProvider::commit() {
    if (shards_.empty()) notOpen();
    if (shards_.size() == 1) return shards_.front().index->commit();
    sinceCommit_ = 0;
    commitShards();
}

sdk::QueryResponse XapianProvider::query(const sdk::QueryRequest& request) {
    if (shards_.empty()) notOpen();
    if (shards_.size() == 1) return shards_.front().searcher->search(request);
    // Shard by shard, each compiling the query against its own catalogue. Every shard's total
    // is exact, so the offset still to skip and the room left on the page are known before the
    // next shard is asked; a shard past the page is asked for its total only (limit 0).
    sdk::QueryRequest part = request;
    auto readShards = [&] {
        sdk::QueryResponse merged;
        std::size_t skip = request.offset;
        std::optional<std::size_t> room = request.limit;
        for (auto& shard : shards_) {
            part.offset = skip;
            part.limit = room;
            sdk::QueryResponse answer = shard.searcher->search(part);
            merged.total += answer.total;
            skip -= std::min(skip, answer.total);
            if (room) *room -= std::min(*room, answer.results.size());
            if (merged.results.empty()) {
                merged.results = std::move(answer.results);
            } else {
                merged.results.insert(merged.results.end(), std::make_move_iterator(answer.results.begin()),
                                      std::make_move_iterator(answer.results.end()));
            }
        }
        return merged;
    };
    for (int attempt = 0; attempt < kOptimisticAttempts; ++attempt) {
        // Started first: `finished` never passes it, so equal means none under way at this point.
        const std::uint64_t started = commitsStarted_.load();
        if (commitsFinished_.load() != started) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        auto merged = readShards();
        if (commitsStarted_.load() == started) return merged;
    }
    std::shared_lock gate(commitGate_);
    return readShards();
}

std::size_t XapianProvider::documentCount() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < shards_.size(); ++i) total += documentCount(i);
    return total;
}

std::size_t XapianProvider::documentCount(std::size_t shard) const {
    if (shard >= shards_.size()) notOpen();
    return shards_[shard].index->documentCount();
}

}  // namespace tessera::plugins::xapian
