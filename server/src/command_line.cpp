#include "tessera/server/command_line.hpp"

#include <charconv>
#include <string_view>

#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

using sdk::Error;
using sdk::ErrorCode;

[[noreturn]] void fail(const std::string& message) {
    throw Error(ErrorCode::InvalidArgument, message + " (see --help)");
}

int parsePort(std::string_view flag, std::string_view text) {
    int port = -1;
    const bool digitsOnly = !text.empty() && text.size() <= 5 &&
                            text.find_first_not_of("0123456789") == std::string_view::npos;
    if (digitsOnly) std::from_chars(text.data(), text.data() + text.size(), port);
    if (!digitsOnly || port < 0 || port > 65535) {
        fail(std::string(flag) + ": '" + std::string(text) + "' is not a port number (0-65535, 0 = any free port)");
    }
    return port;
}

}  // namespace

CommandLine parseCommandLine(int argc, const char* const argv[]) {
    CommandLine result;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i] ? argv[i] : "";
        std::string_view flag = arg;
        std::optional<std::string_view> inlineValue;
        if (arg.starts_with("--")) {
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                flag = arg.substr(0, eq);
                inlineValue = arg.substr(eq + 1);
            }
        }

        if (flag == "--help" || flag == "-h" || flag == "--version") {
            if (inlineValue) fail(std::string(flag) + " takes no value");
            (flag == "--version" ? result.showVersion : result.showHelp) = true;
            continue;
        }

        const bool takesValue = flag == "--config" || flag == "--data-dir" || flag == "--http-port" ||
                                flag == "--storage-port" || flag == "--query-port" || flag == "--plugin-dir";
        if (!takesValue) {
            if (arg.starts_with("-")) fail("unknown option '" + std::string(flag) + "'");
            fail("unexpected argument '" + std::string(arg) + "'");
        }

        std::string_view value;
        if (inlineValue) {
            value = *inlineValue;
        } else {
            // The next word is the value unless it is another flag: "--config --data-dir x" is a
            // forgotten value, not a file named "--data-dir".
            if (i + 1 >= argc || !argv[i + 1] || std::string_view(argv[i + 1]).starts_with("--")) {
                fail(std::string(flag) + " needs a value");
            }
            value = argv[++i];
        }
        if (value.empty()) fail(std::string(flag) + " needs a value");

        if (flag == "--config") {
            result.configFile = std::filesystem::path(value);
        } else if (flag == "--data-dir") {
            result.dataDir = std::filesystem::path(value);
        } else if (flag == "--plugin-dir") {
            result.pluginDirs.emplace_back(value);
        } else if (flag == "--http-port") {
            result.httpPort = parsePort(flag, value);
        } else if (flag == "--storage-port") {
            result.storagePort = parsePort(flag, value);
        } else {
            result.queryPort = parsePort(flag, value);
        }
    }
    return result;
}

std::string commandLineUsage() {
    return "Usage: tessera-server [options]\n"
           "\n"
           "Tessera PACS archive: the Dicoogle 3 REST API and DICOM services.\n"
           "Options override the configuration file. Each takes \"--flag value\" or \"--flag=value\".\n"
           "\n"
           "  --config FILE        configuration file (Dicoogle server.xml layout); created with\n"
           "                       every default when missing\n"
           "  --data-dir DIR       directory for the configuration, users, indexes and storage\n"
           "  --http-port N        HTTP (REST API) port, 0-65535; 0 picks a free port\n"
           "  --storage-port N     DICOM storage (C-STORE) port, 0-65535; 0 picks a free port\n"
           "  --query-port N       DICOM query/retrieve (C-FIND/C-MOVE/C-GET) port, 0-65535;\n"
           "                       0 picks a free port\n"
           "  --plugin-dir DIR     also load plugins from DIR; repeat for more directories\n"
           "  --version            print the version and exit\n"
           "  -h, --help           print this help and exit\n";
}

}  // namespace tessera::server
