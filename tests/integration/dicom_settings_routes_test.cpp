// DICOM service control and settings over REST against the real server: Dicoogle 3's shapes,
// every change saved in server.xml and applied at once (checked with echoscu), bad input.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "dcmtk_tools.hpp"
#include "json_helpers.hpp"
#include "server_process.hpp"

namespace fs = std::filesystem;
using tessera::test::echoscu;
using tessera::test::HttpResult;
using tessera::test::makeTempDir;
using tessera::test::parseArray;
using tessera::test::parseObject;
using tessera::test::ServerProcess;

namespace {

std::string readFile(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A port nobody listens on right now (bound and released: good enough for a test).
std::uint16_t freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

class Admin {
public:
    explicit Admin(ServerProcess& server) : server_(server), token_(server.login()) {}
    HttpResult get(const std::string& path) { return server_.request("GET", path, token_); }
    HttpResult post(const std::string& path) { return server_.request("POST", path, token_); }
    HttpResult put(const std::string& path) { return server_.request("PUT", path, token_); }

private:
    ServerProcess& server_;
    std::string token_;
};

}  // namespace

TEST_CASE("GET /management/dicom/storage and /query report the running SCPs, query stops and starts at once",
          "[dicom][settings]") {
    ServerProcess server;
    Admin admin(server);
    auto status = admin.get("/management/dicom/storage");
    REQUIRE(status.status == 200);
    auto body = parseObject(status.body);
    CHECK(body->getValue<bool>("isRunning"));
    CHECK(body->getValue<int>("port") == server.storagePort());
    CHECK(body->getValue<bool>("autostart"));
    CHECK_FALSE(body->has("hostname"));

    auto query = admin.get("/management/dicom/query");
    REQUIRE(query.status == 200);
    auto queryBody = parseObject(query.body);
    CHECK(queryBody->getValue<bool>("isRunning"));
    CHECK(queryBody->getValue<int>("port") == server.queryPort());
    CHECK(echoscu(server.queryPort()).ok());
    CHECK(admin.post("/management/dicom/query?running=false").status == 200);
    CHECK_FALSE(parseObject(admin.get("/management/dicom/query").body)->getValue<bool>("isRunning"));
    CHECK_FALSE(echoscu(server.queryPort()).ok());
    CHECK(admin.post("/management/dicom/query?running=true").status == 200);
    CHECK(parseObject(admin.get("/management/dicom/query").body)->getValue<bool>("isRunning"));

    // Admin only.
    CHECK(server.request("GET", "/management/dicom/storage").status == 401);
}

TEST_CASE("POST /management/dicom/storage stops, starts, moves the SCP, saved in server.xml", "[dicom][settings]") {
    ServerProcess server;
    Admin admin(server);
    const auto firstPort = server.storagePort();
    REQUIRE(echoscu(firstPort).ok());

    auto stopped = admin.post("/management/dicom/storage?running=false");
    REQUIRE(stopped.status == 200);
    CHECK(parseObject(stopped.body)->getValue<bool>("success"));
    CHECK_FALSE(parseObject(stopped.body)->getValue<bool>("running"));
    CHECK_FALSE(echoscu(firstPort).ok());
    CHECK_FALSE(parseObject(admin.get("/management/dicom/storage").body)->getValue<bool>("isRunning"));

    auto started = admin.post("/management/dicom/storage?running=true");
    REQUIRE(started.status == 200);
    CHECK(parseObject(started.body)->getValue<bool>("running"));
    const auto secondPort =
        static_cast<std::uint16_t>(parseObject(admin.get("/management/dicom/storage").body)->getValue<int>("port"));
    CHECK(echoscu(secondPort).ok());

    auto again = admin.post("/management/dicom/storage?running=true");
    REQUIRE(again.status == 200);
    CHECK(parseObject(again.body)->getValue<std::string>("warning") == "Service was already running");
    CHECK(again.headers.count("warning") == 1);

    // A new port while running: applied at once, saved, and it replaces --storage-port 0.
    const auto port = freePort();
    auto moved = admin.post("/management/dicom/storage?port=" + std::to_string(port) +
                            "&autostart=false&hostname=%20127.0.0.1%20");
    REQUIRE(moved.status == 200);
    auto echoed = parseObject(moved.body);
    CHECK(echoed->getValue<int>("port") == port);
    CHECK_FALSE(echoed->getValue<bool>("autostart"));
    CHECK(echoed->getValue<std::string>("hostname") == "127.0.0.1");
    CHECK(echoscu(port).ok());
    auto status = parseObject(admin.get("/management/dicom/storage").body);
    CHECK(status->getValue<int>("port") == port);
    CHECK(status->getValue<std::string>("hostname") == "127.0.0.1");
    const auto xml = readFile(server.dataDir() / "server.xml");
    CHECK(xml.find("port=\"" + std::to_string(port) + "\"") != std::string::npos);
    CHECK(xml.find("hostname=\"127.0.0.1\"") != std::string::npos);

    // An empty hostname unsets it.
    REQUIRE(admin.post("/management/dicom/storage?hostname=").status == 200);
    CHECK_FALSE(parseObject(admin.get("/management/dicom/storage").body)->has("hostname"));
    CHECK(echoscu(port).ok());

    // Bad ports change nothing.
    for (const char* bad : {"0", "65536", "-1", "abc", ""}) {
        auto refused = admin.post(std::string("/management/dicom/storage?port=") + bad);
        INFO(bad);
        CHECK(refused.status == 400);
        CHECK(parseObject(refused.body)->getValue<std::string>("error") ==
              "Bad service port: must be a valid port number");
        CHECK_FALSE(parseObject(refused.body)->getValue<bool>("success"));
    }
    CHECK(echoscu(port).ok());
}

TEST_CASE("autostart=false in server.xml: the storage SCP is not started and not in the listening line",
          "[dicom][settings]") {
    const auto dir = makeTempDir("tessera-dsettings-it");
    std::ofstream(dir / "server.xml")
        << "<config><dicom-services><storage autostart=\"false\"/></dicom-services></config>\n";
    {
        ServerProcess server({}, dir);
        CHECK(server.storagePort() == 0);
        Admin admin(server);
        CHECK_FALSE(parseObject(admin.get("/management/dicom/storage").body)->getValue<bool>("isRunning"));
        // --storage-port 0 still applies when it is started by hand.
        REQUIRE(admin.post("/management/dicom/storage?running=true").status == 200);
        const auto port = parseObject(admin.get("/management/dicom/storage").body)->getValue<int>("port");
        CHECK(port != 6666);
        CHECK(echoscu(static_cast<std::uint16_t>(port)).ok());
    }
    fs::remove_all(dir);
}

TEST_CASE("PUT /management/settings/dicom changes the AE title, saved and applied", "[dicom][settings]") {
    const auto dir = makeTempDir("tessera-dsettings-it");
    {
        ServerProcess server({}, dir);
        Admin admin(server);
        CHECK(parseObject(admin.get("/management/settings/dicom").body)->getValue<std::string>("aetitle") ==
              "DICOOGLE-STORAGE");
        auto changed = admin.put("/management/settings/dicom?aetitle=TESSERA-AE");
        REQUIRE(changed.status == 200);
        CHECK(parseObject(changed.body)->getValue<bool>("success"));
        CHECK(parseObject(admin.get("/management/settings/dicom").body)->getValue<std::string>("aetitle") ==
              "TESSERA-AE");
        const auto port =
            static_cast<std::uint16_t>(parseObject(admin.get("/management/dicom/storage").body)->getValue<int>("port"));
        CHECK(echoscu(port, "TESSERA-AE").ok());
        CHECK_FALSE(echoscu(port, "DICOOGLE-STORAGE").ok());

        CHECK(admin.put("/management/settings/dicom").status == 402);
        CHECK(admin.put("/management/settings/dicom?aetitle=").status == 402);
        CHECK(admin.put("/management/settings/dicom?aetitle=MUCH-TOO-LONG-FOR-AN-AE-TITLE").status == 400);
        CHECK(admin.post("/management/settings/dicom?aetitle=X").status == 405);
    }
    {
        ServerProcess server({}, dir);  // saved: survives a restart
        Admin admin(server);
        CHECK(parseObject(admin.get("/management/settings/dicom").body)->getValue<std::string>("aetitle") ==
              "TESSERA-AE");
        CHECK(echoscu(server.storagePort(), "TESSERA-AE").ok());
    }
    fs::remove_all(dir);
}

TEST_CASE("GET/POST /management/settings/dicom/query: Dicoogle's keys, saved", "[dicom][settings]") {
    const auto dir = makeTempDir("tessera-dsettings-it");
    {
        ServerProcess server({}, dir);
        Admin admin(server);
        auto settings = parseObject(admin.get("/management/settings/dicom/query").body);
        CHECK(settings->getValue<int>("responseTimeout") == 0);
        CHECK(settings->getValue<int>("connectionTimeout") == 60);
        CHECK(settings->getValue<int>("idleTimeout") == 60);
        CHECK(settings->getValue<int>("acceptTimeout") == 60);
        CHECK(settings->getValue<int>("maxPduSend") == 16364);
        CHECK(settings->getValue<int>("maxPduReceive") == 16364);
        CHECK(settings->getValue<int>("maxAssociations") == 20);

        auto changed = admin.post("/management/settings/dicom/query?responseTimeout=5&maxAssociations=7&idleTimeout=");
        CHECK(changed.status == 200);
        CHECK(changed.body.empty());
        CHECK(admin.post("/management/settings/dicom/query?maxPduSend=lots").status == 400);
        CHECK(admin.post("/management/settings/dicom/query?maxAssociations=0").status == 400);
    }
    {
        ServerProcess server({}, dir);
        Admin admin(server);
        auto settings = parseObject(admin.get("/management/settings/dicom/query").body);
        CHECK(settings->getValue<int>("responseTimeout") == 5);
        CHECK(settings->getValue<int>("maxAssociations") == 7);
        CHECK(settings->getValue<int>("idleTimeout") == 60);
        CHECK(settings->getValue<int>("maxPduSend") == 16364);
        CHECK(readFile(dir / "server.xml").find("<rsp-delay>5</rsp-delay>") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("GET/POST/PUT /management/settings/transfer: Dicoogle's shape, saved, bad input", "[dicom][settings]") {
    const auto dir = makeTempDir("tessera-dsettings-it");
    const std::string ct = "1.2.840.10008.5.1.4.1.1.2";
    {
        ServerProcess server({}, dir);
        Admin admin(server);
        auto response = admin.get("/management/settings/transfer");
        REQUIRE(response.status == 200);
        auto list = parseArray(response.body);
        REQUIRE(list->size() > 80);
        Poco::JSON::Object::Ptr ctEntry;
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto entry = list->getObject(static_cast<unsigned>(i));
            if (entry->getValue<std::string>("uid") == ct) ctEntry = entry;
        }
        REQUIRE(ctEntry);
        CHECK(ctEntry->getValue<std::string>("sop_name") == "CTImageStorage");
        auto options = ctEntry->getArray("options");
        REQUIRE(options->size() == 14);
        CHECK(options->getObject(0)->getValue<std::string>("name") == "ImplicitVRLittleEndian");
        CHECK(options->getObject(0)->getValue<std::string>("uid") == "1.2.840.10008.1.2");
        CHECK(options->getObject(8)->getValue<std::string>("name") == "JPEGBaseline1");
        CHECK(options->getObject(8)->getValue<bool>("value"));

        auto off = admin.post("/management/settings/transfer?uid=" + ct + "&option=JPEGBaseline1&value=false");
        REQUIRE(off.status == 200);
        CHECK(parseObject(off.body)->getValue<bool>("success"));
        CHECK(admin.put("/management/settings/transfer?uid=" + ct + "&option=RLELossless&value=false").status == 200);

        CHECK(admin.post("/management/settings/transfer?option=JPEGBaseline1&value=false").status == 400);
        auto missing = admin.post("/management/settings/transfer?uid=" + ct + "&value=false");
        CHECK(missing.status == 400);
        CHECK(parseObject(missing.body)->getValue<std::string>("error") ==
              "No query option Supplied: Please provide the field \"option\"");
        CHECK(admin.post("/management/settings/transfer?uid=" + ct + "&option=RLELossless").status == 400);
        // Unknown class or option: Dicoogle's success, and nothing changes.
        CHECK(admin.post("/management/settings/transfer?uid=1.2.3&option=JPEGBaseline1&value=false").status == 200);
        CHECK(admin.post("/management/settings/transfer?uid=" + ct + "&option=Nope&value=false").status == 200);
    }
    {
        ServerProcess server({}, dir);
        Admin admin(server);
        auto list = parseArray(admin.get("/management/settings/transfer").body);
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto entry = list->getObject(static_cast<unsigned>(i));
            if (entry->getValue<std::string>("uid") != ct) continue;
            auto options = entry->getArray("options");
            for (std::size_t j = 0; j < options->size(); ++j) {
                auto option = options->getObject(static_cast<unsigned>(j));
                const auto name = option->getValue<std::string>("name");
                INFO(name);
                CHECK(option->getValue<bool>("value") == (name != "JPEGBaseline1" && name != "RLELossless"));
            }
        }
    }
    fs::remove_all(dir);
}
