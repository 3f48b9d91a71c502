#include "tessera/core/watch_folder.hpp"

#include <Poco/Logger.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;

void logToPoco(sdk::LogLevel level, const std::string& line) {
    auto& log = Poco::Logger::get("tessera.watch");
    switch (level) {
        case sdk::LogLevel::Debug: log.debug(line); break;
        case sdk::LogLevel::Information: log.information(line); break;
        case sdk::LogLevel::Warning: log.warning(line); break;
        case sdk::LogLevel::Error: log.error(line); break;
    }
}

bool hidden(std::string_view name) { return !name.empty() && name.front() == '.'; }

std::string join(const std::string& dir, std::string_view name) {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

struct WatchFolder::Shared {
    UriBatchFunction index;
    UriBatchFunction unindex;
    WatchFolderOptions options;

    std::mutex controlMutex;  // serialises watch()/stop()
    std::unique_ptr<Session> session;

    mutable std::mutex statsMutex;
    WatchFolderStats stats;

    void log(sdk::LogLevel level, const std::string& line) const { options.log(level, line); }
};

// One watched folder: the inotify instance, the thread that reads its events and the worker that
// hands batches over. Destroying it stops both threads.
class WatchFolder::Session {
public:
    Session(Shared& shared, fs::path root) : shared_(shared), root_(std::move(root)) {
        inotifyFd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotifyFd_ < 0)
            throw sdk::Error(sdk::ErrorCode::Unavailable,
                             std::string("Cannot watch folders (inotify): ") + std::strerror(errno));
        wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakeFd_ < 0) {
            const int error = errno;
            ::close(inotifyFd_);
            throw sdk::Error(sdk::ErrorCode::Unavailable, std::string("Cannot watch folders: ") + std::strerror(error));
        }
        const int rootWatch = inotify_add_watch(inotifyFd_, root_.c_str(), kWatchMask);
        if (rootWatch < 0) {
            const int error = errno;
            ::close(inotifyFd_);
            ::close(wakeFd_);
            throw sdk::Error(sdk::ErrorCode::Unavailable,
                             "Cannot watch " + root_.string() + ": " + std::strerror(error));
        }
        wdToDir_[rootWatch] = "";
        dirToWd_[""] = rootWatch;
        worker_ = std::thread([this] { workLoop(); });
        reader_ = std::thread([this] { readLoop(); });
    }

    ~Session() {
        {
            std::lock_guard lock(pendingMutex_);
            stopping_ = true;
        }
        pendingChanged_.notify_all();
        const std::uint64_t one = 1;
        [[maybe_unused]] auto written = ::write(wakeFd_, &one, sizeof one);
        if (reader_.joinable()) reader_.join();
        if (worker_.joinable()) worker_.join();
        ::close(inotifyFd_);
        ::close(wakeFd_);
    }

    const fs::path& root() const { return root_; }
    bool alive() const { return alive_.load(); }

    bool idle() const {
        if (!scanned_.load() || !readerWaiting_.load()) return false;
        int unread = 0;
        if (::ioctl(inotifyFd_, FIONREAD, &unread) == 0 && unread > 0) return false;
        std::lock_guard lock(pendingMutex_);
        return pending_.empty() && !busy_;
    }

private:
    void log(sdk::LogLevel level, const std::string& line) const { shared_.log(level, line); }

    // --- the reader thread: events → pending actions ---

    void readLoop() {
        try {
            addTree("");
        } catch (const std::exception& e) {
            log(sdk::LogLevel::Warning, "Scanning the watch folder " + root_.string() + " failed: " + e.what());
        }
        scanned_ = true;
        alignas(inotify_event) char buffer[64 * 1024];
        while (true) {
            pollfd fds[2] = {{inotifyFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
            readerWaiting_ = true;
            const int ready = ::poll(fds, 2, -1);
            readerWaiting_ = false;
            if (ready < 0) {
                if (errno == EINTR) continue;
                log(sdk::LogLevel::Error, std::string("Watch folder: poll failed: ") + std::strerror(errno));
                return;
            }
            if (fds[1].revents != 0) return;
            const ssize_t length = ::read(inotifyFd_, buffer, sizeof buffer);
            if (length <= 0) {
                if (length < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                log(sdk::LogLevel::Error, "Watch folder: reading events failed");
                return;
            }
            try {
                for (ssize_t offset = 0; offset < length;) {
                    const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
                    handle(*event);
                    offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
                }
            } catch (const std::exception& e) {
                log(sdk::LogLevel::Warning, std::string("Watch folder: ") + e.what());
            }
        }
    }

    void handle(const inotify_event& event) {
        if (event.mask & IN_Q_OVERFLOW) {
            {
                std::lock_guard lock(shared_.statsMutex);
                ++shared_.stats.overflows;
            }
            log(sdk::LogLevel::Warning, "Watch folder " + root_.string() + ": events were lost; rescanning");
            rescan();
            return;
        }
        const auto found = wdToDir_.find(event.wd);
        if (found == wdToDir_.end()) return;
        const std::string dir = found->second;
        if (event.mask & IN_IGNORED) {
            dirToWd_.erase(dir);
            wdToDir_.erase(found);
            return;
        }
        if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
            // A subdirectory's own removal is handled through its parent's event; only the
            // root's matters here.
            if (dir.empty()) rootGone();
            return;
        }
        if (event.len == 0) return;
        const std::string_view name(event.name);
        if (hidden(name)) return;
        const std::string relative = join(dir, name);
        if (event.mask & IN_ISDIR) {
            if (event.mask & (IN_CREATE | IN_MOVED_TO))
                addTree(relative);
            else if (event.mask & (IN_DELETE | IN_MOVED_FROM))
                dropTree(relative);
            return;
        }
        if (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
            known_.insert(relative);
            enqueue(relative, true);
        } else if (event.mask & (IN_DELETE | IN_MOVED_FROM)) {
            known_.erase(relative);
            enqueue(relative, false);
        }
    }

    // Watches `relativeDir` and every directory below it, and queues every file found for
    // indexing: files may have landed there before the watch existed. A file caught both here
    // and by an event is queued once.
    void addTree(const std::string& relativeDir) {
        std::vector<std::string> stack{relativeDir};
        while (!stack.empty()) {
            const std::string dir = std::move(stack.back());
            stack.pop_back();
            const fs::path absolute = dir.empty() ? root_ : root_ / dir;
            const int wd = inotify_add_watch(inotifyFd_, absolute.c_str(), kWatchMask);
            if (wd < 0) {
                // ENOSPC: fs.inotify.max_user_watches is exhausted; the operator must raise it.
                if (errno != ENOENT && errno != ENOTDIR)
                    log(sdk::LogLevel::Warning, "Cannot watch " + absolute.string() + ": " + std::strerror(errno));
                continue;
            }
            if (auto old = dirToWd_.find(dir); old != dirToWd_.end() && old->second != wd) wdToDir_.erase(old->second);
            wdToDir_[wd] = dir;
            dirToWd_[dir] = wd;
            std::error_code ec;
            fs::directory_iterator it(absolute, fs::directory_options::skip_permission_denied, ec);
            for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
                const auto name = it->path().filename().string();
                if (hidden(name)) continue;
                std::error_code statusError;
                const auto linkStatus = it->symlink_status(statusError);
                if (statusError) continue;
                const std::string relative = join(dir, name);
                if (fs::is_directory(linkStatus)) {
                    stack.push_back(relative);
                } else if (it->is_regular_file(statusError) && !statusError) {
                    known_.insert(relative);
                    enqueue(relative, true);
                }
            }
        }
    }

    // A directory left the folder: every file known under it is unindexed and its watches go.
    void dropTree(const std::string& relativeDir) {
        const std::string prefix = relativeDir + "/";
        for (auto it = known_.lower_bound(prefix); it != known_.end() && startsWith(*it, prefix);) {
            enqueue(*it, false);
            it = known_.erase(it);
        }
        auto forget = [&](std::map<std::string, int>::iterator it) {
            ::inotify_rm_watch(inotifyFd_, it->second);  // fails harmlessly when already gone
            wdToDir_.erase(it->second);
            return dirToWd_.erase(it);
        };
        if (auto self = dirToWd_.find(relativeDir); self != dirToWd_.end()) forget(self);
        for (auto it = dirToWd_.lower_bound(prefix); it != dirToWd_.end() && startsWith(it->first, prefix);)
            it = forget(it);
    }

    // After lost events: index what is there (again), unindex what is known but gone.
    void rescan() {
        std::set<std::string> before;
        before.swap(known_);
        addTree("");
        for (const auto& relative : before)
            if (!known_.count(relative)) enqueue(relative, false);
    }

    void rootGone() {
        log(sdk::LogLevel::Warning,
            "The watch folder " + root_.string() + " was moved or deleted: its files are unindexed, watching stops");
        for (const auto& relative : known_) enqueue(relative, false);
        known_.clear();
        for (const auto& [wd, dir] : wdToDir_) ::inotify_rm_watch(inotifyFd_, wd);
        wdToDir_.clear();
        dirToWd_.clear();
        alive_ = false;
    }

    void enqueue(const std::string& relative, bool index) {
        {
            std::lock_guard lock(pendingMutex_);
            const auto now = std::chrono::steady_clock::now();
            if (pending_.empty()) firstEvent_ = now;
            lastEvent_ = now;
            pending_[relative] = index;
        }
        pendingChanged_.notify_all();
    }

    // --- the worker thread: pending actions → index/unindex batches ---

    void workLoop() {
        const auto& options = shared_.options;
        std::unique_lock lock(pendingMutex_);
        while (true) {
            pendingChanged_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (stopping_) return;
            while (!stopping_ && pending_.size() < options.maxBatch) {
                const auto due = std::min(lastEvent_ + options.quietPeriod, firstEvent_ + options.maxDelay);
                if (std::chrono::steady_clock::now() >= due) break;
                pendingChanged_.wait_until(lock, due);
            }
            if (stopping_) return;
            std::unordered_map<std::string, bool> batch;
            batch.swap(pending_);
            busy_ = true;
            lock.unlock();
            deliver(batch);
            lock.lock();
            busy_ = false;
        }
    }

    void deliver(const std::unordered_map<std::string, bool>& batch) {
        std::vector<sdk::Uri> toIndex, toUnindex;
        for (const auto& [relative, index] : batch) {
            try {
                (index ? toIndex : toUnindex).push_back(fileUri(root_ / relative));
            } catch (const std::exception& e) {
                log(sdk::LogLevel::Warning, "Watch folder: cannot name " + relative + ": " + e.what());
            }
        }
        call(shared_.unindex, toUnindex, false);
        call(shared_.index, toIndex, true);
    }

    void call(const UriBatchFunction& function, const std::vector<sdk::Uri>& uris, bool index) {
        const std::size_t chunk = std::max<std::size_t>(shared_.options.maxBatch, 1);
        for (std::size_t start = 0; start < uris.size(); start += chunk) {
            const std::vector<sdk::Uri> part(uris.begin() + static_cast<std::ptrdiff_t>(start),
                                             uris.begin() + static_cast<std::ptrdiff_t>(std::min(uris.size(), start + chunk)));
            {
                std::lock_guard lock(shared_.statsMutex);
                auto& stats = shared_.stats;
                ++(index ? stats.indexBatches : stats.unindexBatches);
                (index ? stats.indexedUris : stats.unindexedUris) += part.size();
            }
            try {
                if (function) function(part);
            } catch (const std::exception& e) {
                log(sdk::LogLevel::Warning, std::string("Watch folder: ") + (index ? "indexing " : "unindexing ") +
                                                std::to_string(part.size()) + " files failed: " + e.what());
            } catch (...) {
                log(sdk::LogLevel::Warning, "Watch folder: a batch failed");
            }
        }
    }

    Shared& shared_;
    const fs::path root_;
    int inotifyFd_ = -1;
    int wakeFd_ = -1;

    // Reader thread only.
    std::unordered_map<int, std::string> wdToDir_;
    std::map<std::string, int> dirToWd_;  // ordered: a subtree is one range
    std::set<std::string> known_;         // files seen, relative; ordered for the same reason

    mutable std::mutex pendingMutex_;
    std::condition_variable pendingChanged_;
    std::unordered_map<std::string, bool> pending_;  // relative path → index (true) / unindex
    std::chrono::steady_clock::time_point firstEvent_, lastEvent_;
    bool busy_ = false;
    bool stopping_ = false;

    std::atomic<bool> scanned_{false};
    std::atomic<bool> readerWaiting_{false};
    std::atomic<bool> alive_{true};

    std::thread worker_;
    std::thread reader_;
};

WatchFolder::WatchFolder(UriBatchFunction index, UriBatchFunction unindex, WatchFolderOptions options)
    : shared_(std::make_unique<Shared>()) {
    shared_->index = std::move(index);
    shared_->unindex = std::move(unindex);
    shared_->options = std::move(options);
    if (!shared_->options.log) shared_->options.log = logToPoco;
    shared_->options.maxBatch = std::max<std::size_t>(shared_->options.maxBatch, 1);
}

WatchFolder::~WatchFolder() { stop(); }

void WatchFolder::watch(const fs::path& folder) {
    std::lock_guard lock(shared_->controlMutex);
    auto refuse = [&](sdk::ErrorCode code, const std::string& message) {
        shared_->session.reset();
        throw sdk::Error(code, message);
    };
    if (!folder.is_absolute()) refuse(sdk::ErrorCode::InvalidArgument, "The watch folder must be an absolute path");
    std::error_code ec;
    const auto canonical = fs::canonical(folder, ec);
    if (ec) refuse(sdk::ErrorCode::NotFound, "The watch folder " + folder.string() + " does not exist");
    if (!fs::is_directory(canonical, ec))
        refuse(sdk::ErrorCode::InvalidArgument, "The watch folder " + folder.string() + " is not a directory");
    if (shared_->session && shared_->session->alive() && shared_->session->root() == canonical) return;
    shared_->session.reset();
    shared_->session = std::make_unique<Session>(*shared_, canonical);
    shared_->log(sdk::LogLevel::Information, "Watching " + canonical.string());
}

void WatchFolder::stop() {
    std::lock_guard lock(shared_->controlMutex);
    if (!shared_->session) return;
    const auto root = shared_->session->root();
    shared_->session.reset();
    shared_->log(sdk::LogLevel::Information, "Stopped watching " + root.string());
}

void WatchFolder::configure(bool enabled, const fs::path& folder) {
    if (enabled && !folder.empty())
        watch(folder);
    else
        stop();
}

std::optional<fs::path> WatchFolder::folder() const {
    std::lock_guard lock(shared_->controlMutex);
    if (!shared_->session || !shared_->session->alive()) return std::nullopt;
    return shared_->session->root();
}

WatchFolderStats WatchFolder::stats() const {
    std::lock_guard lock(shared_->statsMutex);
    return shared_->stats;
}

bool WatchFolder::waitIdle(std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
        {
            std::lock_guard lock(shared_->controlMutex);
            if (!shared_->session || shared_->session->idle()) return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

sdk::Uri WatchFolder::fileUri(const fs::path& absolutePath) {
    return sdk::Uri::fromFilePath(absolutePath.native());
}

}  // namespace tessera::core
