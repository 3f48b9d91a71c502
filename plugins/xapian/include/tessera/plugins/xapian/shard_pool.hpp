#pragma once
// ShardPool: persistent worker threads that run the per-shard parts of one provider call in
// parallel. The calling thread runs the first part itself and then any part no worker has
// started yet, so a call never waits on a queue while it could work, and several callers at
// once (the host's parser threads) share the workers without one shard's part starving.
//
// Thread-safety: run() may be called from any number of threads at once. Parts must not call
// run() themselves.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::plugins::xapian {

class ShardPool {
public:
    /// Starts `workers` threads (0 = every part runs on the calling thread).
    explicit ShardPool(std::size_t workers);
    /// Lets the workers finish what they hold, then joins them.
    ~ShardPool();

    ShardPool(const ShardPool&) = delete;
    ShardPool& operator=(const ShardPool&) = delete;

    /// Runs part(i) for every i in [0, parts) and returns when all have finished. Element i of
    /// the result is what part(i) threw (null when it returned): a failing part never cuts the
    /// others short.
    std::vector<std::exception_ptr> run(std::size_t parts, const std::function<void(std::size_t)>& part);

    std::size_t workerCount() const noexcept { return threads_.size(); }

private:
    struct Call;
    struct Job {
        std::shared_ptr<Call> call;
        std::size_t part = 0;
    };

    void workerLoop();
    static void execute(Call& call, std::size_t part);

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace tessera::plugins::xapian
