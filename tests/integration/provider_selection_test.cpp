// Provider selection and POST /plugins/{type}/{name}/{enable|disable} on the real server:
// two real query providers (xapian and test-memory from tests/plugins/good), the saved
// enable/disable state across a restart, the `dim` and `default` flags, and the indexers an
// index task goes to.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"

using tessera::test::HttpResult;
using tessera::test::Manifest;
using tessera::test::parseArray;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::TempDir;
using tessera::test::urlEncode;

namespace fs = std::filesystem;

namespace {

const std::string kGoodPluginDir = std::string(TESSERA_TEST_PLUGIN_DIR) + "/good";
const std::string kRefusingPluginDir = std::string(TESSERA_TEST_PLUGIN_DIR) + "/refusing";

// The file storage serves the samples; `archiveXml` goes inside <archive>.
void writeConfig(const fs::path& dataDir, const std::string& archiveXml = {}) {
    std::ofstream out(dataDir / "server.xml");
    out << "<config><archive>" << archiveXml << "</archive><plugins><plugin name=\"file\"><setting key=\"roots\">"
        << Manifest::samplesDir().string() << "</setting></plugin></plugins></config>\n";
}

std::string readText(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The text of the first <name> element in `xml` ("" if none).
std::string elementText(const std::string& xml, const std::string& name) {
    const auto open = xml.find("<" + name + ">");
    if (open == std::string::npos) return {};
    const auto start = open + name.size() + 2;
    return xml.substr(start, xml.find("</" + name + ">", start) - start);
}

struct Entry {
    bool enabled = false;
    std::optional<bool> dim, isDefault;
};

// GET /plugins as (type, name) -> entry; also checks the order (disabled first, then by name).
std::map<std::pair<std::string, std::string>, Entry> plugins(const ServerProcess& server, const std::string& token) {
    auto response = server.request("GET", "/plugins", token);
    REQUIRE(response.status == 200);
    auto list = parseObject(response.body)->getArray("plugins");
    std::map<std::pair<std::string, std::string>, Entry> out;
    bool seenEnabled = false;
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto item = list->getObject(static_cast<unsigned>(i));
        Entry entry;
        entry.enabled = item->getValue<bool>("enabled");
        if (entry.enabled) seenEnabled = true;
        else CHECK_FALSE(seenEnabled);  // disabled ones come first
        if (item->has("dim")) entry.dim = item->getValue<bool>("dim");
        if (item->has("default")) entry.isDefault = item->getValue<bool>("default");
        out[{item->getValue<std::string>("type"), item->getValue<std::string>("name")}] = entry;
    }
    return out;
}

std::set<std::string> providerNames(const ServerProcess& server, const std::string& token, const std::string& type) {
    auto response = server.request("GET", "/providers?type=" + type, token);
    REQUIRE(response.status == 200);
    auto array = parseArray(response.body);
    std::set<std::string> names;
    for (std::size_t i = 0; i < array->size(); ++i) names.insert(array->getElement<std::string>(static_cast<unsigned>(i)));
    return names;
}

void checkError(const HttpResult& response, int status, const std::string& message) {
    INFO(response.body);
    CHECK(response.status == status);
    REQUIRE(response.contentType.rfind("application/json", 0) == 0);
    CHECK(parseObject(response.body)->getValue<std::string>("error") == message);
}

void checkEmptyOk(const HttpResult& response) {
    INFO(response.body);
    CHECK(response.status == 200);
    CHECK(response.body.empty());
}

// Starts an index task and waits until every task it started is complete.
void indexAndWait(const ServerProcess& server, const std::string& token, const std::string& query) {
    auto started = server.request("POST", "/management/tasks/index?" + query, token);
    INFO(started.body);
    REQUIRE(started.status == 200);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        auto body = parseObject(server.request("GET", "/index/task", token).body);
        if (body->getValue<long>("count") == 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("indexing did not finish within 120 s");
}

struct Page {
    long total = -1;
    std::vector<std::string> uris;
};

Page search(const ServerProcess& server, const std::string& token, const std::string& query, const std::string& extra = {}) {
    auto response = server.request("GET", "/search?query=" + urlEncode(query) + "&field=SOPInstanceUID" + extra, token);
    INFO(response.body.substr(0, 500));
    REQUIRE(response.status == 200);
    auto body = parseObject(response.body);
    Page page;
    page.total = body->getValue<long>("numResults");
    auto results = body->getArray("results");
    for (std::size_t i = 0; i < results->size(); ++i)
        page.uris.push_back(results->getObject(static_cast<unsigned>(i))->getValue<std::string>("uri"));
    return page;
}

std::string seriesUri() { return "file:" + (Manifest::samplesDir() / "series").string(); }

std::size_t seriesFiles() {
    return Manifest::select(Manifest::samples().inGroups({"core"}),
                            [](const auto& row) { return row.file().rfind("series/", 0) == 0; })
        .size();
}

}  // namespace

TEST_CASE("enable and disable a provider: answers, effects, and the state saved across a restart", "[plugins][switch]") {
    TempDir dataDir("tessera-switch-");
    writeConfig(dataDir.path());
    const std::vector<std::string> args = {"--plugin-dir", kGoodPluginDir};
    {
        ServerProcess server(args, dataDir.path());
        const auto token = server.login();
        CHECK(plugins(server, token).at({"query", "test-memory"}).enabled);

        // Bad requests: 400 JSON, nothing changes.
        checkError(server.request("POST", "/plugins/query/no-such-provider/disable", token), 400,
                   "No query plugin named no-such-provider");
        checkError(server.request("POST", "/plugins/query/test-memory/toggle", token), 400,
                   "Invalid action: must be enable or disable");
        checkError(server.request("POST", "/plugins/widget/test-memory/disable", token), 400,
                   "Invalid plugin type: must be one of query, index, storage, servlet");
        checkError(server.request("POST", "/plugins/servlet/test-memory/disable", token), 400,
                   "No servlet plugin named test-memory");
        // Admin only.
        CHECK(server.request("POST", "/plugins/query/test-memory/disable").status == 401);
        REQUIRE(server.request("POST", "/user?username=reader&password=secret-pw&admin=false", token).status == 200);
        const auto reader = server.login("reader", "secret-pw");
        CHECK(server.request("POST", "/plugins/query/test-memory/disable", reader).status == 403);
        CHECK(plugins(server, token).at({"query", "test-memory"}).enabled);

        // Disable the query provider (name case-insensitive): only that provider goes off.
        checkEmptyOk(server.request("POST", "/plugins/query/Test-Memory/disable", token));
        auto listed = plugins(server, token);
        CHECK_FALSE(listed.at({"query", "test-memory"}).enabled);
        CHECK(listed.at({"index", "test-memory"}).enabled);  // another object in the good plugin
        CHECK(providerNames(server, token, "query").count("test-memory") == 0);
        CHECK(providerNames(server, token, "index").count("test-memory") == 1);
        auto refused = server.request("GET", "/search?query=*:*&provider=test-memory", token);
        CHECK(refused.status == 400);
        CHECK(parseObject(refused.body)->getValue<std::string>("error") == "test-memory is not a valid query provider");
        checkEmptyOk(server.request("POST", "/plugins/query/test-memory/disable", token));  // again: still fine

        // Disable the storage and the index provider; the index task refuses a disabled indexer.
        checkEmptyOk(server.request("POST", "/plugins/storage/test-memory/disable", token));
        CHECK(providerNames(server, token, "storage") == std::set<std::string>{"file"});
        checkEmptyOk(server.request("POST", "/plugins/index/test-memory/disable", token));
        auto badIndexer =
            server.request("POST", "/management/tasks/index?uri=" + urlEncode(seriesUri()) + "&plugin=test-memory", token);
        CHECK(badIndexer.status == 400);
        CHECK(parseObject(badIndexer.body)->getValue<std::string>("error") == "test-memory is not a valid index provider");
        checkEmptyOk(server.request("POST", "/plugins/index/test-memory/enable", token));

        // Saved in server.xml.
        const auto disabled = elementText(readText(dataDir.path() / "server.xml"), "disabled-providers");
        CHECK(disabled.find("query:test-memory") != std::string::npos);
        CHECK(disabled.find("storage:test-memory") != std::string::npos);
        CHECK(disabled.find("index:test-memory") == std::string::npos);
        CHECK(elementText(readText(dataDir.path() / "server.xml"), "enabled-providers").find("index:test-memory") !=
              std::string::npos);
    }
    {
        // After a restart the disabled providers are still disabled, the others are not.
        ServerProcess server(args, dataDir.path());
        const auto token = server.login();
        auto listed = plugins(server, token);
        CHECK_FALSE(listed.at({"query", "test-memory"}).enabled);
        CHECK_FALSE(listed.at({"storage", "test-memory"}).enabled);
        CHECK(listed.at({"index", "test-memory"}).enabled);
        CHECK(listed.at({"query", "xapian"}).enabled);
        CHECK(providerNames(server, token, "query").count("test-memory") == 0);

        checkEmptyOk(server.request("POST", "/plugins/query/test-memory/enable", token));
        CHECK(providerNames(server, token, "query").count("test-memory") == 1);
    }
    {
        ServerProcess server(args, dataDir.path());
        const auto token = server.login();
        auto listed = plugins(server, token);
        CHECK(listed.at({"query", "test-memory"}).enabled);  // re-enabling was saved too
        CHECK_FALSE(listed.at({"storage", "test-memory"}).enabled);
    }
    {
        // Without the good plugin its saved entry is kept (and logged), not lost.
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        checkEmptyOk(server.request("POST", "/plugins/query/xapian/disable", token));
        checkEmptyOk(server.request("POST", "/plugins/query/xapian/enable", token));
        const auto xml = readText(dataDir.path() / "server.xml");
        CHECK(xml.find("storage:test-memory") != std::string::npos);
        CHECK(server.log().find("storage provider test-memory, which is not loaded") != std::string::npos);
    }
}

TEST_CASE("one object serving two kinds is switched as one, and saved as both", "[plugins][switch]") {
    TempDir dataDir("tessera-switch-");
    writeConfig(dataDir.path());
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        checkEmptyOk(server.request("POST", "/plugins/query/xapian/disable", token));
        auto listed = plugins(server, token);
        // xapian is one provider object for both kinds; the SDK gives it one enabled flag.
        CHECK_FALSE(listed.at({"query", "xapian"}).enabled);
        CHECK_FALSE(listed.at({"index", "xapian"}).enabled);
        CHECK(providerNames(server, token, "query").empty());
        // With no enabled query provider a search finds nothing (no error).
        CHECK(search(server, token, "*:*").total == 0);
    }
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        CHECK_FALSE(plugins(server, token).at({"index", "xapian"}).enabled);
        checkEmptyOk(server.request("POST", "/plugins/index/xapian/enable", token));
        CHECK(plugins(server, token).at({"query", "xapian"}).enabled);
    }
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        auto listed = plugins(server, token);
        CHECK(listed.at({"query", "xapian"}).enabled);
        CHECK(listed.at({"index", "xapian"}).enabled);
    }
}

TEST_CASE("a provider disabled by default stays enabled after a restart once an administrator enabled it",
          "[plugins][switch]") {
    // sqlite starts disabled (it would double every index and search beside xapian); enabling
    // it must survive a restart as a disable does.
    TempDir dataDir("tessera-switch-");
    writeConfig(dataDir.path());
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        CHECK_FALSE(plugins(server, token).at({"query", "sqlite"}).enabled);
        checkEmptyOk(server.request("POST", "/plugins/query/sqlite/enable", token));
        CHECK(providerNames(server, token, "query").count("sqlite") == 1);
    }
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        auto listed = plugins(server, token);
        CHECK(listed.at({"query", "sqlite"}).enabled);
        CHECK(listed.at({"index", "sqlite"}).enabled);
        CHECK(listed.at({"query", "xapian"}).enabled);
        checkEmptyOk(server.request("POST", "/plugins/index/sqlite/disable", token));
    }
    {
        ServerProcess server({}, dataDir.path());
        const auto token = server.login();
        CHECK_FALSE(plugins(server, token).at({"query", "sqlite"}).enabled);
        CHECK(plugins(server, token).at({"query", "xapian"}).enabled);
    }
}

TEST_CASE("a provider that refuses to be switched answers 500 and nothing is saved", "[plugins][switch]") {
    TempDir dataDir("tessera-switch-");
    writeConfig(dataDir.path());
    ServerProcess server({"--plugin-dir", kRefusingPluginDir}, dataDir.path());
    const auto token = server.login();
    checkError(server.request("POST", "/plugins/query/test-refusing/disable", token), 500, "Could not disable plugin");
    checkError(server.request("POST", "/plugins/query/test-refusing/enable", token), 500, "Could not enable plugin");
    CHECK(plugins(server, token).at({"query", "test-refusing"}).enabled);
    CHECK(readText(dataDir.path() / "server.xml").find("test-refusing</") == std::string::npos);
    CHECK(readText(dataDir.path() / "server.xml").find("query:test-refusing") == std::string::npos);
}

TEST_CASE("provider selection: defaults, repeated case-insensitive names, concatenation, summed totals",
          "[plugins][selection]") {
    TempDir dataDir("tessera-select-");
    writeConfig(dataDir.path());
    ServerProcess server({"--plugin-dir", kGoodPluginDir}, dataDir.path());
    const auto token = server.login();
    const auto n = static_cast<long>(seriesFiles());
    REQUIRE(n > 5);

    // No `plugin`: every enabled indexer gets the files (one task per URI).
    indexAndWait(server, token, "uri=" + urlEncode(seriesUri()));
    const auto xapian = search(server, token, "*:*", "&provider=xapian");
    const auto memory = search(server, token, "*:*", "&provider=test-memory");
    CHECK(xapian.total == n);
    CHECK(memory.total == n);
    CHECK(std::set<std::string>(xapian.uris.begin(), xapian.uris.end()) ==
          std::set<std::string>(memory.uris.begin(), memory.uris.end()));

    // No provider and no dim-providers configured: every enabled query provider, registration
    // order (the built-in xapian before the good plugin), totals summed.
    auto both = search(server, token, "*:*");
    CHECK(both.total == 2 * n);
    REQUIRE(both.uris.size() == static_cast<std::size_t>(2 * n));
    CHECK(std::vector<std::string>(both.uris.begin(), both.uris.begin() + n) == xapian.uris);
    CHECK(std::vector<std::string>(both.uris.begin() + n, both.uris.end()) == memory.uris);

    // Repeated, case-insensitive, in the requested order; a name given twice counts once.
    auto ordered = search(server, token, "*:*", "&provider=TEST-MEMORY&provider=Xapian&provider=test-memory");
    CHECK(ordered.total == 2 * n);
    REQUIRE(ordered.uris.size() == static_cast<std::size_t>(2 * n));
    CHECK(std::vector<std::string>(ordered.uris.begin(), ordered.uris.begin() + n) == memory.uris);
    // Paging runs over the concatenation.
    auto page = search(server, token, "*:*", "&provider=test-memory&provider=xapian&offset=" + std::to_string(n - 2) + "&psize=4");
    CHECK(page.total == 2 * n);
    CHECK(page.uris == std::vector<std::string>(ordered.uris.begin() + (n - 2), ordered.uris.begin() + (n + 2)));

    // Unknown or disabled → 400 naming it.
    auto unknown = server.request("GET", "/search?query=*:*&provider=xapian&provider=lucene", token);
    CHECK(unknown.status == 400);
    CHECK(parseObject(unknown.body)->getValue<std::string>("error") == "lucene is not a valid query provider");

    // `plugin` names the indexers: a second index run into test-memory only leaves xapian as it was.
    REQUIRE(server.request("POST", "/management/tasks/unindex?uri=" + urlEncode(xapian.uris.front()), token).status == 200);
    CHECK(search(server, token, "*:*", "&provider=xapian").total == n - 1);
    CHECK(search(server, token, "*:*", "&provider=test-memory").total == n - 1);
    indexAndWait(server, token, "uri=" + urlEncode(seriesUri()) + "&plugin=TEST-MEMORY");
    CHECK(search(server, token, "*:*", "&provider=xapian").total == n - 1);
    CHECK(search(server, token, "*:*", "&provider=test-memory").total == n);

    // Flags: no lists configured → every query/index provider is `dim`, every storage `default`.
    auto listed = plugins(server, token);
    for (const auto& [key, entry] : listed) {
        INFO(key.first << " " << key.second);
        if (key.first == "query" || key.first == "index") CHECK(entry.dim == std::optional<bool>(true));
        if (key.first == "storage") CHECK(entry.isDefault == std::optional<bool>(true));
        if (key.first == "servlet") CHECK_FALSE((entry.dim || entry.isDefault));
    }
}

TEST_CASE("configured DIM providers and default storages: flags, defaults and the DIM filter", "[plugins][selection]") {
    TempDir dataDir("tessera-select-");
    writeConfig(dataDir.path(),
                "<dim-providers><dim-provider>xapian</dim-provider></dim-providers>"
                "<default-storages><default-storage>file</default-storage></default-storages>");
    ServerProcess server({"--plugin-dir", kGoodPluginDir}, dataDir.path());
    const auto token = server.login();
    const auto n = static_cast<long>(seriesFiles());
    indexAndWait(server, token, "uri=" + urlEncode(seriesUri()));

    auto listed = plugins(server, token);
    CHECK(listed.at({"query", "xapian"}).dim == std::optional<bool>(true));
    CHECK(listed.at({"index", "xapian"}).dim == std::optional<bool>(true));
    CHECK(listed.at({"query", "test-memory"}).dim == std::optional<bool>(false));
    CHECK(listed.at({"index", "test-memory"}).dim == std::optional<bool>(false));
    CHECK(listed.at({"storage", "file"}).isDefault == std::optional<bool>(true));
    CHECK(listed.at({"storage", "test-memory"}).isDefault == std::optional<bool>(false));
    auto typed = parseObject(server.request("GET", "/plugins/storage", token).body)->getArray("plugins");
    for (std::size_t i = 0; i < typed->size(); ++i) CHECK(typed->getObject(static_cast<unsigned>(i))->has("default"));

    // The default is the DIM list; a non-DIM provider alone is refused for search.
    CHECK(search(server, token, "*:*").total == n);
    CHECK(search(server, token, "*:*", "&provider=test-memory&provider=xapian").total == n);
    auto notDim = server.request("GET", "/search?query=*:*&provider=test-memory", token);
    CHECK(notDim.status == 400);
    CHECK(parseObject(notDim.body)->getValue<std::string>("error") == "No valid DIM providers supplied.");

    // Disabling the only DIM provider leaves the default search empty.
    checkEmptyOk(server.request("POST", "/plugins/query/xapian/disable", token));
    CHECK(search(server, token, "*:*").total == 0);
    CHECK(server.request("GET", "/providers?type=bogus", token).status == 400);
}
