#pragma once
// Runs the real tessera-server binary for a test: a fresh temp data directory, port 0, the
// "listening" line read from stdout, SIGTERM at the end, the directory removed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tessera::test {

struct HttpResult {
    int status = 0;
    std::string contentType;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
};

class ServerProcess {
public:
    /// Starts the server with `--data-dir <temp> --http-port 0 --storage-port 0 --query-port 0`
    /// plus `extraArgs` (a later flag wins); waits for the listening line (fails the test after
    /// 30 s). Tests never touch the default DICOM ports 6666 and 1045.
    explicit ServerProcess(std::vector<std::string> extraArgs = {}, std::optional<std::filesystem::path> dataDir = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::uint16_t httpPort() const { return httpPort_; }
    /// The DICOM ports from the listening line; 0 when that service was not running.
    std::uint16_t storagePort() const { return storagePort_; }
    std::uint16_t queryPort() const { return queryPort_; }
    const std::filesystem::path& dataDir() const { return dataDir_; }
    /// stderr of the server so far (its console log).
    std::string log() const;
    /// SIGTERM and wait; returns the exit status. Idempotent.
    int stop();
    /// SIGKILL, no clean-up by the server.
    void kill();
    bool running() const { return pid_ > 0; }

    /// One HTTP request; `query` is appended as a query string (already encoded), `form` sent as
    /// an application/x-www-form-urlencoded body.
    HttpResult request(const std::string& method, const std::string& pathAndQuery, const std::string& token = {},
                       const std::string& formBody = {}, const std::map<std::string, std::string>& headers = {}) const;

    /// Logs in and returns the token (fails the test on error).
    std::string login(const std::string& user = "dicoogle", const std::string& password = "dicoogle") const;

private:
    void waitForListeningLine();

    std::filesystem::path dataDir_;
    bool ownsDataDir_ = false;
    std::filesystem::path stderrFile_;
    pid_t pid_ = -1;
    int stdoutFd_ = -1;
    std::uint16_t httpPort_ = 0;
    std::uint16_t storagePort_ = 0;
    std::uint16_t queryPort_ = 0;
    std::thread drain_;
};

/// URL-encodes a parameter value (RFC 3986 unreserved characters kept).
std::string urlEncode(const std::string& value);

/// A fresh empty directory under the system temp dir.
std::filesystem::path makeTempDir(const std::string& prefix);

}  // namespace tessera::test
