// Indexer settings and the watch folder through the real server: /management/settings/index and
// its children (shapes, text/plain values, partial POST, bad values, persistence across a
// restart), then the watch folder switched on, fed, emptied, switched off and moved over REST,
// with the built-in `file` storage serving a temp root and the built-in `xapian` indexer.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

namespace fs = std::filesystem;
using tessera::test::makeTempDir;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;
using namespace std::chrono_literals;

namespace {

const fs::path kSamples = fs::canonical(TESSERA_SAMPLES_DIR);

// A data directory (and a folder tree the `file` plugin serves as an extra root), removed at
// the end; the server can be restarted on the same data.
class WatchServer {
public:
    WatchServer() : dataDir_(makeTempDir("tessera-watch-it")), served_(fs::canonical(makeTempDir("tessera-watch-root"))) {
        std::ofstream(dataDir_ / "server.xml") << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                               << "<config><plugins><plugin name=\"file\"><setting key=\"roots\">"
                                               << served_.string() << "</setting></plugin></plugins></config>\n";
        start();
    }
    ~WatchServer() {
        server_.reset();
        std::error_code ec;
        fs::remove_all(dataDir_, ec);
        fs::remove(dataDir_.parent_path() / (dataDir_.filename().string() + ".stderr"), ec);
        fs::remove_all(served_, ec);
    }

    void start() {
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{}, dataDir_);
        token_ = server_->login();
    }
    void restart() {
        REQUIRE(server_->stop() == 0);
        server_.reset();
        start();
    }

    const fs::path& served() const { return served_; }
    ServerProcess& server() { return *server_; }
    tessera::test::HttpResult get(const std::string& pathAndQuery) {
        return server_->request("GET", pathAndQuery, token_);
    }
    tessera::test::HttpResult post(const std::string& pathAndQuery, const std::string& form = {}) {
        return server_->request("POST", pathAndQuery, token_, form);
    }

    // numResults of a search (all providers' total).
    int count(const std::string& query) {
        auto response = get("/search?query=" + urlEncode(query) + "&keyword=true&psize=1");
        REQUIRE(response.status == 200);
        return parseObject(response.body)->getValue<int>("numResults");
    }
    // Polls a search until it counts `expected` (the watcher works in the background).
    bool countReaches(const std::string& query, int expected, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (count(query) != expected) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(100ms);
        }
        return true;
    }

private:
    fs::path dataDir_;
    fs::path served_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

bool isText(const tessera::test::HttpResult& response) { return response.contentType.rfind("text/plain", 0) == 0; }

// 1,000 synthetic files from the shared generator, made once per build tree (about 35 s of CPU)
// and reused by later runs.
fs::path syntheticCorpus1000() {
    const fs::path cache = fs::path(TESSERA_TEST_CACHE_DIR) / "synthetic-1000";
    if (fs::exists(cache / "MANIFEST.tsv")) return cache;
    const fs::path scratch = fs::path(TESSERA_TEST_CACHE_DIR) / ("synthetic-1000.tmp" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(scratch, ec);
    fs::create_directories(scratch.parent_path());
    const std::string command = "JOBS=2 '" + std::string(TESSERA_SYNTHETIC_CORPUS_TOOL) + "' 1000 '" +
                                scratch.string() + "' > /dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    fs::rename(scratch, cache, ec);  // another run may have won the race: then use its copy
    if (ec) fs::remove_all(scratch, ec);
    REQUIRE(fs::exists(cache / "MANIFEST.tsv"));
    return cache;
}

const std::string kCtSmall = "images/CT_small.dcm";
const std::string kCtSmallUid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";

}  // namespace

TEST_CASE("indexer settings: shapes, text values, partial POST, bad values, saved", "[settings][index]") {
    WatchServer it;

    auto all = it.get("/management/settings/index");
    REQUIRE(all.status == 200);
    CHECK(all.contentType.rfind("application/json", 0) == 0);
    CHECK(all.body == R"({"path":"","zip":false,"effort":"100","thumbnail":false,"thumbnailSize":"64","watcher":false})");

    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"path", ""},          {"effort", "100"},        {"thumbnail", "false"}, {"thumbnail/size", "64"},
        {"thumbnailSize", "64"}, {"watcher", "false"}, {"zip", "false"}};
    for (const auto& [field, value] : defaults) {
        auto single = it.get("/management/settings/index/" + field);
        INFO(field);
        CHECK(single.status == 200);
        CHECK(isText(single));
        CHECK(single.body == value);
    }

    // Partial update: only what is given changes; `saveThumbnail` (the client's name) or `thumbnail`.
    const fs::path watched = it.served() / "incoming";
    fs::create_directories(watched);
    REQUIRE(it.post("/management/settings/index?effort=42&saveThumbnail=true").status == 200);
    REQUIRE(it.post("/management/settings/index", "thumbnailSize=128&zip=false&path=" + urlEncode(watched.string()))
                .status == 200);
    all = it.get("/management/settings/index");
    CHECK(parseObject(all.body)->getValue<std::string>("path") == watched.string());
    CHECK(parseObject(all.body)->getValue<std::string>("effort") == "42");
    CHECK(parseObject(all.body)->getValue<bool>("thumbnail"));
    CHECK(parseObject(all.body)->getValue<std::string>("thumbnailSize") == "128");
    CHECK_FALSE(parseObject(all.body)->getValue<bool>("watcher"));
    CHECK(it.get("/management/settings/index/path").body == watched.string());  // GET and POST of path agree
    REQUIRE(it.post("/management/settings/index?thumbnail=false").status == 200);
    CHECK(it.get("/management/settings/index/thumbnail").body == "false");
    REQUIRE(it.post("/management/settings/index?saveThumbnail=true&thumbnail=false").status == 200);
    CHECK(it.get("/management/settings/index/thumbnail").body == "true");  // saveThumbnail wins
    REQUIRE(it.post("/management/settings/index?thumbnail=false").status == 200);

    // Single-value setters, with Dicoogle's texts.
    auto set = it.post("/management/settings/index/effort?effort=7");
    CHECK(set.status == 200);
    CHECK(set.body == "index effort set to: 7");
    set = it.post("/management/settings/index/path?path=" + urlEncode(watched.string()));
    CHECK(set.status == 200);
    CHECK(set.body == "Dir set to: " + watched.string());
    CHECK(it.post("/management/settings/index/thumbnail?thumbnail=true").status == 200);
    CHECK(it.post("/management/settings/index/thumbnailSize?thumbnailSize=96").status == 200);
    CHECK(it.get("/management/settings/index/thumbnail/size").body == "96");
    CHECK(it.post("/management/settings/index/thumbnail/size?thumbnailSize=80").status == 200);
    CHECK(it.get("/management/settings/index/thumbnailSize").body == "80");
    set = it.post("/management/settings/index/zip?zip=true");
    CHECK(set.status == 200);
    CHECK(set.body == "indexZipFiles is no longer supported");
    CHECK(it.get("/management/settings/index/zip").body == "false");

    // Bad values: 400 JSON, nothing changed (not even the good values sent alongside).
    const std::vector<std::string> bad = {
        "/management/settings/index?effort=101",
        "/management/settings/index?effort=ten",
        "/management/settings/index?effort=",
        "/management/settings/index?thumbnailSize=0",
        "/management/settings/index?thumbnailSize=100000",
        "/management/settings/index?watcher=maybe",
        "/management/settings/index?effort=50&saveThumbnail=yes please",
        "/management/settings/index?saveThumbnail=true&thumbnail=maybe",
        "/management/settings/index?effort=50&path=relative/dir",
        "/management/settings/index?path=" + urlEncode((it.served() / "missing").string()),
        "/management/settings/index?path=" + urlEncode(kSamples.string()),  // not served by the file storage
        "/management/settings/index/effort",
        "/management/settings/index/effort?effort=",
        "/management/settings/index/path?path=",
        "/management/settings/index/watcher?watcher=1x",
        "/management/settings/index/thumbnail",
        "/management/settings/index/thumbnail/size?thumbnailSize=-3",
        "/management/settings/index/zip",
    };
    for (const auto& request : bad) {
        auto response = it.post(request);
        INFO(request << " -> " << response.body);
        CHECK(response.status == 400);
        CHECK(response.contentType.rfind("application/json", 0) == 0);
        CHECK(parseObject(response.body)->has("error"));
    }
    const std::string expected = R"({"path":")" + watched.string() +
                                 R"(","zip":false,"effort":"7","thumbnail":true,"thumbnailSize":"80","watcher":false})";
    CHECK(it.get("/management/settings/index").body == expected);

    // Admin only.
    REQUIRE(it.post("/user?username=plain&password=plainpass").status == 200);
    const auto userToken = it.server().login("plain", "plainpass");
    CHECK(it.server().request("GET", "/management/settings/index", userToken).status == 403);
    CHECK(it.server().request("POST", "/management/settings/index/effort?effort=1", userToken).status == 403);
    CHECK(it.server().request("GET", "/management/settings/index/path").status == 401);

    // Saved: a restart reads the same values.
    it.restart();
    CHECK(it.get("/management/settings/index").body == expected);
}

TEST_CASE("watch folder over REST: files appear, 1,000 in a burst, deletions, off, moved", "[watch][index]") {
    const fs::path corpus = syntheticCorpus1000();
    WatchServer it;
    const fs::path first = it.served() / "first", second = it.served() / "second";
    fs::create_directories(first);
    fs::create_directories(second);
    fs::copy_file(kSamples / "images" / "MR_small.dcm", first / "there-before.dcm");  // picked up when enabled

    REQUIRE(it.post("/management/settings/index?watcher=true&path=" + urlEncode(first.string())).status == 200);
    CHECK(it.get("/management/settings/index/watcher").body == "true");
    CHECK(it.countReaches("*:*", 1, 20s));

    // Copied in (written in place): searchable within seconds.
    fs::copy_file(kSamples / kCtSmall, first / "ct.dcm");
    CHECK(it.countReaches("SOPInstanceUID:" + kCtSmallUid, 1, 20s));

    // A burst of 1,000 files into new subdirectories: none lost.
    int copied = 0;
    for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".dcm") continue;
        const auto target = first / "burst" / fs::relative(entry.path(), corpus);
        fs::create_directories(target.parent_path());
        fs::copy_file(entry.path(), target);
        ++copied;
    }
    REQUIRE(copied == 1000);
    CHECK(it.countReaches("*:*", 1002, 120s));
    // No task per file: the task list stays empty.
    auto tasks = parseObject(it.get("/index/task").body);
    CHECK(tasks->getArray("results")->size() == 0);

    // Deleted → unindexed; a directory removed → its files unindexed.
    fs::remove(first / "ct.dcm");
    CHECK(it.countReaches("SOPInstanceUID:" + kCtSmallUid, 0, 20s));
    fs::remove_all(first / "burst");
    CHECK(it.countReaches("*:*", 1, 60s));

    // Off: nothing more is indexed.
    REQUIRE(it.post("/management/settings/index/watcher?watcher=false").status == 200);
    fs::copy_file(kSamples / kCtSmall, first / "ct-while-off.dcm");
    std::this_thread::sleep_for(3s);
    CHECK(it.count("SOPInstanceUID:" + kCtSmallUid) == 0);

    // Moved and on again: the new folder is watched (and scanned), the old one is not.
    REQUIRE(it.post("/management/settings/index?watcher=true&path=" + urlEncode(second.string())).status == 200);
    CHECK(it.get("/management/settings/index/path").body == second.string());
    fs::copy_file(kSamples / kCtSmall, second / "ct.dcm");
    CHECK(it.countReaches("SOPInstanceUID:" + kCtSmallUid, 1, 20s));
    fs::remove(first / "there-before.dcm");
    std::this_thread::sleep_for(3s);
    CHECK(it.count("*:*") == 2);  // MR_small from the first folder stays: that folder is no longer watched

    // After a restart the watcher is on again by itself.
    it.restart();
    fs::remove(second / "ct.dcm");
    CHECK(it.countReaches("SOPInstanceUID:" + kCtSmallUid, 0, 20s));
}
