// The plugin host against real shared libraries built by tests/plugins: one good set and one
// library for each way a plugin can be broken.

#include "tessera/core/plugin_host.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "tessera/core/memory_settings_section.hpp"
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"

namespace fs = std::filesystem;
namespace sdk = tessera::sdk;
using tessera::core::DeadPlugin;
using tessera::core::PluginHost;
using tessera::core::PluginHostOptions;
using tessera::core::ProviderKind;

namespace {

const fs::path kPluginRoot = TESSERA_TEST_PLUGIN_DIR;

fs::path pluginFile(const std::string& testCase) {
    return kPluginRoot / testCase / ("tessera-test-" + testCase + ".so");
}

using tessera::test::TempDir;

struct LogLine {
    sdk::LogLevel level;
    std::string text;
};

// Everything a host needs, with its log and every set's settings kept for inspection.
struct Harness {
    TempDir data;
    std::mutex logMutex;
    std::vector<LogLine> lines;
    std::map<std::string, tessera::core::MemorySettingsSection> settings;

    PluginHostOptions options() {
        PluginHostOptions options;
        options.dataRoot = data.path();
        options.settingsFor = [this](const std::string& setName) -> sdk::SettingsSection& { return settings[setName]; };
        options.log = [this](sdk::LogLevel level, const std::string& text) {
            std::lock_guard lock(logMutex);
            lines.push_back({level, text});
        };
        return options;
    }

    std::vector<std::string> linesAt(sdk::LogLevel level) {
        std::lock_guard lock(logMutex);
        std::vector<std::string> out;
        for (const auto& line : lines)
            if (line.level == level) out.push_back(line.text);
        return out;
    }

    std::vector<std::string> linesContaining(const std::string& part) {
        std::lock_guard lock(logMutex);
        std::vector<std::string> out;
        for (const auto& line : lines)
            if (line.text.find(part) != std::string::npos) out.push_back(line.text);
        return out;
    }
};

std::string readFile(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A parsed object as the host would hand it to an index: keyword → value.
class MapView final : public sdk::DicomObjectView {
public:
    explicit MapView(std::map<std::string, std::string> values) : values_(std::move(values)) {}
    std::optional<std::string> get(std::string_view keyword) const override {
        auto it = values_.find(std::string(keyword));
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    void forEachAttribute(const std::function<void(const sdk::DicomAttribute&)>& visit) const override {
        for (const auto& [keyword, value] : values_) visit(sdk::DicomAttribute{0, keyword, "LO", value});
    }

private:
    std::map<std::string, std::string> values_;
};

sdk::HttpResponse callRoute(sdk::WebServiceProvider& web, const std::string& path,
                            std::vector<std::pair<std::string, std::string>> params = {}) {
    for (auto& route : web.routes()) {
        if (route.method == "GET" && route.path == path) {
            sdk::HttpRequest request;
            request.method = "GET";
            request.path = path;
            request.params = std::move(params);
            return route.handler(request);
        }
    }
    FAIL("no route GET " << path);
    return {};
}

// Indexes two objects through the registry's index provider and reads them back through the
// query provider: the good set works.
void checkGoodSetWorks(PluginHost& host) {
    auto* index = host.registry().index("test-memory");
    auto* query = host.registry().query("TEST-MEMORY");
    REQUIRE(index != nullptr);
    REQUIRE(query != nullptr);
    MapView ct({{"Modality", "CT"}, {"PatientName", "Doe^Jane"}, {"SOPInstanceUID", "1.2.3.1"}});
    MapView mr({{"Modality", "MR"}, {"PatientName", "Roe^Rick"}, {"SOPInstanceUID", "1.2.3.2"}});
    std::vector<sdk::IndexItem> batch{{sdk::Uri::parse("mem:/1.2.3.1"), &ct}, {sdk::Uri::parse("mem:/1.2.3.2"), &mr}};
    CHECK(index->index(batch).indexed == 2);

    sdk::QueryRequest request;
    request.query = sdk::TermQuery{"Modality", "ct"};
    request.fields = {"PatientName"};
    auto response = query->query(request);
    REQUIRE(response.total == 1);
    REQUIRE(response.results.size() == 1);
    CHECK(response.results[0].uri.str() == "mem:/1.2.3.1");
    CHECK(response.results[0].fields.at("PatientName") == "Doe^Jane");
}

}  // namespace

TEST_CASE("The good plugin loads and registers one provider of each kind", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());
    host.loadDirectory(kPluginRoot / "good");

    CHECK(host.dead().empty());
    auto sets = host.sets();
    REQUIRE(sets.size() == 1);
    CHECK(sets[0].name == "test-good");
    CHECK(sets[0].version == "1.2.3");
    CHECK(fs::equivalent(sets[0].file, pluginFile("good")));

    auto entries = host.registry().list();
    REQUIRE(entries.size() == 4);
    for (const auto& entry : entries) CHECK(entry.setName == "test-good");
    CHECK(host.registry().list(ProviderKind::Index).at(0).name == "test-memory");
    CHECK(host.registry().list(ProviderKind::Query).at(0).name == "test-memory");
    CHECK(host.registry().list(ProviderKind::Storage).at(0).name == "test-memory");
    CHECK(host.registry().list(ProviderKind::WebService).at(0).name == "test-good-web");
    CHECK(harness.linesAt(sdk::LogLevel::Error).empty());
    CHECK(harness.linesContaining("Loaded plugin set 'test-good' 1.2.3").size() == 1);
}

TEST_CASE("The good plugin's providers really work", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());
    host.loadLibrary(pluginFile("good"));
    REQUIRE(host.sets().size() == 1);

    checkGoodSetWorks(host);

    SECTION("query: boolean, wildcard, paging, and a refused query") {
        auto* query = host.registry().query("test-memory");
        sdk::QueryRequest request;
        request.query = sdk::MatchAllQuery{};
        request.offset = 1;
        request.limit = 5;
        auto page = query->query(request);
        CHECK(page.total == 2);
        REQUIRE(page.results.size() == 1);
        CHECK(page.results[0].uri.str() == "mem:/1.2.3.2");

        sdk::BooleanQuery notCt;
        notCt.clauses.push_back({sdk::Occur::MustNot, sdk::TermQuery{"Modality", "CT"}});
        request = {};
        request.query = notCt;
        CHECK(query->query(request).total == 1);

        request.query = sdk::WildcardQuery{"PatientName", "*^j?ne"};
        CHECK(query->query(request).total == 1);

        request.query = sdk::PhraseQuery{"PatientName", "Doe Jane"};
        try {
            query->query(request);
            FAIL("a phrase query was answered");
        } catch (const sdk::Error& error) {
            CHECK(error.code() == sdk::ErrorCode::InvalidArgument);
        }

        const sdk::Uri gone = sdk::Uri::parse("mem:/1.2.3.1");
        CHECK(host.registry().index("test-memory")->unindex(std::span(&gone, 1)).removed == 1);
        request.query = sdk::MatchAllQuery{};
        CHECK(query->query(request).total == 1);
    }

    SECTION("storage: found by URI, stores, opens and removes bytes") {
        auto* storage = host.registry().storageForUri(sdk::Uri::parse("mem:/anything"));
        REQUIRE(storage != nullptr);
        CHECK(storage == host.registry().storage("test-memory"));
        MapView object(std::map<std::string, std::string>{{"SOPInstanceUID", "9.8.7"}});
        const std::vector<std::uint8_t> bytes{'D', 'I', 'C', 'M'};
        const auto uri = storage->store(object, bytes);
        CHECK(uri.str() == "mem:/9.8.7");
        auto in = storage->open(uri);
        std::string read(std::istreambuf_iterator<char>(*in), {});
        CHECK(read == "DICM");
        storage->remove(uri);
        CHECK_THROWS_AS(storage->open(uri), sdk::Error);
        CHECK(host.registry().storageForUri(sdk::Uri::parse("file:/x")) == nullptr);
    }
}

TEST_CASE("A set gets its own settings section and data directory", "[plugin-host]") {
    Harness harness;

    SECTION("a configured value reaches the plugin") {
        harness.settings["test-good"].set("greeting", "Bonjour");
        PluginHost host(harness.options());
        host.loadLibrary(pluginFile("good"));
        auto* web = host.registry().webService("test-good-web");
        REQUIRE(web != nullptr);
        CHECK(callRoute(*web, "/info").body == R"({"greeting":"Bonjour"})");
        CHECK(fs::is_directory(harness.data.path() / "test-good"));
        CHECK(readFile(harness.data.path() / "test-good" / "events.log") == "configured Bonjour\n");
    }

    SECTION("a default the plugin writes lands in its own section only") {
        harness.settings["someone-else"].set("greeting", "Nope");
        PluginHost host(harness.options());
        host.loadLibrary(pluginFile("good"));
        CHECK(harness.settings["test-good"].get("greeting") == "Hello");
        CHECK(harness.settings["someone-else"].get("greeting") == "Nope");
    }

    SECTION("without settingsFor the set still keeps its own values") {
        auto options = harness.options();
        options.settingsFor = nullptr;
        PluginHost host(options);
        host.loadLibrary(pluginFile("good"));
        REQUIRE(host.sets().size() == 1);
        CHECK(callRoute(*host.registry().webService("test-good-web"), "/info").body == R"({"greeting":"Hello"})");
    }
}

TEST_CASE("A plugin looks providers up through its HostServices, enabled ones only", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());
    host.loadLibrary(pluginFile("good"));
    auto* web = host.registry().webService("test-good-web");
    REQUIRE(web != nullptr);

    const std::vector<std::pair<std::string, std::string>> params{
        {"index", "Test-Memory"}, {"query", "test-memory"}, {"scheme", "mem"}};
    CHECK(callRoute(*web, "/lookup", params).body == R"({"index":true,"query":true,"storage":true})");

    host.registry().index("test-memory")->disable();
    host.registry().storage("test-memory")->disable();
    CHECK(callRoute(*web, "/lookup", params).body == R"({"index":false,"query":true,"storage":false})");

    CHECK(callRoute(*web, "/lookup", {{"index", "nope"}, {"query", "nope"}, {"scheme", "file"}}).body ==
          R"({"index":false,"query":false,"storage":false})");
}

namespace {

struct BrokenCase {
    std::string testCase;    // directory under tests/plugins
    std::string causeClass;  // expected
    std::string deadName;    // expected DeadPlugin::name
    std::vector<std::string> messageParts;
};

}  // namespace

TEST_CASE("Each broken library is one dead entry and one log line and the good set stays", "[plugin-host]") {
    const auto broken = GENERATE(values<BrokenCase>({
        {"abi_mismatch", "AbiMismatch", "test-abi-mismatch", {"ABI 1001", "needs ABI 1", "99.0.0"}},
        {"stdlib_mismatch", "AbiMismatch", "test-stdlib-mismatch", {"libc++-test-not-this-one", "libstdc++"}},
        {"not_a_plugin", "NotAPlugin", "tessera-test-not_a_plugin.so", {"tessera_plugin_record"}},
        {"corrupt", "LoadError", "tessera-test-corrupt.so", {"not a loadable shared library"}},
        {"factory_throws", "FactoryError", "test-factory-throws", {"the factory refuses to build"}},
        {"configure_throws", "ConfigureError", "test-configure-throws", {"must be 'fast' or 'safe'"}},
        {"duplicate_provider", "DuplicateProvider", "test-duplicate", {"TEST-Memory", "test-good"}},
        {"set_name_mismatch", "NameMismatch", "test-name-mismatch", {"test-some-other-name"}},
    }));
    CAPTURE(broken.testCase);

    Harness harness;
    PluginHost host(harness.options());
    host.loadDirectory(kPluginRoot / "good");
    host.loadDirectory(kPluginRoot / broken.testCase);

    auto dead = host.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].causeClass == broken.causeClass);
    CHECK(dead[0].name == broken.deadName);
    CHECK(fs::equivalent(dead[0].file, pluginFile(broken.testCase)));
    for (const auto& part : broken.messageParts) {
        CAPTURE(dead[0].message);
        CHECK(dead[0].message.find(part) != std::string::npos);
    }
    CHECK(dead[0].message.find('\n') == std::string::npos);

    // Exactly one Error line, naming the file and the cause.
    auto errors = harness.linesAt(sdk::LogLevel::Error);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find(pluginFile(broken.testCase).filename().string()) != std::string::npos);
    CHECK(errors[0].find(broken.causeClass) != std::string::npos);
    CHECK(errors[0].find(dead[0].message) != std::string::npos);

    // The good set is untouched and nothing of the broken one is reachable.
    auto sets = host.sets();
    REQUIRE(sets.size() == 1);
    CHECK(sets[0].name == "test-good");
    CHECK(host.registry().list().size() == 4);
    for (const auto& entry : host.registry().list()) CHECK(entry.setName == "test-good");
    checkGoodSetWorks(host);

    if (broken.testCase == "duplicate_provider") {
        CHECK(host.registry().index("test-duplicate-index") == nullptr);
        // The refused set was shut down before it was released.
        CHECK(readFile(harness.data.path() / "test-duplicate" / "events.log") == "shutdown\n");
    }
    if (broken.testCase == "configure_throws") CHECK(host.registry().webService("test-configure-throws-web") == nullptr);
}

TEST_CASE("A broken library loaded first does not stop the good one after it", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());
    for (const char* testCase : {"corrupt", "abi_mismatch", "factory_throws", "not_a_plugin"})
        host.loadDirectory(kPluginRoot / testCase);
    host.loadDirectory(kPluginRoot / "good");
    CHECK(host.dead().size() == 4);
    REQUIRE(host.sets().size() == 1);
    checkGoodSetWorks(host);
}

TEST_CASE("Missing libraries and directories", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());

    SECTION("a missing directory is a warning, not a dead plugin") {
        host.loadDirectory(harness.data.path() / "no-such-dir");
        CHECK(host.dead().empty());
        CHECK(harness.linesAt(sdk::LogLevel::Error).empty());
        auto warnings = harness.linesAt(sdk::LogLevel::Warning);
        REQUIRE(warnings.size() == 1);
        CHECK(warnings[0].find("no-such-dir") != std::string::npos);
    }

    SECTION("a file given as a directory is a warning too") {
        host.loadDirectory(pluginFile("good"));
        CHECK(host.sets().empty());
        CHECK(harness.linesAt(sdk::LogLevel::Warning).size() == 1);
    }

    SECTION("a missing library is a dead LoadError") {
        host.loadLibrary(harness.data.path() / "gone.so");
        auto dead = host.dead();
        REQUIRE(dead.size() == 1);
        CHECK(dead[0].causeClass == "LoadError");
        CHECK(dead[0].name == "gone.so");
        CHECK(dead[0].message == "The file does not exist.");
        CHECK(harness.linesAt(sdk::LogLevel::Error).size() == 1);
    }

    SECTION("a directory given as a library is a dead LoadError") {
        host.loadLibrary(kPluginRoot / "good");
        REQUIRE(host.dead().size() == 1);
        CHECK(host.dead()[0].causeClass == "LoadError");
    }
}

TEST_CASE("loadDirectory takes only .so files directly inside, sorted by file name", "[plugin-host]") {
    Harness harness;
    TempDir plugins;
    // b.so is the good set; a.so (loaded first) takes its query provider name, so the order of
    // loading decides which one is refused.
    fs::copy_file(pluginFile("good"), plugins.path() / "b.so");
    fs::copy_file(pluginFile("duplicate_provider"), plugins.path() / "a.so");
    fs::copy_file(pluginFile("good"), plugins.path() / "c.so.disabled");
    { std::ofstream(plugins.path() / "README.txt") << "not a plugin\n"; }
    fs::create_directories(plugins.path() / "nested.so");
    fs::copy_file(pluginFile("factory_throws"), plugins.path() / "nested.so" / "deep.so");

    PluginHost host(harness.options());
    host.loadDirectory(plugins.path());

    auto sets = host.sets();
    REQUIRE(sets.size() == 1);
    CHECK(sets[0].name == "test-duplicate");
    CHECK(fs::path(sets[0].file).filename() == "a.so");
    auto dead = host.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].name == "test-good");
    CHECK(dead[0].causeClass == "DuplicateProvider");
    CHECK(dead[0].message.find("test-duplicate") != std::string::npos);
}

TEST_CASE("A set name can be loaded once", "[plugin-host]") {
    Harness harness;
    TempDir copy;
    fs::copy_file(pluginFile("good"), copy.path() / "good-copy.so");
    PluginHost host(harness.options());
    host.loadLibrary(pluginFile("good"));
    host.loadLibrary(copy.path() / "good-copy.so");
    REQUIRE(host.sets().size() == 1);
    auto dead = host.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].causeClass == "DuplicateSet");
    CHECK(dead[0].name == "test-good");
    checkGoodSetWorks(host);
}

namespace {

// A statically linked set, as built-ins and unit tests add them.
class StaticSet final : public sdk::PluginSet {
public:
    StaticSet(sdk::HostServices* host, std::string name, bool throwOnShutdown = false)
        : host_(host), name_(std::move(name)), throwOnShutdown_(throwOnShutdown) {}
    std::string name() const override { return name_; }
    std::vector<sdk::WebServiceProvider*> webServiceProviders() override { return {&web_}; }
    void shutdown() override {
        if (host_ != nullptr) host_->log(sdk::LogLevel::Information, "shutdown");
        if (throwOnShutdown_) throw sdk::Error(sdk::ErrorCode::Internal, "test: shutdown failed");
    }

private:
    class Web final : public sdk::WebServiceProvider {
    public:
        std::string name() const override { return "static-web"; }
        std::vector<sdk::WebRoute> routes() override { return {}; }
    };
    sdk::HostServices* host_;
    std::string name_;
    bool throwOnShutdown_;
    Web web_;
};

}  // namespace

TEST_CASE("Shutdown runs in reverse load order, then destroys, and is idempotent", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());
    host.loadLibrary(pluginFile("good"));
    host.addSet("test-static", [](sdk::HostServices& services) {
        return std::make_unique<StaticSet>(&services, "test-static");
    }, "0.1");
    REQUIRE(host.sets().size() == 2);
    CHECK(host.sets()[1].version == "0.1");
    CHECK(host.sets()[1].file.empty());

    host.shutdown();
    auto order = harness.linesContaining("] shutdown");
    REQUIRE(order.size() == 2);
    CHECK(order[0] == "[test-static] shutdown");
    CHECK(order[1] == "[test-good] shutdown");
    // The good set was shut down, then destroyed (its library still loaded at that point).
    CHECK(readFile(harness.data.path() / "test-good" / "events.log") == "configured Hello\nshutdown\ndestroyed\n");
    CHECK(host.sets().empty());
    CHECK(host.registry().list().empty());

    host.shutdown();
    CHECK(harness.linesContaining("] shutdown").size() == 2);
}

TEST_CASE("The destructor shuts down, and a throwing shutdown is logged while the others still run", "[plugin-host]") {
    Harness harness;
    {
        PluginHost host(harness.options());
        host.loadLibrary(pluginFile("good"));
        host.addSet("test-throwing", [](sdk::HostServices& services) {
            return std::make_unique<StaticSet>(&services, "test-throwing", true);
        });
    }
    auto errors = harness.linesAt(sdk::LogLevel::Error);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("test-throwing") != std::string::npos);
    CHECK(errors[0].find("test: shutdown failed") != std::string::npos);
    CHECK(harness.linesContaining("[test-good] shutdown").size() == 1);
}

TEST_CASE("Statically added sets follow the same rules", "[plugin-host]") {
    Harness harness;
    PluginHost host(harness.options());

    SECTION("a ready-made set is registered under its own name") {
        host.addSet(std::make_unique<StaticSet>(nullptr, "builtin"), "9.9");
        REQUIRE(host.sets().size() == 1);
        CHECK(host.sets()[0].name == "builtin");
        CHECK(host.registry().webService("STATIC-WEB") != nullptr);
        CHECK(fs::is_directory(harness.data.path() / "builtin"));

        host.addSet(std::make_unique<StaticSet>(nullptr, "builtin-2"));  // same provider name
        REQUIRE(host.dead().size() == 1);
        CHECK(host.dead()[0].causeClass == "DuplicateProvider");
        CHECK(host.dead()[0].file.empty());
    }

    SECTION("a null set is a programming error") {
        CHECK_THROWS_AS(host.addSet(std::unique_ptr<sdk::PluginSet>{}), sdk::Error);
        CHECK_THROWS_AS(host.addSet("x", PluginHost::SetFactory{}), sdk::Error);
    }

    SECTION("names that would escape the data root are refused") {
        host.addSet("../escape", [](sdk::HostServices& services) {
            return std::make_unique<StaticSet>(&services, "../escape");
        });
        REQUIRE(host.dead().size() == 1);
        CHECK(host.dead()[0].causeClass == "InvalidName");
        CHECK(!fs::exists(harness.data.path().parent_path() / "escape"));
    }

    SECTION("a factory returning nothing, or a set with another name, is dead") {
        host.addSet("empty", [](sdk::HostServices&) { return std::unique_ptr<sdk::PluginSet>{}; });
        host.addSet("asked", [](sdk::HostServices& services) { return std::make_unique<StaticSet>(&services, "got"); });
        auto dead = host.dead();
        REQUIRE(dead.size() == 2);
        CHECK(dead[0].causeClass == "FactoryError");
        CHECK(dead[1].causeClass == "NameMismatch");
        CHECK(host.sets().empty());
    }
}

TEST_CASE("HostServices: prefixed log, data directory, DICOM parser", "[plugin-host]") {
    Harness harness;
    sdk::HostServices* services = nullptr;
    auto capture = [&services](sdk::HostServices& host) {
        services = &host;
        return std::make_unique<StaticSet>(&host, "probe");
    };

    SECTION("without a parser, parseDicom is Unavailable") {
        PluginHost host(harness.options());
        host.addSet("probe", capture);
        REQUIRE(services != nullptr);
        services->log(sdk::LogLevel::Warning, "hello");
        CHECK(harness.linesAt(sdk::LogLevel::Warning) == std::vector<std::string>{"[probe] hello"});
        CHECK(services->dataDirectory() == harness.data.path() / "probe");
        CHECK(fs::is_directory(services->dataDirectory()));
        CHECK(&services->settings() == &harness.settings["probe"]);
        const std::vector<std::uint8_t> bytes{1, 2, 3};
        try {
            services->parseDicom(bytes);
            FAIL("parseDicom without a parser returned");
        } catch (const sdk::Error& error) {
            CHECK(error.code() == sdk::ErrorCode::Unavailable);
        }
    }

    SECTION("with a parser, parseDicom hands the bytes over") {
        auto options = harness.options();
        std::size_t seen = 0;
        options.parseDicom = [&seen](std::span<const std::uint8_t> bytes) -> std::unique_ptr<sdk::DicomObjectView> {
            seen = bytes.size();
            return std::make_unique<MapView>(std::map<std::string, std::string>{{"Modality", "US"}});
        };
        PluginHost host(options);
        host.addSet("probe", capture);
        REQUIRE(services != nullptr);
        const std::vector<std::uint8_t> bytes(132, 0);
        auto view = services->parseDicom(bytes);
        CHECK(seen == 132);
        CHECK(view->getOr("Modality") == "US");
    }

    SECTION("without a data root, dataDirectory is Unavailable") {
        auto options = harness.options();
        options.dataRoot.clear();
        PluginHost host(options);
        host.addSet("probe", capture);
        REQUIRE(services != nullptr);
        CHECK_THROWS_AS(services->dataDirectory(), sdk::Error);
    }

    SECTION("a data root that cannot hold directories makes the set dead") {
        auto options = harness.options();
        { std::ofstream(harness.data.path() / "a-file") << "x"; }
        options.dataRoot = harness.data.path() / "a-file";
        PluginHost host(options);
        host.addSet("probe", capture);
        REQUIRE(host.dead().size() == 1);
        CHECK(host.dead()[0].causeClass == "DataDirError");
        CHECK(services == nullptr);  // the factory was never called
    }
}
