#pragma once
// The Tessera server: settings, accounts, plugins, routes and the HTTP listener, wired together.
// main() is a thin shell around it; tests run it in process too.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tessera/server/command_line.hpp"

namespace tessera::server {

class Router;

struct ApplicationOptions {
    CommandLine commandLine;
    /// Where the in-tree plugins are (<exe>/../lib/tessera/plugins); empty = none.
    std::filesystem::path builtinPluginDir;
    bool logToConsole = true;
};

class Application {
public:
    /// Opens (creating on first start) the data directory, configuration and user store, and
    /// loads plugins. Throws sdk::Error for a start-up failure (bad configuration, no DICOM
    /// dictionary): those are the only fatal errors.
    explicit Application(ApplicationOptions options);
    ~Application();
    Application(const Application&) = delete;
    Application& operator=(const Application&) = delete;

    /// Starts the listeners. Throws sdk::Error(Unavailable) when a port cannot be bound.
    void start();
    /// Stops the listeners and shuts the plugins down (reverse load order). Idempotent.
    void stop();

    /// "tessera-server listening http=127.0.0.1:8080 storage=0.0.0.0:6666 query=0.0.0.0:1045" —
    /// the one line scripts read for ports; a DICOM service that is not running is left out.
    std::string listeningLine() const;
    std::uint16_t httpPort() const;
    const Router& router() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The in-tree plugin directory relative to a running executable: <exe dir>/../lib/tessera/plugins.
std::filesystem::path builtinPluginDirFor(const std::filesystem::path& executable);

}  // namespace tessera::server
