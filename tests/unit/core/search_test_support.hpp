#pragma once
// Shared by the QueryService and DIM tests: a real plugin host with two real query providers
// loaded from shared libraries — `test-memory` (tests/plugins/good) and `xapian` (the plugin the
// server ships) — real server settings in a temp dir, and real sample files indexed into both.

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/test/temp_dir.hpp"

namespace search_test {

namespace fs = std::filesystem;
namespace sdk = tessera::sdk;
namespace core = tessera::core;

using tessera::test::TempDir;

inline fs::path samples() {
    return fs::weakly_canonical(fs::path(TESSERA_SAMPLES_DIR));
}

inline std::string uriOf(const std::string& relative) {
    return "file:" + (samples() / relative).string();
}

/// The corpus, in indexing order. Patients (DIM keys): 1CT1, 4MR1, 8NM1 (two images of one
/// series), "" (no ID, no name), 123565 (five images of one MR series, no name).
inline const std::vector<std::string>& corpus() {
    static const std::vector<std::string> files = {
        "images/CT_small.dcm",        "images/MR_small.dcm",     "images/NM_JPGExtended.dcm", "images/NM_JPEG2000.dcm",
        "images/SC_rgb_implicit.dcm", "series/MR_brain_001.dcm", "series/MR_brain_002.dcm",   "series/MR_brain_003.dcm",
        "series/MR_brain_004.dcm",    "series/MR_brain_005.dcm"};
    return files;
}

struct Harness {
    TempDir dir;
    std::unique_ptr<core::ServerSettings> settings = core::ServerSettings::open(dir.path() / "server.xml");
    std::map<std::string, core::MemorySettingsSection> sections;
    std::unique_ptr<core::PluginHost> host;
    std::unique_ptr<core::QueryService> service;

    Harness() {
        core::PluginHostOptions options;
        options.dataRoot = dir.path() / "plugin-data";
        options.settingsFor = [this](const std::string& set) -> sdk::SettingsSection& { return sections[set]; };
        options.log = [](sdk::LogLevel, const std::string&) {};
        // One xapian shard: these tests compare ordered answers with test-memory's insertion
        // order, which a sharded index does not keep (shard order is tested with the plugin).
        sections["xapian"].set("shards", "1");
        host = std::make_unique<core::PluginHost>(std::move(options));
        host->loadLibrary(fs::path(TESSERA_TEST_PLUGIN_DIR) / "good" / "tessera-test-good.so");
        host->loadLibrary(fs::path(TESSERA_PLUGIN_MODULE_DIR) / "tessera-xapian.so");
        REQUIRE(host->dead().empty());
        REQUIRE(host->registry().query("test-memory") != nullptr);
        REQUIRE(host->registry().query("xapian") != nullptr);
        service = std::make_unique<core::QueryService>(host->registry(), *settings);
    }
    ~Harness() { host->shutdown(); }

    /// Reads each file once and indexes it into every index provider, then commits.
    void index(const std::vector<std::string>& files = corpus()) {
        std::vector<std::unique_ptr<sdk::DicomObjectView>> views;
        std::vector<sdk::IndexItem> items;
        for (const auto& file : files) {
            auto read = core::readDicomFile(samples() / file);
            REQUIRE(read.status == core::DicomReadStatus::Ok);
            items.push_back({sdk::Uri::parse(uriOf(file)), read.object.get()});
            views.push_back(std::move(read.object));
        }
        for (const char* name : {"test-memory", "xapian"}) {
            auto* index = host->registry().index(name);
            REQUIRE(index != nullptr);
            const auto report = index->index(items);
            REQUIRE(report.indexed == items.size());
            index->commit();
        }
    }
};

inline std::vector<std::string> uris(const std::vector<sdk::SearchResult>& results) {
    std::vector<std::string> out;
    for (const auto& result : results) out.push_back(result.uri.str());
    return out;
}

}  // namespace search_test
