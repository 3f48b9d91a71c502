#pragma once
// A blocking FIFO of bounded size between the enumerating thread and the parser threads, so a
// fast directory walk never holds more than `capacity` items in memory. Private to core.
// A full queue wakes its waiting pushers only once it has drained to half: the walk is much
// faster than parsing, and waking it for every freed slot cost a futex wake and two context
// switches per file (a tenth of the CPU of an index task on two cores).
//
// Thread-safety: every method may be called from any thread.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace tessera::core::indexing {

template <typename T>
class BoundedQueue {
public:
    explicit BoundedQueue(std::size_t capacity)
        : capacity_(capacity == 0 ? 1 : capacity), lowWater_(capacity_ / 2) {}

    /// Waits for room; false (and `value` dropped) once the queue is closed.
    bool push(T value) {
        std::unique_lock lock(mutex_);
        notFull_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
        if (closed_) return false;
        items_.push_back(std::move(value));
        notEmpty_.notify_one();
        return true;
    }

    /// Waits for an item; nullopt once the queue is closed and empty.
    std::optional<T> pop() {
        std::unique_lock lock(mutex_);
        notEmpty_.wait(lock, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return std::nullopt;
        T value = std::move(items_.front());
        items_.pop_front();
        // Pushers wait only while the queue is full; every pop passes through lowWater_ on the
        // way down, so they are woken (close() and abandon() wake them too).
        if (items_.size() == lowWater_) notFull_.notify_all();
        return value;
    }

    /// No more pushes; poppers drain what is left, then get nullopt.
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        notFull_.notify_all();
        notEmpty_.notify_all();
    }

    /// Closes and drops what is queued (a stop: nobody should work on it any more).
    void abandon() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        items_.clear();
        notFull_.notify_all();
        notEmpty_.notify_all();
    }

private:
    const std::size_t capacity_;
    const std::size_t lowWater_;
    std::mutex mutex_;
    std::condition_variable notFull_, notEmpty_;
    std::deque<T> items_;
    bool closed_ = false;
};

}  // namespace tessera::core::indexing
