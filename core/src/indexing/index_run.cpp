#include "index_run.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <istream>
#include <memory>
#include <thread>

#include "bounded_queue.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core::indexing {
namespace {

// open() hands us a whole object; past this many bytes we refuse rather than let one huge item
// take the memory every other task needs (local files are read header-only and have no limit).
constexpr std::size_t kMaxOpenedBytes = 1024u * 1024u * 1024u;

DicomReadResult failure(std::string reason) {
    DicomReadResult result;
    result.status = DicomReadStatus::Error;
    result.reason = std::move(reason);
    return result;
}

// Parsed objects on their way from a parser thread to the indexing thread.
struct ParsedBatch {
    std::vector<std::unique_ptr<sdk::DicomObjectView>> objects;
    std::vector<sdk::Uri> uris;
};

// Counts and progress shared by the parser threads and the indexing thread of one run.
struct RunState {
    const IndexRunConfig& config;
    TaskHandle& task;
    // Files the counting walk has seen; it runs beside the indexing, and until it has finished
    // (`counted`) there is no denominator and progress stays at 0.
    std::atomic<std::size_t> total{0};
    std::atomic<bool> counted{false};
    BoundedQueue<sdk::Uri> queue;
    // Full batches wait here while the indexers write the one before: the parsers go on parsing
    // instead of waiting for the writer, and the writer finds the next batch ready. One waiting
    // batch is enough for that and bounds memory (each parser's batch in the making, one
    // waiting, one being written).
    BoundedQueue<ParsedBatch> batches{1};
    std::atomic<std::size_t> processed{0}, indexed{0}, errors{0}, skipped{0};

    RunState(const IndexRunConfig& c, TaskHandle& t, std::size_t capacity) : config(c), task(t), queue(capacity) {}

    void log(sdk::LogLevel level, const std::string& line) const {
        if (config.log) config.log(level, line);
    }

    void addProcessed(std::size_t count) {
        const std::size_t done = processed.fetch_add(count) + count;
        // The count may be out of date (files added meanwhile): never claim 100 % early.
        const std::size_t all = counted ? total.load() : 0;
        const double fraction = all == 0 ? 0.0 : static_cast<double>(done) / static_cast<double>(all);
        task.setProgress(std::min(fraction, 0.99));
    }

    // One batch to every indexer that handles its items. An object counts as indexed when no
    // indexer refused it; with several indexers the worst one decides how many failed.
    void indexBatch(std::vector<std::unique_ptr<sdk::DicomObjectView>>& objects, std::vector<sdk::Uri>& uris) {
        if (uris.empty()) return;
        std::vector<sdk::IndexItem> items;
        items.reserve(uris.size());
        for (std::size_t i = 0; i < uris.size(); ++i) items.push_back({uris[i], objects[i].get()});
        std::vector<bool> handled;
        const std::size_t worstFailures = indexParsedBatch(config, items, handled);
        const auto unhandled = static_cast<std::size_t>(std::count(handled.begin(), handled.end(), false));
        for (std::size_t i = 0; i < uris.size(); ++i)
            if (!handled[i])
                log(sdk::LogLevel::Information, "Skipped " + uris[i].str() + ": no chosen indexer takes it");
        const std::size_t failed = std::min(worstFailures, uris.size() - unhandled);
        skipped += unhandled;
        errors += failed;
        indexed += uris.size() - unhandled - failed;
        addProcessed(uris.size());
        objects.clear();
        uris.clear();
    }

    // Hands a full (or last) batch to the indexing thread; false once the run is stopping.
    bool handOff(std::vector<std::unique_ptr<sdk::DicomObjectView>>& objects, std::vector<sdk::Uri>& uris) {
        if (uris.empty()) return true;
        ParsedBatch batch{std::move(objects), std::move(uris)};
        objects.clear();
        uris.clear();
        objects.reserve(config.batchSize);
        uris.reserve(config.batchSize);
        return batches.push(std::move(batch));
    }

    // A writer thread: indexes batches as they are handed off.
    void write() {
        while (auto batch = batches.pop()) {
            if (task.stopRequested()) break;
            indexBatch(batch->objects, batch->uris);
        }
        if (task.stopRequested()) {
            batches.abandon();  // parsers waiting to hand off give up
            queue.abandon();
        }
    }

    void parse() {
        std::vector<std::unique_ptr<sdk::DicomObjectView>> objects;
        std::vector<sdk::Uri> uris;
        objects.reserve(config.batchSize);
        uris.reserve(config.batchSize);
        while (auto uri = queue.pop()) {
            if (task.stopRequested()) break;
            auto result = readStoredItem(*config.storage, *uri);
            if (result.status == DicomReadStatus::Ok) {
                objects.push_back(std::move(result.object));
                uris.push_back(std::move(*uri));
                if (uris.size() >= config.batchSize && !task.stopRequested() && !handOff(objects, uris)) break;
                continue;
            }
            if (result.status == DicomReadStatus::Skipped) {
                ++skipped;
                log(sdk::LogLevel::Information, "Skipped " + uri->str() + ": " + result.reason);
            } else {
                ++errors;
                log(sdk::LogLevel::Warning, "Cannot index " + uri->str() + ": " + result.reason);
            }
            addProcessed(1);
        }
        if (task.stopRequested()) {
            queue.abandon();  // unblocks the enumerating thread and the other parsers
            batches.abandon();
            return;
        }
        handOff(objects, uris);
    }
};

}  // namespace

std::size_t indexParsedBatch(const IndexRunConfig& config, const std::vector<sdk::IndexItem>& items,
                             std::vector<bool>& handled) {
    auto log = [&](sdk::LogLevel level, const std::string& line) {
        if (config.log) config.log(level, line);
    };
    handled.assign(items.size(), false);
    std::size_t worstFailures = 0;
    for (auto* indexer : config.indexers) {
        std::vector<sdk::IndexItem> mine;
        mine.reserve(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (!indexer->handles(items[i].uri)) continue;
            handled[i] = true;
            mine.push_back(items[i]);
        }
        if (mine.empty()) continue;
        std::size_t failures = 0;
        try {
            const auto report = indexer->index(mine);
            failures = mine.size() - std::min(report.indexed, mine.size());
        } catch (const std::exception& e) {
            failures = mine.size();
            log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed on a batch of " +
                                            std::to_string(mine.size()) + " objects: " + e.what());
        } catch (...) {
            failures = mine.size();
            log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed on a batch");
        }
        worstFailures = std::max(worstFailures, failures);
    }
    if (config.onIndexed) {
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (!handled[i]) continue;
            try {
                config.onIndexed(items[i].uri, *items[i].object);
            } catch (const std::exception& e) {
                log(sdk::LogLevel::Warning, "After indexing " + items[i].uri.str() + ": " + e.what());
            } catch (...) {
                log(sdk::LogLevel::Warning, "After indexing " + items[i].uri.str() + ": unknown failure");
            }
        }
    }
    return worstFailures;
}

DicomReadResult readStoredItem(sdk::StorageProvider& storage, const sdk::Uri& uri) {
    try {
        if (auto path = storage.localPath(uri)) return readDicomFile(*path);
        auto stream = storage.open(uri);
        if (!stream) return failure("the storage provider returned no stream");
        std::vector<std::uint8_t> bytes;
        char buffer[64 * 1024];
        while (*stream) {
            stream->read(buffer, sizeof buffer);
            const auto count = static_cast<std::size_t>(stream->gcount());
            if (bytes.size() + count > kMaxOpenedBytes) return failure("larger than the 1 GiB read limit");
            bytes.insert(bytes.end(), buffer, buffer + count);
        }
        if (stream->bad()) return failure("read error");
        return readDicomBytes(bytes);
    } catch (const sdk::Error& e) {
        return failure(e.what());
    } catch (const std::exception& e) {
        return failure(std::string("read failed: ") + e.what());
    } catch (...) {
        return failure("read failed");
    }
}

IndexRunResult runIndexTask(const IndexRunConfig& config, TaskHandle& task) {
    const std::size_t threads = std::max<std::size_t>(config.threads, 1);
    const std::size_t batchSize = std::max<std::size_t>(config.batchSize, 1);
    IndexRunConfig effective = config;
    effective.batchSize = batchSize;
    // Enough queued URIs to keep every parser busy while the walk goes on, and no more.
    RunState state(effective, task, threads * 64);

    auto enumerationFailed = [&](const std::string& what) {
        ++state.errors;
        state.log(sdk::LogLevel::Warning, "Cannot list " + config.root.str() + ": " + what);
    };

    // The count, so that progress is a real fraction, comes from a walk of its own that runs
    // beside the indexing instead of before it: done first, it left every core but one idle
    // for its whole length (~4 % of a 10,000-file run). Its failures are not counted: the
    // walk below meets the same ones and reports them.
    task.setProgress(0.0);
    std::thread counter([&state, &config, &task] {
        try {
            config.storage->enumerate(config.root, [&](const sdk::StorageItem&) {
                if (task.stopRequested()) return false;
                ++state.total;
                return true;
            });
            state.counted = true;
        } catch (...) {
            // Progress stays at 0; the indexing walk reports why the root cannot be listed.
        }
    });

    // This thread walks into the queue, the parsers drain it, as many writer threads
    // hand what they parsed to the indexers (indexers take concurrent calls, as before: a
    // sharded writer can use them; a serial one makes them wait for each other, not the parsers).
    std::vector<std::thread> writers;
    writers.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) writers.emplace_back([&state] { state.write(); });
    std::vector<std::thread> parsers;
    parsers.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) parsers.emplace_back([&state] { state.parse(); });
    try {
        config.storage->enumerate(config.root, [&](const sdk::StorageItem& item) {
            if (task.stopRequested()) return false;
            return state.queue.push(item.uri);
        });
    } catch (const std::exception& e) {
        enumerationFailed(e.what());
    }
    if (task.stopRequested())
        state.queue.abandon();
    else
        state.queue.close();
    for (auto& parser : parsers) parser.join();
    if (task.stopRequested())
        state.batches.abandon();
    else
        state.batches.close();  // the writers drain what the parsers handed off, then end
    for (auto& writer : writers) writer.join();
    counter.join();

    // What was indexed is made durable and visible, stopped or not: the report says it is there.
    for (auto* indexer : config.indexers) {
        try {
            indexer->commit();
        } catch (const std::exception& e) {
            state.log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed to commit: " + e.what());
        } catch (...) {
            state.log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed to commit");
        }
    }

    IndexRunResult result;
    result.report.indexed = state.indexed;
    result.report.errors = state.errors;
    result.report.skipped = state.skipped;
    result.cancelled = task.stopRequested();
    return result;
}

}  // namespace tessera::core::indexing
