#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>

namespace tessera::test {

std::filesystem::path makeTempDir(const std::string& prefix) {
    std::random_device random;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto dir = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(random()));
        if (std::filesystem::create_directory(dir)) return dir;
    }
    throw std::runtime_error("cannot create a temp directory");
}

std::string urlEncode(const std::string& value) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

ServerProcess::ServerProcess(std::vector<std::string> extraArgs, std::optional<std::filesystem::path> dataDir) {
    if (dataDir) {
        dataDir_ = *dataDir;
    } else {
        dataDir_ = makeTempDir("tessera-it");
        ownsDataDir_ = true;
    }
    stderrFile_ = dataDir_.parent_path() / (dataDir_.filename().string() + ".stderr");
    std::vector<std::string> args = {TESSERA_SERVER_BINARY, "--data-dir", dataDir_.string(), "--http-port", "0",
                                     "--storage-port", "0", "--query-port", "0"};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());

    int pipeFds[2];
    if (pipe(pipeFds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
        dup2(pipeFds[1], STDOUT_FILENO);
        int errFd = open(stderrFile_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (errFd >= 0) dup2(errFd, STDERR_FILENO);
        close(pipeFds[0]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(pipeFds[1]);
    stdoutFd_ = pipeFds[0];
    waitForListeningLine();
}

void ServerProcess::waitForListeningLine() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string buffer;
    std::array<char, 4096> chunk{};
    static const std::regex kListening(R"(tessera-server listening http=[^ ]*:(\d+)([^\n]*)\n)");
    static const std::regex kStorage(R"( storage=[^ ]*:(\d+))");
    static const std::regex kQuery(R"( query=[^ ]*:(\d+))");
    while (std::chrono::steady_clock::now() < deadline) {
        fd_set set;
        FD_ZERO(&set);
        FD_SET(stdoutFd_, &set);
        timeval timeout{0, 200000};
        if (select(stdoutFd_ + 1, &set, nullptr, nullptr, &timeout) > 0) {
            const auto n = read(stdoutFd_, chunk.data(), chunk.size());
            if (n <= 0) break;  // the server exited
            buffer.append(chunk.data(), static_cast<std::size_t>(n));
            std::smatch match;
            if (std::regex_search(buffer, match, kListening)) {
                httpPort_ = static_cast<std::uint16_t>(std::stoi(match[1]));
                const std::string rest = match[2];
                std::smatch service;
                if (std::regex_search(rest, service, kStorage))
                    storagePort_ = static_cast<std::uint16_t>(std::stoi(service[1]));
                if (std::regex_search(rest, service, kQuery))
                    queryPort_ = static_cast<std::uint16_t>(std::stoi(service[1]));
                // Keep reading stdout so the server never blocks on a full pipe.
                drain_ = std::thread([fd = stdoutFd_] {
                    std::array<char, 4096> sink{};
                    while (read(fd, sink.data(), sink.size()) > 0) {
                    }
                });
                return;
            }
        }
    }
    const std::string logText = log();
    kill();
    throw std::runtime_error("tessera-server did not report its ports; output:\n" + buffer + "\nlog:\n" + logText);
}

std::string ServerProcess::log() const {
    std::ifstream in(stderrFile_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int ServerProcess::stop() {
    int status = 0;
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 300; ++i) {  // up to 30 s, then force
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }
    if (drain_.joinable()) drain_.join();
    if (stdoutFd_ >= 0) {
        close(stdoutFd_);
        stdoutFd_ = -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServerProcess::kill() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    if (drain_.joinable()) drain_.join();
    if (stdoutFd_ >= 0) {
        close(stdoutFd_);
        stdoutFd_ = -1;
    }
}

ServerProcess::~ServerProcess() {
    stop();
    std::error_code ignored;
    if (ownsDataDir_) std::filesystem::remove_all(dataDir_, ignored);
    std::filesystem::remove(stderrFile_, ignored);
}

HttpResult ServerProcess::request(const std::string& method, const std::string& pathAndQuery, const std::string& token,
                                  const std::string& formBody, const std::map<std::string, std::string>& headers) const {
    Poco::Net::HTTPClientSession session("127.0.0.1", httpPort_);
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest request(method, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) request.set("Authorization", token);
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!formBody.empty()) {
        request.setContentType("application/x-www-form-urlencoded");
        request.setContentLength(static_cast<std::streamsize>(formBody.size()));
        session.sendRequest(request) << formBody;
    } else {
        if (method == "POST" || method == "PUT") request.setContentLength(0);
        session.sendRequest(request);
    }
    Poco::Net::HTTPResponse response;
    auto& in = session.receiveResponse(response);
    HttpResult result;
    result.status = static_cast<int>(response.getStatus());
    result.contentType = response.has("Content-Type") ? response.getContentType() : "";
    for (const auto& [name, value] : response) {
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers[lower] = value;
    }
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
}

std::string ServerProcess::login(const std::string& user, const std::string& password) const {
    auto result = request("POST", "/login", {}, "username=" + urlEncode(user) + "&password=" + urlEncode(password));
    if (result.status != 200) throw std::runtime_error("login failed: " + std::to_string(result.status) + " " + result.body);
    auto json = Poco::JSON::Parser().parse(result.body).extract<Poco::JSON::Object::Ptr>();
    return json->getValue<std::string>("token");
}

}  // namespace tessera::test
