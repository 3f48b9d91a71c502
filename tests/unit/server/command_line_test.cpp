#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/server/command_line.hpp"

using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::server::CommandLine;
using tessera::server::commandLineUsage;
using tessera::server::parseCommandLine;

namespace {

CommandLine parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"tessera-server"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);  // as the real argv is terminated
    return parseCommandLine(static_cast<int>(argv.size() - 1), argv.data());
}

std::string errorOf(std::initializer_list<const char*> args) {
    try {
        parse(args);
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgument);
        return e.what();
    }
    FAIL("expected an error");
    return {};
}

}  // namespace

TEST_CASE("CommandLine: no arguments means nothing overridden", "[cli]") {
    const auto cli = parse({});
    CHECK_FALSE(cli.configFile);
    CHECK_FALSE(cli.dataDir);
    CHECK_FALSE(cli.httpPort);
    CHECK_FALSE(cli.storagePort);
    CHECK_FALSE(cli.queryPort);
    CHECK(cli.pluginDirs.empty());
    CHECK_FALSE(cli.showHelp);
    CHECK_FALSE(cli.showVersion);

    const char* const onlyName[] = {"tessera-server", nullptr};
    CHECK_FALSE(parseCommandLine(1, onlyName).showHelp);
    CHECK_FALSE(parseCommandLine(0, onlyName).showHelp);
}

TEST_CASE("CommandLine: every flag as --flag value", "[cli]") {
    const auto cli = parse({"--config", "/etc/tessera/server.xml", "--data-dir", "/var/lib/tessera", "--http-port",
                            "8080", "--storage-port", "6666", "--query-port", "1045", "--plugin-dir", "/opt/p1"});
    CHECK(cli.configFile == std::filesystem::path("/etc/tessera/server.xml"));
    CHECK(cli.dataDir == std::filesystem::path("/var/lib/tessera"));
    CHECK(cli.httpPort == 8080);
    CHECK(cli.storagePort == 6666);
    CHECK(cli.queryPort == 1045);
    CHECK(cli.pluginDirs == std::vector<std::filesystem::path>{"/opt/p1"});
}

TEST_CASE("CommandLine: every flag as --flag=value", "[cli]") {
    const auto cli = parse({"--config=conf/server.xml", "--data-dir=./var", "--http-port=0", "--storage-port=65535",
                            "--query-port=1", "--plugin-dir=plugins", "--version", "--help"});
    CHECK(cli.configFile == std::filesystem::path("conf/server.xml"));
    CHECK(cli.dataDir == std::filesystem::path("./var"));
    CHECK(cli.httpPort == 0);  // 0 = pick a free port
    CHECK(cli.storagePort == 65535);
    CHECK(cli.queryPort == 1);
    CHECK(cli.pluginDirs == std::vector<std::filesystem::path>{"plugins"});
    CHECK(cli.showVersion);
    CHECK(cli.showHelp);
}

TEST_CASE("CommandLine: values that look odd but are fine", "[cli]") {
    const auto cli = parse({"--config=a=b.xml", "--data-dir", "dir with spaces", "--plugin-dir", "-dash-dir"});
    CHECK(cli.configFile == std::filesystem::path("a=b.xml"));  // only the first '=' splits
    CHECK(cli.dataDir == std::filesystem::path("dir with spaces"));
    CHECK(cli.pluginDirs == std::vector<std::filesystem::path>{"-dash-dir"});
}

TEST_CASE("CommandLine: repeats", "[cli]") {
    const auto cli = parse({"--plugin-dir", "a", "--plugin-dir=b", "--plugin-dir", "c", "--http-port", "1",
                            "--http-port=2", "--config", "x.xml", "--config", "y.xml", "--help", "--help"});
    CHECK(cli.pluginDirs == std::vector<std::filesystem::path>{"a", "b", "c"});  // in order
    CHECK(cli.httpPort == 2);                                                    // last one wins
    CHECK(cli.configFile == std::filesystem::path("y.xml"));
    CHECK(cli.showHelp);
}

TEST_CASE("CommandLine: --help and --version", "[cli]") {
    CHECK(parse({"--help"}).showHelp);
    CHECK(parse({"-h"}).showHelp);
    CHECK_FALSE(parse({"--help"}).showVersion);
    CHECK(parse({"--version"}).showVersion);
    CHECK_FALSE(parse({"--version"}).showHelp);
    CHECK(errorOf({"--help=yes"}).find("--help") != std::string::npos);
    CHECK(errorOf({"--version=1"}).find("--version") != std::string::npos);

    const std::string usage = commandLineUsage();
    for (const char* flag : {"--config", "--data-dir", "--http-port", "--storage-port", "--query-port", "--plugin-dir",
                             "--version", "--help"}) {
        INFO(flag);
        CHECK(usage.find(flag) != std::string::npos);
    }
}

TEST_CASE("CommandLine: bad ports", "[cli]") {
    for (const char* value : {"65536", "-1", "abc", "80a", "", " 80", "80 ", "+80", "0x50", "99999999999", "1e3", "8.0"}) {
        INFO("port: '" << value << "'");
        const std::string equals = std::string("--http-port=") + value;
        const std::string message = errorOf({equals.c_str()});
        CHECK(message.find("--http-port") != std::string::npos);
    }
    CHECK(errorOf({"--storage-port", "70000"}).find("70000") != std::string::npos);
    CHECK(errorOf({"--query-port", "-5"}).find("--query-port") != std::string::npos);
}

TEST_CASE("CommandLine: unknown flags and stray arguments", "[cli]") {
    CHECK(errorOf({"--port", "80"}).find("--port") != std::string::npos);
    CHECK(errorOf({"--http-port", "80", "--verbose"}).find("--verbose") != std::string::npos);
    CHECK(errorOf({"--unknown=value"}).find("--unknown") != std::string::npos);
    CHECK(errorOf({"-c", "x"}).find("-c") != std::string::npos);
    CHECK(errorOf({"--"}).find("--") != std::string::npos);
    CHECK(errorOf({"server.xml"}).find("server.xml") != std::string::npos);
    CHECK(errorOf({"--CONFIG", "x"}).find("--CONFIG") != std::string::npos);  // flags are case-sensitive
}

TEST_CASE("CommandLine: missing values", "[cli]") {
    for (const char* flag : {"--config", "--data-dir", "--http-port", "--storage-port", "--query-port", "--plugin-dir"}) {
        INFO(flag);
        CHECK(errorOf({flag}).find("needs a value") != std::string::npos);
        const std::string empty = std::string(flag) + "=";
        CHECK(errorOf({empty.c_str()}).find("needs a value") != std::string::npos);
        CHECK(errorOf({flag, "--help"}).find(flag) != std::string::npos);  // the next flag is not a value
    }
    CHECK(errorOf({"--config", ""}).find("needs a value") != std::string::npos);
}
