// The binary as operators and scripts see it: flags, the listening line, the data directory,
// error answers, and the small public endpoints.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

using tessera::test::parseObject;
using tessera::test::ServerProcess;

namespace {

struct CommandOutput {
    int exitCode;
    std::string output;
};

CommandOutput runServerCommand(const std::string& args) {
    const std::string command = std::string(TESSERA_SERVER_BINARY) + " " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::string output;
    char buffer[4096];
    while (auto n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string readFile(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("the flags --version and --help answer and exit 0, a bad flag exits 2 with the usage", "[cli]") {
    auto version = runServerCommand("--version");
    CHECK(version.exitCode == 0);
    CHECK(version.output.find("tessera-server 0.") != std::string::npos);

    auto help = runServerCommand("--help");
    CHECK(help.exitCode == 0);
    for (const char* flag : {"--config", "--data-dir", "--http-port", "--storage-port", "--query-port", "--plugin-dir"})
        CHECK(help.output.find(flag) != std::string::npos);

    auto bad = runServerCommand("--no-such-flag");
    CHECK(bad.exitCode == 2);
    CHECK(bad.output.find("--no-such-flag") != std::string::npos);
    CHECK(runServerCommand("--http-port 70000").exitCode == 2);
}

TEST_CASE("first start creates the data directory with configuration, users and log", "[cli]") {
    ServerProcess server;
    CHECK(server.httpPort() != 0);
    CHECK(std::filesystem::exists(server.dataDir() / "server.xml"));
    CHECK(std::filesystem::exists(server.dataDir() / "users.db"));
    CHECK(std::filesystem::exists(server.dataDir() / "logs" / "tessera.log"));
    const auto config = readFile(server.dataDir() / "server.xml");
    for (const char* section : {"<config", "web-server", "archive", "dicom-services", "DICOOGLE-STORAGE"})
        CHECK(config.find(section) != std::string::npos);
    CHECK(server.log().find("REST API listening on 127.0.0.1:") != std::string::npos);
}

TEST_CASE("the flag --config names the configuration file and flags override it", "[cli]") {
    auto dir = tessera::test::makeTempDir("tessera-config");
    const auto configFile = dir / "elsewhere.xml";
    {
        std::ofstream out(configFile);
        out << "<config><web-server port=\"1\" autostart=\"true\"/></config>\n";
    }
    {
        // The file says port 1 (privileged, would fail); --http-port 0 (set by ServerProcess) wins.
        ServerProcess server({"--config", configFile.string()});
        CHECK(server.request("GET", "/health").status == 200);
        CHECK_FALSE(std::filesystem::exists(server.dataDir() / "server.xml"));
        // Missing defaults were added to the named file.
        CHECK(readFile(configFile).find("dicom-services") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("unknown routes, wrong methods, malformed parameters and big bodies get JSON errors", "[http]") {
    ServerProcess server;
    const auto token = server.login();

    auto unknown = server.request("GET", "/no/such/thing", token);
    CHECK(unknown.status == 404);
    CHECK(parseObject(unknown.body)->has("error"));

    auto wrongMethod = server.request("PATCH", "/login");
    CHECK(wrongMethod.status == 405);
    CHECK(parseObject(wrongMethod.body)->has("error"));

    auto malformed = server.request("GET", "/providers?type=%zz", token);
    CHECK(malformed.status == 400);
    CHECK(parseObject(malformed.body)->has("error"));

    const std::string huge(4 * 1024 * 1024, 'a');
    auto tooBig = server.request("POST", "/login", {}, "username=" + huge);
    CHECK(tooBig.status == 413);

    // Still serving after all of that.
    CHECK(server.request("GET", "/health").status == 200);
}

TEST_CASE("health and version are public, logger is admin-only plain text", "[http]") {
    ServerProcess server;
    auto health = server.request("GET", "/health");
    REQUIRE(health.status == 200);
    auto healthBody = parseObject(health.body);
    CHECK(healthBody->getValue<std::string>("status") == "ok");
    CHECK(healthBody->has("uptimeSeconds"));

    auto version = server.request("GET", "/ext/version");
    REQUIRE(version.status == 200);
    CHECK(parseObject(version.body)->getValue<std::string>("version").rfind("3.", 0) == 0);

    CHECK(server.request("GET", "/logger").status == 401);
    const auto token = server.login();
    auto log = server.request("GET", "/logger", token);
    REQUIRE(log.status == 200);
    CHECK(log.contentType.rfind("text/plain", 0) == 0);
    CHECK(log.body.find("REST API listening") != std::string::npos);
    CHECK(log.body.find("logged in") != std::string::npos);
}

TEST_CASE("REST open beyond loopback with the default password logs a warning at start", "[security]") {
    auto dataDir = tessera::test::makeTempDir("tessera-open");
    {
        std::ofstream out(dataDir / "server.xml");
        out << "<config><web-server hostname=\"0.0.0.0\" port=\"8080\"/></config>\n";
    }
    {
        ServerProcess server({}, dataDir);
        CHECK(server.log().find("default password") != std::string::npos);
        // Changing the situation (a loopback-only server) removes the warning: see the other tests'
        // logs, which never contain it.
    }
    {
        ServerProcess loopback;
        CHECK(loopback.log().find("default password") == std::string::npos);
    }
    std::filesystem::remove_all(dataDir);
}

TEST_CASE("SIGTERM stops the server cleanly with exit code 0", "[cli]") {
    ServerProcess server;
    CHECK(server.stop() == 0);
    CHECK(server.log().find("Tessera stopped") != std::string::npos);
}
