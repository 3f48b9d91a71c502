// Plugin loading as the running server does it: real good and broken libraries, the
// out-of-tree example plugin, GET /plugins and /providers.
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

using tessera::test::parseArray;
using tessera::test::parseObject;
using tessera::test::ServerProcess;

namespace {

std::vector<std::string> pluginDirArgs(const std::vector<std::string>& cases) {
    std::vector<std::string> args;
    for (const auto& name : cases) {
        args.push_back("--plugin-dir");
        args.push_back(std::string(TESSERA_TEST_PLUGIN_DIR) + "/" + name);
    }
    return args;
}

}  // namespace

TEST_CASE("broken plugins are listed as dead, one log line each, and the server keeps running", "[plugins]") {
    const std::vector<std::string> broken = {"abi_mismatch",     "stdlib_mismatch",   "not_a_plugin",
                                             "corrupt",          "factory_throws",    "configure_throws",
                                             "duplicate_provider", "set_name_mismatch"};
    auto cases = broken;
    cases.insert(cases.begin(), "good");  // the good set first, so the duplicate clashes with it
    ServerProcess server(pluginDirArgs(cases));
    const auto token = server.login();

    auto response = server.request("GET", "/plugins", token);
    REQUIRE(response.status == 200);
    auto body = parseObject(response.body);
    auto dead = body->getArray("dead");
    REQUIRE(dead->size() == broken.size());
    std::set<std::string> causes;
    for (std::size_t i = 0; i < dead->size(); ++i) {
        auto entry = dead->getObject(static_cast<unsigned>(i));
        CHECK_FALSE(entry->getValue<std::string>("name").empty());
        auto cause = entry->getObject("cause");
        causes.insert(cause->getValue<std::string>("class"));
        CHECK_FALSE(cause->getValue<std::string>("message").empty());
    }
    for (const char* expected : {"AbiMismatch", "LoadError", "NotAPlugin", "FactoryError", "ConfigureError", "DuplicateProvider"})
        CHECK(causes.count(expected) == 1);

    // The good set is alive (beside the built-in plugins) with all four kinds of provider.
    auto sets = body->getArray("sets");
    std::set<std::string> setNames;
    for (std::size_t i = 0; i < sets->size(); ++i) setNames.insert(sets->getElement<std::string>(static_cast<unsigned>(i)));
    CHECK(setNames.count("test-good") == 1);
    for (const auto& name : broken) CHECK(setNames.count(name) == 0);
    std::set<std::string> kinds;
    auto plugins = body->getArray("plugins");
    for (std::size_t i = 0; i < plugins->size(); ++i) {
        auto plugin = plugins->getObject(static_cast<unsigned>(i));
        if (plugin->getValue<std::string>("name").rfind("test-", 0) == 0) kinds.insert(plugin->getValue<std::string>("type"));
        // Every provider starts enabled except sqlite, which waits for an administrator so that it
        // does not double every index and search beside xapian.
        CHECK(plugin->getValue<bool>("enabled") == (plugin->getValue<std::string>("name") != "sqlite"));
        const auto type = plugin->getValue<std::string>("type");
        if (type == "query" || type == "index") CHECK(plugin->has("dim"));
        if (type == "storage") {
            CHECK(plugin->has("scheme"));
            CHECK(plugin->has("default"));
        }
    }
    CHECK(kinds == std::set<std::string>{"index", "query", "storage", "servlet"});

    // Typed listings carry only their key.
    auto onlyDead = parseObject(server.request("GET", "/plugins/dead", token).body);
    CHECK(onlyDead->has("dead"));
    CHECK_FALSE(onlyDead->has("plugins"));
    auto onlyQuery = parseObject(server.request("GET", "/plugins/query", token).body)->getArray("plugins");
    for (std::size_t i = 0; i < onlyQuery->size(); ++i)
        CHECK(onlyQuery->getObject(static_cast<unsigned>(i))->getValue<std::string>("type") == "query");
    CHECK(server.request("GET", "/plugins/bogus", token).status == 400);

    // One clear error line per dead library in the log.
    const auto log = server.log();
    for (const auto& name : broken) CHECK(log.find(name) != std::string::npos);
    CHECK(server.request("GET", "/health").status == 200);
}

TEST_CASE("GET /providers lists enabled providers by type", "[plugins]") {
    ServerProcess server(pluginDirArgs({"good"}));
    const auto token = server.login();
    auto names = [&](const std::string& query) {
        auto response = server.request("GET", "/providers" + query, token);
        REQUIRE(response.status == 200);
        auto array = parseArray(response.body);
        std::set<std::string> result;
        for (std::size_t i = 0; i < array->size(); ++i) result.insert(array->getElement<std::string>(static_cast<unsigned>(i)));
        return result;
    };
    for (const char* type : {"query", "index", "storage"}) CHECK(names(std::string("?type=") + type).count("test-memory") == 1);
    CHECK(names("?type=storage").count("file") == 1);  // the built-in file storage
    CHECK(names("?type=query").count("file") == 0);
    CHECK(names("") == names("?type=query"));  // default: query
    CHECK(server.request("GET", "/providers?type=nonsense", token).status == 400);
    CHECK(server.request("GET", "/providers").status == 401);
}

TEST_CASE("the out-of-tree example plugin is loaded, listed and serves its route", "[plugins][example]") {
    ServerProcess server({"--plugin-dir", TESSERA_EXAMPLE_PLUGIN_DIR});
    auto greeting = server.request("GET", "/ext/hello/greeting?name=Ada");
    REQUIRE(greeting.status == 200);
    CHECK(parseObject(greeting.body)->getValue<std::string>("greeting") == "Hello, Ada!");

    const auto token = server.login();
    auto plugins = parseObject(server.request("GET", "/plugins", token).body);
    bool listed = false;
    auto list = plugins->getArray("plugins");
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto entry = list->getObject(static_cast<unsigned>(i));
        if (entry->getValue<std::string>("name") == "hello" && entry->getValue<std::string>("type") == "servlet") listed = true;
    }
    CHECK(listed);
    CHECK(plugins->getArray("dead")->size() == 0);
    // Its settings section was written into the server's configuration file.
    std::ifstream config(server.dataDir() / "server.xml");
    std::stringstream text;
    text << config.rdbuf();
    CHECK(text.str().find("greeting") != std::string::npos);
}
