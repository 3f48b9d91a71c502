#pragma once
// WatchFolder: keeps the index in step with one folder (archive.watch-directory) while it is
// enabled. Files written into it are indexed, files deleted or moved out of it are unindexed,
// recursively, within about a second. Dicoogle polls every 30 s and only reads its setting at
// boot; this follows changes at once (configure()).
//
// Mechanism: Linux inotify, one watch per directory (new subdirectories are watched as they
// appear, and scanned, since files may land in them before the watch exists). A file is
// complete at IN_CLOSE_WRITE (written in place) or IN_MOVED_TO (renamed in: the safe way to
// drop a file); IN_CREATE alone never triggers a read. IN_DELETE and IN_MOVED_FROM unindex;
// a directory deleted or moved out unindexes every file known under it. When the kernel's
// event queue overflows (IN_Q_OVERFLOW) the whole folder is rescanned: present files are
// indexed again (idempotent) and known files that are gone are unindexed. Starting (at boot,
// enabling, moving) also scans, so files dropped while the server was down are picked up.
// Names starting with '.' (files and directories) are ignored: copy tools (rsync, many
// uploaders) write such temporaries and rename them when complete. Symbolic links are not
// followed into directories.
//
// Events are gathered in a queue keyed by file (the last event of a file wins) and handed to the
// index/unindex functions in batches once no event came for `quietPeriod`, or at the latest
// `maxDelay` after the first one, at most `maxBatch` URIs per call: a burst of thousands of
// files becomes a few calls. Files are named by `file:` URIs of their canonical path, encoded
// like the `file` storage plugin's own URIs (fileUri()), so that reading them goes through that
// provider and its root checks: the folder must lie inside a root it serves.
//
// Thread-safety: every public method may be called from any thread; configure(), watch() and
// stop() are serialised. The index/unindex functions run on the watcher's own worker thread,
// one call at a time, and must not call back into this object's configure()/watch()/stop().
// The destructor stops the watcher (pending, not yet handed over events are dropped).

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {

struct WatchFolderOptions {
    /// A batch leaves once no event came for this long ...
    std::chrono::milliseconds quietPeriod{300};
    /// ... or this long after its first event, even while a burst goes on.
    std::chrono::milliseconds maxDelay{2000};
    /// Most URIs per index or unindex call.
    std::size_t maxBatch = 1000;
    /// One log line; empty = Poco's logger "tessera.watch".
    std::function<void(sdk::LogLevel, const std::string&)> log;
};

/// What a watcher has done since it was constructed (all folders together).
struct WatchFolderStats {
    std::size_t indexBatches = 0;    ///< calls of the index function
    std::size_t indexedUris = 0;     ///< URIs handed to it
    std::size_t unindexBatches = 0;  ///< calls of the unindex function
    std::size_t unindexedUris = 0;   ///< URIs handed to it
    std::size_t overflows = 0;       ///< IN_Q_OVERFLOW rescans
};

class WatchFolder {
public:
    using UriBatchFunction = std::function<void(const std::vector<sdk::Uri>&)>;

    /// `index` and `unindex` receive the batches (what they throw is logged and dropped).
    WatchFolder(UriBatchFunction index, UriBatchFunction unindex, WatchFolderOptions options = {});
    ~WatchFolder();
    WatchFolder(const WatchFolder&) = delete;
    WatchFolder& operator=(const WatchFolder&) = delete;

    /// Watches `folder` (and everything below it), replacing the folder watched so far, and
    /// scans it. Watching the folder already watched does nothing. Throws
    /// Error(InvalidArgument) for a relative path or one that is not a directory,
    /// Error(NotFound) when it does not exist, Error(Unavailable) when inotify refuses (e.g.
    /// the per-user instance limit); the previous watch is stopped in every case.
    void watch(const std::filesystem::path& folder);

    /// Stops watching. Events not yet handed over are dropped. Idempotent.
    void stop();

    /// Applies the two settings: watches `folder` when `enabled` and `folder` is not empty,
    /// else stops. Throws like watch().
    void configure(bool enabled, const std::filesystem::path& folder);

    /// The canonical folder being watched, if any.
    std::optional<std::filesystem::path> folder() const;

    WatchFolderStats stats() const;

    /// Waits until every event seen so far has been handed over and no call is running; false
    /// if that did not happen within `limit`. For tests and orderly hand-overs.
    bool waitIdle(std::chrono::milliseconds limit) const;

    /// `file:` URI of an absolute path, every byte outside `[A-Za-z0-9-._~/]` percent-encoded
    /// (upper-case hex), exactly as the `file` storage plugin writes its URIs.
    static sdk::Uri fileUri(const std::filesystem::path& absolutePath);

private:
    class Session;
    struct Shared;
    std::unique_ptr<Shared> shared_;
};

}  // namespace tessera::core
