#pragma once
// Server logging: one set-up call wires Poco's root logger to the console (stderr), a rotating
// file in the data directory and an in-memory ring of recent lines that GET /logger serves.

#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace tessera::core {

/// The last N formatted log lines, kept in memory. Thread-safe.
class RecentLog {
public:
    explicit RecentLog(std::size_t maxLines);
    void append(std::string line);
    /// Every kept line, oldest first, each ending in '\n'.
    std::string text() const;

private:
    mutable std::mutex mutex_;
    std::size_t maxLines_;
    std::deque<std::string> lines_;
};

struct LoggingOptions {
    std::filesystem::path logFile;  ///< empty: no file
    bool console = true;            ///< to stderr
    bool debug = false;             ///< log level debug instead of information
};

/// Replaces the root logger's channel. Call once at start-up, before other threads log.
void configureLogging(const LoggingOptions& options, std::shared_ptr<RecentLog> recent);

}  // namespace tessera::core
