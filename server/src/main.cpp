// tessera-server: parses the command line, runs the Application until SIGINT or SIGTERM.
#include <csignal>
#include <iostream>


#include "tessera/core/version.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/application.hpp"
#include "tessera/server/command_line.hpp"

namespace {

std::filesystem::path executablePath(const char* argv0) {
    std::error_code error;
    auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::absolute(argv0) : self;
}

// Blocks the termination signals in every thread (call before any thread starts), then waits.
sigset_t terminationSignals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    return signals;
}

}  // namespace

// Read by jemalloc (linked in when installed, server/CMakeLists.txt) at its first allocation;
// ignored by glibc. Its default of 4 arenas per core spread the index task's five threads over
// 8 arenas on 2 cores: +40-60 MB peak RSS and twice the page faults at 10,000 files for no CPU
// gained. One arena per CPU (the thread's current one) measured the same as 2 fixed arenas here
// (docs/benchmarks.md) and still scales with the machine. MALLOC_CONF in the environment still
// overrides it.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "percpu_arena:percpu";
}

int main(int argc, char* argv[]) {
    using namespace tessera;
    server::CommandLine commandLine;
    try {
        commandLine = server::parseCommandLine(argc, argv);
    } catch (const sdk::Error& e) {
        std::cerr << "tessera-server: " << e.what() << "\n\n" << server::commandLineUsage();
        return 2;
    }
    if (commandLine.showHelp) {
        std::cout << server::commandLineUsage();
        return 0;
    }
    if (commandLine.showVersion) {
        std::cout << "tessera-server " << core::tesseraVersion() << " (Dicoogle API " << core::dicoogleApiVersion() << ")\n";
        return 0;
    }

    auto signals = terminationSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    try {
        server::ApplicationOptions options;
        options.commandLine = commandLine;
        options.builtinPluginDir = server::builtinPluginDirFor(executablePath(argv[0]));
        server::Application application(std::move(options));
        application.start();
        std::cout << application.listeningLine() << std::endl;
        int received = 0;
        sigwait(&signals, &received);
        application.stop();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "tessera-server: cannot start: " << e.what() << std::endl;
        return 1;
    }
}
