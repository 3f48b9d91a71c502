// The thumbnail store over a real temp directory, with a real renderer: DCMTK's dcm2pnm
// command-line tool writing PNG (the imaging module's renderThumbnailPng takes its place in the
// server). Then the index-time hooks with the real `file` storage and `xapian` index modules:
// thumbnails made by an index task when enabled, none when disabled, removed on unindex.

#include "tessera/core/thumbnail_store.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <unistd.h>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/core/thumbnail_indexing.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"
#include "local_plugin_host.hpp"

namespace fs = std::filesystem;
namespace sdk = tessera::sdk;
using namespace tessera::core;
using namespace std::chrono_literals;
using tessera::test::TempDir;

namespace {

const fs::path kSamples = fs::canonical(TESSERA_SAMPLES_DIR);
const fs::path kModules = TESSERA_PLUGIN_MODULE_DIR;

std::string quoted(const fs::path& path) {
    std::string out = "'";
    for (char c : path.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A real renderer: dcm2pnm to PNG, the x axis scaled to `size`.
std::vector<std::uint8_t> renderWithDcm2pnm(const fs::path& file, unsigned size) {
    static std::atomic<unsigned> counter{0};
    const fs::path out = fs::temp_directory_path() / ("tessera-thumb-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(counter++) + ".png");
    const std::string command =
        "dcm2pnm --quiet +on +Sxv " + std::to_string(size) + " " + quoted(file) + " " + quoted(out) + " 2>/dev/null";
    const int status = std::system(command.c_str());
    std::ifstream in(out, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::error_code ignored;
    fs::remove(out, ignored);
    if (status != 0 || bytes.empty())
        throw sdk::Error(sdk::ErrorCode::Unsupported, "dcm2pnm cannot render " + file.string());
    return bytes;
}

std::uint32_t pngWidth(const std::vector<std::uint8_t>& png) {
    REQUIRE(png.size() > 24);
    return (std::uint32_t{png[16]} << 24) | (std::uint32_t{png[17]} << 16) | (std::uint32_t{png[18]} << 8) | png[19];
}

const std::vector<std::uint8_t> kTinyPng = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 0};

sdk::Uri uri(const std::string& text) { return sdk::Uri::parse(text); }

std::size_t pngCount(const fs::path& dir) {
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(dir)) count += entry.path().extension() == ".png";
    return count;
}

}  // namespace

TEST_CASE("thumbnail store: names, put, get, remove, clear", "[thumbnails]") {
    TempDir dir("tessera-thumbs-");
    ThumbnailStore store(dir.path() / "thumbnails");
    REQUIRE(fs::is_directory(dir.path() / "thumbnails"));
    CHECK_FALSE(store.canRender());

    const auto a = uri("file:/archive/a.dcm"), b = uri("file:/archive/b.dcm");
    const auto pathA = store.pathFor(a);
    CHECK(pathA.parent_path() == dir.path() / "thumbnails");
    CHECK(std::regex_match(pathA.filename().string(), std::regex("[0-9a-f]{64}\\.png")));
    CHECK(store.pathFor(uri("file:/archive/a.dcm")) == pathA);
    CHECK(store.pathFor(b) != pathA);

    CHECK_FALSE(store.get(a));
    store.put(a, kTinyPng);
    REQUIRE(store.get(a));
    CHECK(*store.get(a) == kTinyPng);
    CHECK_FALSE(store.get(b));

    // Not a PNG: refused, nothing written; a damaged file on disk is not served.
    CHECK_THROWS_AS(store.put(b, std::vector<std::uint8_t>{'G', 'I', 'F', '8'}), sdk::Error);
    CHECK_THROWS_AS(store.put(b, std::vector<std::uint8_t>{}), sdk::Error);
    CHECK_FALSE(fs::exists(store.pathFor(b)));
    std::ofstream(store.pathFor(b)) << "garbage";
    CHECK_FALSE(store.get(b));

    CHECK(store.remove({a, uri("file:/never/stored.dcm")}) == 1);
    CHECK_FALSE(store.get(a));
    store.put(a, kTinyPng);
    std::ofstream(dir.path() / "thumbnails" / "keep.txt") << "not ours";
    CHECK(store.clear() == 2);  // a's PNG and b's damaged one
    CHECK(fs::exists(dir.path() / "thumbnails" / "keep.txt"));
    CHECK_FALSE(store.make(a, kSamples / "images" / "CT_small.dcm", 64));  // no renderer
    CHECK(pngCount(dir.path() / "thumbnails") == 0);
}

TEST_CASE("thumbnail store: make() with a real renderer, and files it cannot render", "[thumbnails]") {
    TempDir dir("tessera-thumbs-");
    ThumbnailStore store(dir.path(), renderWithDcm2pnm);
    REQUIRE(store.canRender());
    const auto ct = uri("file:/ct.dcm");
    REQUIRE(store.make(ct, kSamples / "images" / "CT_small.dcm", 48));
    CHECK(pngWidth(*store.get(ct)) == 48);
    REQUIRE(store.make(ct, kSamples / "images" / "CT_small.dcm", 32));  // made again: replaced
    CHECK(pngWidth(*store.get(ct)) == 32);

    const auto sr = uri("file:/sr.dcm");
    CHECK_FALSE(store.make(sr, kSamples / "non-image" / "SR_basic_text.dcm", 48));  // no pixel data
    CHECK_FALSE(store.make(sr, dir.path() / "missing.dcm", 48));
    CHECK_FALSE(store.get(sr));
    CHECK(pngCount(dir.path()) == 1);
}

namespace {

struct ThumbnailHarness {
    explicit ThumbnailHarness(const fs::path& root) {
        host = tessera::test::makeLocalPluginHost(kModules, data.path(), root.string(), settings);
        REQUIRE(host->dead().empty());
        store = std::make_unique<ThumbnailStore>(data.path() / "thumbnails", renderWithDcm2pnm);
        IndexServiceOptions options;
        options.log = [](sdk::LogLevel, const std::string&) {};
        options.onUnindexed = [this](const std::vector<sdk::Uri>& uris) { earlierHookCalls += uris.size(); };
        addThumbnailHooks(
            options, *store, host->registry(), [this] { return enabled.load(); }, [this] { return size.load(); });
        service = std::make_unique<IndexService>(host->registry(), tasks, options);
    }
    ~ThumbnailHarness() {
        service->shutdown();
        host->shutdown();
    }

    void indexAndWait(const fs::path& folder) {
        auto started = service->index({sdk::Uri::parse("file:" + folder.string())}, {});
        REQUIRE(started.size() == 1);
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (!tasks.find(started[0].uid)->done) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(10ms);
        }
    }

    TempDir data{"tessera-thumb-index-"};
    std::map<std::string, MemorySettingsSection> settings;
    std::unique_ptr<PluginHost> host;
    std::unique_ptr<ThumbnailStore> store;
    TaskManager tasks;
    std::unique_ptr<IndexService> service;
    std::atomic<bool> enabled{true};
    std::atomic<unsigned> size{40};
    std::atomic<std::size_t> earlierHookCalls{0};
};

}  // namespace

TEST_CASE("thumbnails at index time: made when enabled, at the size set, removed on unindex", "[thumbnails][index]") {
    TempDir folder("tessera-thumb-corpus-");
    for (const auto* name : {"images/CT_small.dcm", "images/MR_small.dcm", "non-image/SR_basic_text.dcm"})
        fs::copy_file(kSamples / name, folder.path() / fs::path(name).filename());
    const auto ct = sdk::Uri::parse("file:" + (folder.path() / "CT_small.dcm").string());
    const auto mr = sdk::Uri::parse("file:" + (folder.path() / "MR_small.dcm").string());
    const auto sr = sdk::Uri::parse("file:" + (folder.path() / "SR_basic_text.dcm").string());
    ThumbnailHarness harness(folder.path());

    SECTION("enabled") {
        harness.indexAndWait(folder.path());
        REQUIRE(harness.store->get(ct));
        CHECK(pngWidth(*harness.store->get(ct)) == 40);
        CHECK(harness.store->get(mr));
        CHECK_FALSE(harness.store->get(sr));  // nothing to render: indexed all the same
        CHECK(pngCount(harness.data.path() / "thumbnails") == 2);

        const auto report = harness.service->unindex({ct, sr}, {});
        CHECK(report.removed == 2);
        CHECK(harness.earlierHookCalls == 2);  // a hook set before is kept, and runs
        CHECK_FALSE(harness.store->get(ct));
        CHECK(harness.store->get(mr));
    }
    SECTION("disabled") {
        harness.enabled = false;
        harness.indexAndWait(folder.path());
        CHECK(pngCount(harness.data.path() / "thumbnails") == 0);
    }
    SECTION("objects indexed one by one (C-STORE) get theirs too") {
        auto parsed = readDicomFile(folder.path() / "MR_small.dcm");
        REQUIRE(parsed.status == DicomReadStatus::Ok);
        harness.size = 24;
        CHECK(harness.service->indexObject(mr, *parsed.object).indexed == 1);
        REQUIRE(harness.store->get(mr));
        CHECK(pngWidth(*harness.store->get(mr)) == 24);
    }
}
