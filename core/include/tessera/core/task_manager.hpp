#pragma once
// The registry of long-running tasks (indexing today): what GET /index/task lists and what
// POST /index/task closes or stops.
//
// A task is created by the code that will run it, which keeps the TaskHandle and reports
// progress and the outcome through it; everyone else sees snapshots (TaskInfo). Stopping is
// cooperative: stop() raises a flag that the runner checks often (per item, per batch) and then
// finishes the task as cancelled. Finished tasks stay listed until closed; above a cap of
// finished tasks the oldest finished ones are dropped, so a server that is never tidied up does
// not grow without bound.
//
// Ownership: the manager and the handles share each task's state, so a handle stays usable
// after its task was closed (its updates then go nowhere) or the manager destroyed.
// Thread-safety: every method of TaskManager and TaskHandle may be called from any thread.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core {

/// The outcome counts of a finished task.
struct TaskReport {
    std::size_t indexed = 0;  // objects the task indexed (in every chosen indexer)
    std::size_t errors = 0;   // unreadable, malformed or refused by an indexer
    std::size_t skipped = 0;  // readable but not indexable (DICOMDIR, no SOP UIDs)
    std::chrono::milliseconds elapsed{0};
};

/// A snapshot of one task.
struct TaskInfo {
    std::string uid;         // UUID v4, lower-case hex
    std::string name;        // "[xapian]index file:/data"
    double progress = -1.0;  // 0..1, or -1 while unknown
    std::chrono::system_clock::time_point created;
    bool done = false;                 // finished, either complete or cancelled
    bool cancelled = false;            // finished because it was stopped
    std::optional<TaskReport> report;  // set once done
};

class TaskManager;

/// What the runner of a task holds.
class TaskHandle {
public:
    struct State;
    explicit TaskHandle(std::shared_ptr<State> state);

    const std::string& uid() const noexcept;
    /// Clamped to 0..1; a negative value means unknown (-1).
    void setProgress(double progress);
    /// True once stop() was called for this task.
    bool stopRequested() const noexcept;
    /// Marks the task done with its report (progress 1 unless cancelled). Only the first call
    /// counts.
    void finish(TaskReport report, bool cancelled);
    TaskInfo info() const;

private:
    std::shared_ptr<State> state_;
};

class TaskManager {
public:
    /// Finished tasks kept before the oldest finished ones are dropped.
    static constexpr std::size_t kDefaultMaxFinishedTasks = 10000;

    explicit TaskManager(std::size_t maxFinishedTasks = kDefaultMaxFinishedTasks);
    ~TaskManager();
    TaskManager(const TaskManager&) = delete;
    TaskManager& operator=(const TaskManager&) = delete;

    /// Registers a new, unfinished task with progress 0 and a fresh UUID v4.
    std::shared_ptr<TaskHandle> create(std::string name);

    /// Every listed task, oldest first.
    std::vector<TaskInfo> list() const;
    std::optional<TaskInfo> find(std::string_view uid) const;

    /// Removes a finished task from the list. False for an unknown task or one still running
    /// (stop it first: a closed task must not keep working out of sight).
    bool close(std::string_view uid);
    /// Asks a running task to stop. True when the task exists and had not finished yet.
    bool stop(std::string_view uid);
    /// Asks every unfinished task to stop.
    void stopAll();

    /// Tasks neither complete nor cancelled.
    std::size_t unfinishedCount() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// A random UUID version 4 (RFC 4122), lower-case: "1b4e28ba-2fa1-4d2b-883f-0016d3cca427".
std::string makeUuidV4();

}  // namespace tessera::core
