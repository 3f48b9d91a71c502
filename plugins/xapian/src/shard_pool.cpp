#include "tessera/plugins/xapian/shard_pool.hpp"

#include <atomic>

namespace tessera::plugins::xapian {

struct ShardPool::Call {
    const std::function<void(std::size_t)>* part = nullptr;
    std::vector<std::exception_ptr> errors;
    // Whoever flips a part's flag first runs it; a worker that finds it taken drops the job.
    std::unique_ptr<std::atomic<bool>[]> claimed;
    std::mutex mutex;
    std::condition_variable done;
    std::size_t remaining = 0;
};

ShardPool::ShardPool(std::size_t workers) {
    threads_.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { workerLoop(); });
}

ShardPool::~ShardPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
}

void ShardPool::execute(Call& call, std::size_t part) {
    try {
        (*call.part)(part);
    } catch (...) {
        call.errors[part] = std::current_exception();
    }
    std::lock_guard lock(call.mutex);
    if (--call.remaining == 0) call.done.notify_all();
}

void ShardPool::workerLoop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing left
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        if (!job.call->claimed[job.part].exchange(true)) execute(*job.call, job.part);
    }
}

std::vector<std::exception_ptr> ShardPool::run(std::size_t parts, const std::function<void(std::size_t)>& part) {
    if (parts == 0) return {};
    auto call = std::make_shared<Call>();
    call->part = &part;
    call->errors.resize(parts);
    call->claimed = std::make_unique<std::atomic<bool>[]>(parts);
    for (std::size_t i = 0; i < parts; ++i) call->claimed[i].store(false);
    call->remaining = parts;
    if (parts > 1 && !threads_.empty()) {
        {
            std::lock_guard lock(mutex_);
            for (std::size_t i = 1; i < parts; ++i) queue_.push_back(Job{call, i});
        }
        wake_.notify_all();
    }
    // The first part here, then whatever no worker has taken yet.
    for (std::size_t i = 0; i < parts; ++i)
        if (!call->claimed[i].exchange(true)) execute(*call, i);
    std::unique_lock lock(call->mutex);
    call->done.wait(lock, [&] { return call->remaining == 0; });
    return std::move(call->errors);
}

}  // namespace tessera::plugins::xapian
