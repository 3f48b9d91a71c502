#include "tessera/core/task_manager.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <random>

namespace tessera::core {

struct TaskHandle::State {
    std::string uid;
    std::string name;
    std::chrono::system_clock::time_point created;
    std::atomic<double> progress{0.0};
    std::atomic<bool> stopRequested{false};

    mutable std::mutex mutex;  // guards the fields below
    bool done = false;
    bool cancelled = false;
    std::optional<TaskReport> report;

    // Lets finish() trim the registry; does nothing once the manager is gone.
    std::function<void()> onFinished;

    bool isDone() const {
        std::lock_guard lock(mutex);
        return done;
    }

    TaskInfo snapshot() const {
        TaskInfo info;
        info.uid = uid;
        info.name = name;
        info.created = created;
        info.progress = progress.load();
        std::lock_guard lock(mutex);
        info.done = done;
        info.cancelled = cancelled;
        info.report = report;
        return info;
    }
};

struct TaskManager::Impl {
    explicit Impl(std::size_t cap) : maxFinished(cap) {}

    const std::size_t maxFinished;
    mutable std::mutex mutex;
    // Creation order, so listings are stable and the oldest finished task is found first.
    std::list<std::shared_ptr<TaskHandle::State>> tasks;

    std::shared_ptr<TaskHandle::State> findLocked(std::string_view uid) const {
        for (const auto& task : tasks)
            if (task->uid == uid) return task;
        return nullptr;
    }

    static void trimFinished(Impl& impl) {
        std::lock_guard lock(impl.mutex);
        std::size_t finished = 0;
        for (const auto& task : impl.tasks)
            if (task->isDone()) ++finished;
        for (auto it = impl.tasks.begin(); it != impl.tasks.end() && finished > impl.maxFinished;) {
            if ((*it)->isDone()) {
                it = impl.tasks.erase(it);
                --finished;
            } else {
                ++it;
            }
        }
    }
};

TaskHandle::TaskHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}

const std::string& TaskHandle::uid() const noexcept {
    return state_->uid;
}

void TaskHandle::setProgress(double progress) {
    if (state_->isDone()) return;
    state_->progress.store(progress < 0.0 ? -1.0 : std::min(progress, 1.0));
}

bool TaskHandle::stopRequested() const noexcept {
    return state_->stopRequested.load();
}

void TaskHandle::finish(TaskReport report, bool cancelled) {
    {
        std::lock_guard lock(state_->mutex);
        if (state_->done) return;
        state_->done = true;
        state_->cancelled = cancelled;
        state_->report = report;
        if (!cancelled) state_->progress.store(1.0);
    }
    if (state_->onFinished) state_->onFinished();
}

TaskInfo TaskHandle::info() const {
    return state_->snapshot();
}

TaskManager::TaskManager(std::size_t maxFinishedTasks) : impl_(std::make_shared<Impl>(maxFinishedTasks)) {}

TaskManager::~TaskManager() = default;

std::shared_ptr<TaskHandle> TaskManager::create(std::string name) {
    auto state = std::make_shared<TaskHandle::State>();
    state->uid = makeUuidV4();
    state->name = std::move(name);
    state->created = std::chrono::system_clock::now();
    state->onFinished = [weak = std::weak_ptr<Impl>(impl_)] {
        if (auto impl = weak.lock()) Impl::trimFinished(*impl);
    };
    {
        std::lock_guard lock(impl_->mutex);
        impl_->tasks.push_back(state);
    }
    return std::make_shared<TaskHandle>(std::move(state));
}

std::vector<TaskInfo> TaskManager::list() const {
    std::vector<std::shared_ptr<TaskHandle::State>> tasks;
    {
        std::lock_guard lock(impl_->mutex);
        tasks.assign(impl_->tasks.begin(), impl_->tasks.end());
    }
    std::vector<TaskInfo> infos;
    infos.reserve(tasks.size());
    for (const auto& task : tasks) infos.push_back(task->snapshot());
    return infos;
}

std::optional<TaskInfo> TaskManager::find(std::string_view uid) const {
    std::shared_ptr<TaskHandle::State> task;
    {
        std::lock_guard lock(impl_->mutex);
        task = impl_->findLocked(uid);
    }
    if (!task) return std::nullopt;
    return task->snapshot();
}

bool TaskManager::close(std::string_view uid) {
    std::lock_guard lock(impl_->mutex);
    for (auto it = impl_->tasks.begin(); it != impl_->tasks.end(); ++it) {
        if ((*it)->uid != uid) continue;
        if (!(*it)->isDone()) return false;
        impl_->tasks.erase(it);
        return true;
    }
    return false;
}

bool TaskManager::stop(std::string_view uid) {
    std::shared_ptr<TaskHandle::State> task;
    {
        std::lock_guard lock(impl_->mutex);
        task = impl_->findLocked(uid);
    }
    if (!task || task->isDone()) return false;
    task->stopRequested.store(true);
    return true;
}

void TaskManager::stopAll() {
    std::lock_guard lock(impl_->mutex);
    for (const auto& task : impl_->tasks) task->stopRequested.store(true);
}

std::size_t TaskManager::unfinishedCount() const {
    std::lock_guard lock(impl_->mutex);
    return static_cast<std::size_t>(
        std::count_if(impl_->tasks.begin(), impl_->tasks.end(), [](const auto& task) { return !task->isDone(); }));
}

std::string makeUuidV4() {
    // One generator seeded from the OS: task ids need to be unique, not secret.
    static std::mutex mutex;
    static std::mt19937_64 generator = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    std::uint64_t high = 0, low = 0;
    {
        std::lock_guard lock(mutex);
        high = generator();
        low = generator();
    }
    high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
    low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // variant 10xx
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    auto put = [&](std::uint64_t value, int nibbles) {
        for (int i = nibbles - 1; i >= 0; --i) out.push_back(kHex[(value >> (4 * i)) & 0xF]);
    };
    put(high >> 32, 8);
    out.push_back('-');
    put((high >> 16) & 0xFFFF, 4);
    out.push_back('-');
    put(high & 0xFFFF, 4);
    out.push_back('-');
    put(low >> 48, 4);
    out.push_back('-');
    put(low & 0xFFFFFFFFFFFFULL, 12);
    return out;
}

}  // namespace tessera::core
