#pragma once
// tessera-server's command line. Flags override the configuration file; everything else lives
// in the file.
//
// Thread-safety: pure functions.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tessera::server {

struct CommandLine {
    std::optional<std::filesystem::path> configFile;      // --config FILE
    std::optional<std::filesystem::path> dataDir;         // --data-dir DIR
    std::optional<int> httpPort, storagePort, queryPort;  // 0..65535, 0 = pick a free port
    std::vector<std::filesystem::path> pluginDirs;        // --plugin-dir DIR (repeatable)
    bool showVersion = false, showHelp = false;
};

/// Accepts "--flag value" and "--flag=value" (and -h for --help). argv[0] is the program name.
/// A value flag given twice keeps the last value, so a wrapper script can append overrides;
/// --plugin-dir accumulates in order. Throws sdk::Error(InvalidArgument) with a clear message for
/// an unknown flag or stray argument, a missing or empty value, a value on --help/--version, or
/// a bad port.
CommandLine parseCommandLine(int argc, const char* const argv[]);

/// The --help text, listing every flag.
std::string commandLineUsage();

}  // namespace tessera::server
