// The built tessera-sqlite.so through the host's real plugin loader: it loads, offers one index
// and one query provider named `sqlite`, keeps its index under its data directory, starts
// disabled (so it does not double the work of the default `xapian` provider) and works once
// enabled.

#include <catch2/catch.hpp>

#include <filesystem>

#include "sqlite_test_support.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/provider_registry.hpp"

using namespace sqlite_test;

TEST_CASE("the sqlite module loads through the host and answers once enabled", "[sqlite][plugin]") {
    TempDir data;
    tessera::core::PluginHostOptions options;
    options.dataRoot = data.path() / "plugin-data";
    {
        tessera::core::PluginHost host(options);
        host.loadLibrary(std::filesystem::path(TESSERA_PLUGIN_MODULE_DIR) / "tessera-sqlite.so");
        for (const auto& dead : host.dead()) FAIL_CHECK(dead.causeClass << ": " << dead.message);
        REQUIRE(host.dead().empty());
        auto* indexer = host.registry().index("sqlite");
        auto* searcher = host.registry().query("sqlite");
        REQUIRE(indexer != nullptr);
        REQUIRE(searcher != nullptr);
        CHECK(indexer->name() == "sqlite");
        CHECK_FALSE(indexer->isEnabled());
        CHECK(std::filesystem::exists(data.path() / "plugin-data" / "sqlite" / "index.sqlite"));

        REQUIRE(indexer->enable());
        auto corpus = makeCorpus();
        REQUIRE(indexAll(*indexer, corpus).indexed == corpus.size());
        CHECK(count(*searcher, "PatientName:smith") == 9);
        CHECK(count(*searcher, "StudyDate:[20150101 TO 20151231]") == 16);
        host.shutdown();
    }
    // The index outlives the server: a second host reads what the first wrote.
    tessera::core::PluginHost again(options);
    again.loadLibrary(std::filesystem::path(TESSERA_PLUGIN_MODULE_DIR) / "tessera-sqlite.so");
    REQUIRE(again.dead().empty());
    auto* searcher = again.registry().query("sqlite");
    REQUIRE(searcher != nullptr);
    CHECK(count(*searcher, "*:*") == 20);
}
