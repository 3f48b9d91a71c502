#include "dcmtk_tools.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <map>
#include <stdexcept>
#include <thread>

namespace tessera::test {

ToolResult runTool(const std::string& program, const std::vector<std::string>& arguments,
                   std::chrono::seconds timeout) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(pipeFds[1], STDOUT_FILENO);
        ::dup2(pipeFds[1], STDERR_FILENO);
        ::execvp(raw[0], raw.data());
        ::_exit(127);
    }
    ::close(pipeFds[1]);
    ToolResult result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<char, 4096> chunk{};
    bool timedOut = false;
    while (true) {
        pollfd fd{pipeFds[0], POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timedOut = true;
            break;
        }
        if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
        const auto n = ::read(pipeFds[0], chunk.data(), chunk.size());
        if (n <= 0) break;
        result.output.append(chunk.data(), static_cast<std::size_t>(n));
    }
    if (timedOut) ::kill(pid, SIGKILL);
    ::close(pipeFds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exitCode = (!timedOut && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    return result;
}

ToolResult echoscu(std::uint16_t port, const std::string& calledAe, const std::string& callingAe) {
    return runTool("echoscu", {"-aet", callingAe, "-aec", calledAe, "-to", "10", "127.0.0.1", std::to_string(port)});
}

std::vector<std::string> proposalFlags(const std::string& transferSyntaxUid) {
    static const std::map<std::string, std::string> kFlags = {
        {"1.2.840.10008.1.2.1.99", "-xd"}, {"1.2.840.10008.1.2.4.50", "-xy"}, {"1.2.840.10008.1.2.4.51", "-xx"},
        {"1.2.840.10008.1.2.4.70", "-xs"}, {"1.2.840.10008.1.2.4.80", "-xt"}, {"1.2.840.10008.1.2.4.81", "-xu"},
        {"1.2.840.10008.1.2.4.90", "-xv"}, {"1.2.840.10008.1.2.4.91", "-xw"}, {"1.2.840.10008.1.2.5", "-xr"},
    };
    const auto it = kFlags.find(transferSyntaxUid);
    if (it == kFlags.end()) return {};
    return {it->second};
}

ToolResult storescu(std::uint16_t port, const std::vector<std::filesystem::path>& files,
                    const std::vector<std::string>& extraArguments, const std::string& calledAe,
                    const std::string& callingAe) {
    std::vector<std::string> arguments = {"-aet", callingAe, "-aec", calledAe, "-to", "30", "-R"};
    arguments.insert(arguments.end(), extraArguments.begin(), extraArguments.end());
    arguments.push_back("127.0.0.1");
    arguments.push_back(std::to_string(port));
    for (const auto& file : files) arguments.push_back(file.string());
    return runTool("storescu", arguments);
}

}  // namespace tessera::test
