#include "tessera/core/index_service.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include "indexing/index_run.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/query_provider.hpp"

namespace tessera::core {
namespace {

void logToPoco(sdk::LogLevel level, const std::string& line) {
    auto& log = Poco::Logger::get("tessera.index");
    switch (level) {
        case sdk::LogLevel::Debug:
            log.debug(line);
            break;
        case sdk::LogLevel::Information:
            log.information(line);
            break;
        case sdk::LogLevel::Warning:
            log.warning(line);
            break;
        case sdk::LogLevel::Error:
            log.error(line);
            break;
    }
}

std::string taskName(const std::vector<sdk::IndexProvider*>& indexers, const sdk::Uri& uri) {
    std::string name = "[";
    for (std::size_t i = 0; i < indexers.size(); ++i) {
        if (i > 0) name += ',';
        name += indexers[i]->name();
    }
    return name + "]index " + uri.str();
}

}  // namespace

class IndexService::Impl {
public:
    Impl(ProviderRegistry& registry, TaskManager& tasks, IndexServiceOptions options)
        : registry_(registry), tasks_(tasks), options_(std::move(options)) {
        if (!options_.log) options_.log = logToPoco;
        if (options_.threads == 0) options_.threads = std::max(1u, std::thread::hardware_concurrency());
        options_.batchSize = std::max<std::size_t>(options_.batchSize, 1);
        options_.maxConcurrentTasks = std::max<std::size_t>(options_.maxConcurrentTasks, 1);
        committer_ = std::thread([this] { commitLoop(); });
    }

    ~Impl() { shutdown(); }

    std::vector<sdk::IndexProvider*> resolveIndexers(const std::vector<std::string>& names) const {
        std::vector<sdk::IndexProvider*> chosen;
        if (names.empty()) {
            for (const auto& entry : registry_.list(ProviderKind::Index))
                if (auto* indexer = registry_.index(entry.name); indexer && indexer->isEnabled())
                    chosen.push_back(indexer);
            return chosen;
        }
        for (const auto& name : names) {
            auto* indexer = registry_.index(name);
            if (!indexer || !indexer->isEnabled())
                throw sdk::Error(sdk::ErrorCode::InvalidArgument, name + " is not a valid index provider");
            if (std::find(chosen.begin(), chosen.end(), indexer) == chosen.end()) chosen.push_back(indexer);
        }
        return chosen;
    }

    std::vector<TaskInfo> index(const std::vector<sdk::Uri>& uris, const std::vector<std::string>& names) {
        const auto indexers = resolveIndexers(names);
        if (indexers.empty()) return {};

        // Check every URI with its provider first, so a refusal starts nothing at all.
        std::vector<std::pair<sdk::Uri, sdk::StorageProvider*>> work;
        for (const auto& uri : uris) {
            auto* storage = registry_.storageForUri(uri);
            if (!storage) {
                options_.log(sdk::LogLevel::Information,
                             "No storage provider serves " + uri.str() + ": nothing to index");
                continue;
            }
            storage->enumerate(uri, [](const sdk::StorageItem&) { return false; });
            work.emplace_back(uri, storage);
        }

        std::vector<TaskInfo> started;
        std::lock_guard lock(runnersMutex_);
        if (shutDown_) throw sdk::Error(sdk::ErrorCode::Unavailable, "The index service is shutting down");
        reapFinishedRunners();
        for (auto& [uri, storage] : work) {
            auto task = tasks_.create(taskName(indexers, uri));
            indexing::IndexRunConfig config;
            config.storage = storage;
            config.root = uri;
            config.indexers = indexers;
            config.threads = options_.threads;
            config.batchSize = options_.batchSize;
            config.log = options_.log;
            config.onIndexed = options_.onIndexed;
            started.push_back(task->info());
            options_.log(sdk::LogLevel::Information, "Task " + task->uid() + " started: " + started.back().name);
            auto& runner = runners_.emplace_back();
            runner.task = task;
            runner.thread = std::thread([this, task, config = std::move(config), finished = &runner.finished] {
                run(*task, config);
                finished->store(true);
            });
        }
        return started;
    }

    sdk::IndexReport indexObject(const sdk::Uri& uri, const sdk::DicomObjectView& object) {
        sdk::IndexReport total;
        const sdk::IndexItem item{uri, &object};
        std::vector<sdk::IndexProvider*> touched;
        for (auto* indexer : resolveIndexers({})) {
            if (!indexer->handles(uri)) continue;
            try {
                const auto report = indexer->index(std::span(&item, 1));
                total.indexed += report.indexed;
                total.errors += report.errors;
                touched.push_back(indexer);
            } catch (const std::exception& e) {
                ++total.errors;
                options_.log(sdk::LogLevel::Warning,
                             "Indexer " + indexer->name() + " failed on " + uri.str() + ": " + e.what());
            }
        }
        if (!touched.empty()) notifyIndexed(uri, object);
        if (!touched.empty()) {
            std::lock_guard lock(commitMutex_);
            if (pending_.empty()) commitDue_ = std::chrono::steady_clock::now() + options_.commitDelay;
            pending_.insert(touched.begin(), touched.end());
            commitWake_.notify_all();
        }
        return total;
    }

    sdk::IndexReport indexObjects(std::span<const sdk::IndexItem> items) {
        sdk::IndexReport total;
        std::vector<sdk::IndexProvider*> touched;
        std::vector<bool> handledByAny(items.size(), false);
        std::vector<sdk::IndexItem> mine;
        for (auto* indexer : resolveIndexers({})) {
            mine.clear();
            for (std::size_t i = 0; i < items.size(); ++i)
                if (indexer->handles(items[i].uri)) {
                    mine.push_back(items[i]);
                    handledByAny[i] = true;
                }
            if (mine.empty()) continue;
            try {
                const auto report = indexer->index(std::span<const sdk::IndexItem>(mine));
                total.indexed += report.indexed;
                total.errors += report.errors;
                touched.push_back(indexer);
            } catch (const std::exception& e) {
                total.errors += mine.size();
                options_.log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed on a batch of " +
                                                         std::to_string(mine.size()) + " objects: " + e.what());
            }
        }
        if (touched.empty()) return total;
        for (std::size_t i = 0; i < items.size(); ++i)
            if (handledByAny[i]) notifyIndexed(items[i].uri, *items[i].object);
        std::lock_guard lock(commitMutex_);
        if (pending_.empty()) commitDue_ = std::chrono::steady_clock::now() + options_.commitDelay;
        pending_.insert(touched.begin(), touched.end());
        commitWake_.notify_all();
        return total;
    }

    sdk::IndexReport indexItems(const std::vector<sdk::Uri>& uris) {
        {
            std::lock_guard lock(runnersMutex_);
            if (shutDown_) throw sdk::Error(sdk::ErrorCode::Unavailable, "The index service is shutting down");
        }
        sdk::IndexReport total;
        std::size_t skipped = 0;
        indexing::IndexRunConfig config;
        config.indexers = resolveIndexers({});
        config.log = options_.log;
        config.onIndexed = options_.onIndexed;
        if (config.indexers.empty() || uris.empty()) return total;

        std::vector<std::unique_ptr<sdk::DicomObjectView>> objects;
        std::vector<sdk::IndexItem> items;
        auto indexPending = [&] {
            if (items.empty()) return;
            std::vector<bool> handled;
            const std::size_t worst = indexing::indexParsedBatch(config, items, handled);
            const auto taken = static_cast<std::size_t>(std::count(handled.begin(), handled.end(), true));
            skipped += items.size() - taken;
            const std::size_t failed = std::min(worst, taken);
            total.errors += failed;
            total.indexed += taken - failed;
            items.clear();
            objects.clear();
        };
        for (const auto& uri : uris) {
            auto* storage = registry_.storageForUri(uri);
            if (!storage) {
                ++total.errors;
                options_.log(sdk::LogLevel::Warning, "Cannot index " + uri.str() + ": no storage provider serves it");
                continue;
            }
            auto result = indexing::readStoredItem(*storage, uri);
            if (result.status == DicomReadStatus::Skipped) {
                ++skipped;
                options_.log(sdk::LogLevel::Information, "Skipped " + uri.str() + ": " + result.reason);
                continue;
            }
            if (result.status != DicomReadStatus::Ok) {
                ++total.errors;
                options_.log(sdk::LogLevel::Warning, "Cannot index " + uri.str() + ": " + result.reason);
                continue;
            }
            items.push_back({uri, result.object.get()});
            objects.push_back(std::move(result.object));
            if (items.size() >= options_.batchSize) indexPending();
        }
        indexPending();
        commitEach(std::set<sdk::IndexProvider*>(config.indexers.begin(), config.indexers.end()));
        options_.log(sdk::LogLevel::Information, "Indexed " + std::to_string(total.indexed) + " of " +
                                                     std::to_string(uris.size()) + " items (" +
                                                     std::to_string(skipped) + " skipped, " +
                                                     std::to_string(total.errors) + " errors)");
        return total;
    }

    void flush() {
        std::set<sdk::IndexProvider*> due;
        {
            std::lock_guard lock(commitMutex_);
            due.swap(pending_);
        }
        commitEach(due);
    }

    sdk::UnindexReport unindex(const std::vector<sdk::Uri>& uris, const std::vector<std::string>& names) {
        const auto indexers = resolveIndexers(names);
        sdk::UnindexReport combined;
        for (auto* indexer : indexers) {
            std::vector<sdk::Uri> mine;
            for (const auto& uri : uris)
                if (indexer->handles(uri)) mine.push_back(uri);
            if (mine.empty()) continue;
            sdk::UnindexReport report;
            try {
                report = indexer->unindex(mine);
                indexer->commit();
            } catch (const std::exception& e) {
                report = {};
                report.failed = mine.size();
                options_.log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed to unindex " +
                                                         std::to_string(mine.size()) + " URIs: " + e.what());
            }
            combined.removed = std::max(combined.removed, report.removed);
            combined.failed = std::max(combined.failed, report.failed);
        }
        if (options_.onUnindexed) {
            try {
                options_.onUnindexed(uris);
            } catch (const std::exception& e) {
                options_.log(sdk::LogLevel::Warning, std::string("After unindexing: ") + e.what());
            } catch (...) {
                options_.log(sdk::LogLevel::Warning, "After unindexing: unknown failure");
            }
        }
        combined.failed = std::min(combined.failed, uris.size() - std::min(combined.removed, uris.size()));
        combined.notFound = uris.size() - std::min(uris.size(), combined.removed + combined.failed);
        options_.log(sdk::LogLevel::Information, "Unindexed " + std::to_string(combined.removed) + " of " +
                                                     std::to_string(uris.size()) + " URIs (" +
                                                     std::to_string(combined.notFound) + " not found, " +
                                                     std::to_string(combined.failed) + " failed)");
        return combined;
    }

    void shutdown() {
        std::list<Runner> runners;
        {
            std::lock_guard lock(runnersMutex_);
            if (shutDown_) return;
            shutDown_ = true;
            for (auto& runner : runners_) tasks_.stop(runner.task->uid());
            runners.splice(runners.end(), runners_);
        }
        slotFree_.notify_all();
        for (auto& runner : runners)
            if (runner.thread.joinable()) runner.thread.join();
        {
            std::lock_guard lock(commitMutex_);
            stopCommitter_ = true;
            commitWake_.notify_all();
        }
        if (committer_.joinable()) committer_.join();
        flush();
    }

private:
    struct Runner {
        std::shared_ptr<TaskHandle> task;
        std::thread thread;
        std::atomic<bool> finished{false};
    };

    // Joins runners whose thread is done, so a long-running server does not pile up threads.
    void reapFinishedRunners() {  // caller holds runnersMutex_
        for (auto it = runners_.begin(); it != runners_.end();) {
            if (it->finished.load()) {
                it->thread.join();
                it = runners_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // The task thread: wait for a slot (stoppable), run, report. Nothing escapes.
    void run(TaskHandle& task, const indexing::IndexRunConfig& config) {
        const auto name = task.info().name;
        {
            std::unique_lock lock(slotMutex_);
            while (running_ >= options_.maxConcurrentTasks && !task.stopRequested())
                slotFree_.wait_for(lock, std::chrono::milliseconds(100));
            if (task.stopRequested()) {
                lock.unlock();
                task.finish({}, true);
                options_.log(sdk::LogLevel::Information, "Task " + task.uid() + " stopped before it started: " + name);
                return;
            }
            ++running_;
        }
        const auto start = std::chrono::steady_clock::now();
        indexing::IndexRunResult result;
        try {
            result = indexing::runIndexTask(config, task);
        } catch (const std::exception& e) {
            ++result.report.errors;
            options_.log(sdk::LogLevel::Error, "Task " + task.uid() + " failed: " + e.what());
        } catch (...) {
            ++result.report.errors;
            options_.log(sdk::LogLevel::Error, "Task " + task.uid() + " failed");
        }
        result.report.elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        task.finish(result.report, result.cancelled);
        options_.log(sdk::LogLevel::Information,
                     "Task " + task.uid() + (result.cancelled ? " stopped: " : " complete: ") + name + ": " +
                         std::to_string(result.report.indexed) + " indexed, " + std::to_string(result.report.skipped) +
                         " skipped, " + std::to_string(result.report.errors) + " errors in " +
                         std::to_string(result.report.elapsed.count()) + " ms");
        {
            std::lock_guard lock(slotMutex_);
            --running_;
        }
        slotFree_.notify_all();
    }

    void notifyIndexed(const sdk::Uri& uri, const sdk::DicomObjectView& object) {
        if (!options_.onIndexed) return;
        try {
            options_.onIndexed(uri, object);
        } catch (const std::exception& e) {
            options_.log(sdk::LogLevel::Warning, "After indexing " + uri.str() + ": " + e.what());
        } catch (...) {
            options_.log(sdk::LogLevel::Warning, "After indexing " + uri.str() + ": unknown failure");
        }
    }

    void commitEach(const std::set<sdk::IndexProvider*>& indexers) {
        for (auto* indexer : indexers) {
            try {
                indexer->commit();
            } catch (const std::exception& e) {
                options_.log(sdk::LogLevel::Warning, "Indexer " + indexer->name() + " failed to commit: " + e.what());
            }
        }
    }

    // Commits what indexObject() touched, commitDelay after the first of a burst.
    void commitLoop() {
        std::unique_lock lock(commitMutex_);
        while (!stopCommitter_) {
            if (pending_.empty()) {
                commitWake_.wait(lock);
                continue;
            }
            if (commitWake_.wait_until(lock, commitDue_, [&] { return stopCommitter_; })) break;
            std::set<sdk::IndexProvider*> due;
            due.swap(pending_);
            lock.unlock();
            commitEach(due);
            lock.lock();
        }
    }

    ProviderRegistry& registry_;
    TaskManager& tasks_;
    IndexServiceOptions options_;

    std::mutex runnersMutex_;
    std::list<Runner> runners_;
    bool shutDown_ = false;

    std::mutex slotMutex_;
    std::condition_variable slotFree_;
    std::size_t running_ = 0;

    std::mutex commitMutex_;
    std::condition_variable commitWake_;
    std::set<sdk::IndexProvider*> pending_;
    std::chrono::steady_clock::time_point commitDue_;
    bool stopCommitter_ = false;
    std::thread committer_;
};

IndexService::IndexService(ProviderRegistry& registry, TaskManager& tasks, IndexServiceOptions options)
    : impl_(std::make_unique<Impl>(registry, tasks, std::move(options))) {}

IndexService::~IndexService() = default;

std::vector<sdk::IndexProvider*> IndexService::resolveIndexers(const std::vector<std::string>& names) const {
    return impl_->resolveIndexers(names);
}

std::vector<TaskInfo> IndexService::index(const std::vector<sdk::Uri>& uris,
                                          const std::vector<std::string>& indexerNames) {
    return impl_->index(uris, indexerNames);
}

sdk::IndexReport IndexService::indexObject(const sdk::Uri& uri, const sdk::DicomObjectView& object) {
    return impl_->indexObject(uri, object);
}

sdk::IndexReport IndexService::indexObjects(std::span<const sdk::IndexItem> items) {
    return impl_->indexObjects(items);
}

sdk::IndexReport IndexService::indexItems(const std::vector<sdk::Uri>& uris) {
    return impl_->indexItems(uris);
}

void IndexService::flush() {
    impl_->flush();
}

sdk::UnindexReport IndexService::unindex(const std::vector<sdk::Uri>& uris,
                                         const std::vector<std::string>& indexerNames) {
    return impl_->unindex(uris, indexerNames);
}

void IndexService::shutdown() {
    impl_->shutdown();
}

}  // namespace tessera::core
