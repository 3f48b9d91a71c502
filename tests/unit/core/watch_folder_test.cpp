// The watch folder over a real temp directory and real inotify: what reaches the index and
// unindex functions for files written, renamed in, deleted, moved out, in new subdirectories, in
// a burst; starting, moving and stopping; bad folders. Then the whole chain with the real `file`
// storage and `xapian` index modules: IndexService::indexItems() and unindex() with their hooks.

#include "tessera/core/watch_folder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/query_provider.hpp"
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

// Collects what the watcher hands over.
struct Recorder {
    std::mutex mutex;
    std::vector<std::vector<std::string>> indexBatches, unindexBatches;

    WatchFolder::UriBatchFunction indexFunction() {
        return [this](const std::vector<sdk::Uri>& uris) { record(indexBatches, uris); };
    }
    WatchFolder::UriBatchFunction unindexFunction() {
        return [this](const std::vector<sdk::Uri>& uris) { record(unindexBatches, uris); };
    }
    void record(std::vector<std::vector<std::string>>& into, const std::vector<sdk::Uri>& uris) {
        std::vector<std::string> texts;
        for (const auto& uri : uris) texts.push_back(uri.str());
        std::lock_guard lock(mutex);
        into.push_back(std::move(texts));
    }
    static std::multiset<std::string> flat(const std::vector<std::vector<std::string>>& batches) {
        std::multiset<std::string> all;
        for (const auto& batch : batches) all.insert(batch.begin(), batch.end());
        return all;
    }
    std::multiset<std::string> indexed() {
        std::lock_guard lock(mutex);
        return flat(indexBatches);
    }
    std::multiset<std::string> unindexed() {
        std::lock_guard lock(mutex);
        return flat(unindexBatches);
    }
    void clear() {
        std::lock_guard lock(mutex);
        indexBatches.clear();
        unindexBatches.clear();
    }
};

WatchFolderOptions quickOptions() {
    WatchFolderOptions options;
    options.quietPeriod = 100ms;
    options.maxDelay = 1000ms;
    options.log = [](sdk::LogLevel, const std::string&) {};
    return options;
}

std::string uriOf(const fs::path& path) { return WatchFolder::fileUri(path).str(); }

void writeFile(const fs::path& path, const std::string& content = "not really DICOM") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// Polls until `predicate` holds (the watcher works on its own threads).
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!predicate()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

}  // namespace

TEST_CASE("fileUri encodes like the file storage plugin", "[watch]") {
    CHECK(WatchFolder::fileUri("/a/b.dcm").str() == "file:/a/b.dcm");
    CHECK(WatchFolder::fileUri("/in coming/é#1%.dcm").str() == "file:/in%20coming/%C3%A9%231%25.dcm");
    CHECK(WatchFolder::fileUri("//x/y").str() == "file:/x/y");
    CHECK_THROWS_AS(WatchFolder::fileUri("relative/x"), sdk::Error);
}

TEST_CASE("bad folders are refused and leave nothing watched", "[watch]") {
    TempDir dir("tessera-watch-");
    Recorder recorder;
    WatchFolder watcher(recorder.indexFunction(), recorder.unindexFunction(), quickOptions());
    watcher.watch(dir.path());
    REQUIRE(watcher.folder() == dir.path());

    auto codeOf = [&](const fs::path& folder) {
        try {
            watcher.watch(folder);
        } catch (const sdk::Error& e) {
            return e.code();
        }
        FAIL("no error for " << folder);
        return sdk::ErrorCode::Internal;
    };
    CHECK(codeOf("relative/dir") == sdk::ErrorCode::InvalidArgument);
    CHECK_FALSE(watcher.folder());
    CHECK(codeOf(dir.path() / "missing") == sdk::ErrorCode::NotFound);
    writeFile(dir.path() / "plain.txt");
    CHECK(codeOf(dir.path() / "plain.txt") == sdk::ErrorCode::InvalidArgument);
    CHECK_FALSE(watcher.folder());

    // configure(): off or no folder = stopped, without error.
    watcher.configure(true, dir.path());
    CHECK(watcher.folder() == dir.path());
    watcher.configure(false, dir.path());
    CHECK_FALSE(watcher.folder());
    watcher.configure(true, "");
    CHECK_FALSE(watcher.folder());
}

TEST_CASE("files written, renamed in, deleted and moved out reach index and unindex", "[watch]") {
    TempDir dir("tessera-watch-");
    const fs::path root = dir.path() / "in";
    writeFile(root / "before" / "old.dcm");  // there before watching: the start scan finds it
    writeFile(root / ".hidden.dcm");
    Recorder recorder;
    WatchFolder watcher(recorder.indexFunction(), recorder.unindexFunction(), quickOptions());
    watcher.watch(root);
    REQUIRE(watcher.waitIdle(10s));
    CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(root / "before" / "old.dcm")});
    recorder.clear();

    SECTION("written in place, in a new subdirectory, renamed in from outside and from a hidden name") {
        writeFile(root / "a.dcm");
        writeFile(root / "new" / "deeper" / "b.dcm");  // directories made and filled at once
        writeFile(dir.path() / "outside.dcm");
        fs::rename(dir.path() / "outside.dcm", root / "c.dcm");
        writeFile(root / ".partial");
        fs::rename(root / ".partial", root / "d.dcm");
        REQUIRE(eventually([&] { return recorder.indexed().size() >= 4; }));
        REQUIRE(watcher.waitIdle(10s));
        CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(root / "a.dcm"),
                                                               uriOf(root / "new" / "deeper" / "b.dcm"),
                                                               uriOf(root / "c.dcm"), uriOf(root / "d.dcm")});
        CHECK(recorder.unindexed().empty());
    }

    SECTION("a file still open for writing is not read before it is closed") {
        {
            std::ofstream open(root / "slow.dcm", std::ios::binary);
            open << "part one";
            open.flush();
            std::this_thread::sleep_for(600ms);  // well past the quiet period
            CHECK(recorder.indexed().empty());
        }
        REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));
        CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(root / "slow.dcm")});
    }

    SECTION("deleted files and a directory moved out are unindexed; a moved-out tree is no longer watched") {
        writeFile(root / "sub" / "x.dcm");
        writeFile(root / "sub" / "y" / "z.dcm");
        REQUIRE(eventually([&] { return recorder.indexed().size() >= 2; }));
        REQUIRE(watcher.waitIdle(10s));
        recorder.clear();

        fs::remove(root / "before" / "old.dcm");
        fs::rename(root / "sub", dir.path() / "sub-moved");
        REQUIRE(eventually([&] { return recorder.unindexed().size() >= 3; }));
        REQUIRE(watcher.waitIdle(10s));
        CHECK(recorder.unindexed() == std::multiset<std::string>{uriOf(root / "before" / "old.dcm"),
                                                                 uriOf(root / "sub" / "x.dcm"),
                                                                 uriOf(root / "sub" / "y" / "z.dcm")});
        // Writing into the moved tree is not the watch folder's business any more.
        writeFile(dir.path() / "sub-moved" / "y" / "late.dcm");
        std::this_thread::sleep_for(400ms);
        REQUIRE(watcher.waitIdle(10s));
        CHECK(recorder.indexed().empty());
    }

    SECTION("a directory moved within the folder is unindexed at its old place and indexed at the new") {
        writeFile(root / "one" / "f.dcm");
        REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));
        REQUIRE(watcher.waitIdle(10s));
        recorder.clear();
        fs::rename(root / "one", root / "two");
        REQUIRE(eventually([&] { return !recorder.indexed().empty() && !recorder.unindexed().empty(); }));
        CHECK(recorder.unindexed() == std::multiset<std::string>{uriOf(root / "one" / "f.dcm")});
        CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(root / "two" / "f.dcm")});
        // And the new place is watched.
        recorder.clear();
        writeFile(root / "two" / "g.dcm");
        REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));
        CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(root / "two" / "g.dcm")});
    }
}

TEST_CASE("a burst of 1,000 files arrives complete in a few batches", "[watch]") {
    TempDir dir("tessera-watch-");
    Recorder recorder;
    WatchFolder watcher(recorder.indexFunction(), recorder.unindexFunction(), quickOptions());
    watcher.watch(dir.path());
    REQUIRE(watcher.waitIdle(10s));

    std::multiset<std::string> expected;
    for (int i = 0; i < 1000; ++i) {
        // Built with append: g++ 12 warns (-Wrestrict) about "literal" + std::to_string here.
        std::string subdir = "d", name = "f";
        subdir.append(std::to_string(i % 7));
        name.append(std::to_string(i)).append(".dcm");
        const auto file = dir.path() / subdir / name;
        writeFile(file);
        expected.insert(uriOf(file));
    }
    REQUIRE(eventually([&] { return recorder.indexed().size() >= 1000; }, 30s));
    REQUIRE(watcher.waitIdle(10s));
    CHECK(recorder.indexed() == expected);  // each exactly once
    const auto stats = watcher.stats();
    CHECK(stats.indexedUris == 1000);
    CHECK(stats.indexBatches <= 10);
    CHECK(stats.overflows == 0);
}

TEST_CASE("moving the folder watches the new one only, stopping ends all indexing", "[watch]") {
    TempDir dir("tessera-watch-");
    const fs::path first = dir.path() / "first", second = dir.path() / "second";
    fs::create_directories(first);
    fs::create_directories(second);
    writeFile(second / "waiting.dcm");
    Recorder recorder;
    WatchFolder watcher(recorder.indexFunction(), recorder.unindexFunction(), quickOptions());
    watcher.configure(true, first);
    REQUIRE(watcher.waitIdle(10s));
    watcher.configure(true, first);  // the same folder again: nothing restarts, nothing rescanned
    writeFile(first / "a.dcm");
    REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));
    REQUIRE(watcher.waitIdle(10s));
    CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(first / "a.dcm")});
    recorder.clear();

    watcher.configure(true, second);
    CHECK(watcher.folder() == second);
    REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));  // its start scan
    writeFile(first / "ignored.dcm");
    writeFile(second / "b.dcm");
    REQUIRE(eventually([&] { return recorder.indexed().size() >= 2; }));
    REQUIRE(watcher.waitIdle(10s));
    CHECK(recorder.indexed() == std::multiset<std::string>{uriOf(second / "waiting.dcm"), uriOf(second / "b.dcm")});
    recorder.clear();

    watcher.configure(false, second);
    CHECK_FALSE(watcher.folder());
    writeFile(second / "c.dcm");
    fs::remove(second / "b.dcm");
    std::this_thread::sleep_for(500ms);
    CHECK(recorder.indexed().empty());
    CHECK(recorder.unindexed().empty());
}

TEST_CASE("the watched folder itself going away unindexes what it held", "[watch]") {
    TempDir dir("tessera-watch-");
    const fs::path root = dir.path() / "in";
    writeFile(root / "a.dcm");
    Recorder recorder;
    WatchFolder watcher(recorder.indexFunction(), recorder.unindexFunction(), quickOptions());
    watcher.watch(root);
    REQUIRE(eventually([&] { return !recorder.indexed().empty(); }));
    REQUIRE(watcher.waitIdle(10s));
    fs::rename(root, dir.path() / "elsewhere");
    REQUIRE(eventually([&] { return !recorder.unindexed().empty(); }));
    CHECK(recorder.unindexed() == std::multiset<std::string>{uriOf(root / "a.dcm")});
    CHECK(eventually([&] { return !watcher.folder().has_value(); }));
}

// --- The whole chain: watcher → IndexService::indexItems / unindex → real file + xapian. ---

namespace {

struct IndexHarness {
    explicit IndexHarness(const fs::path& watchRoot) {
        host = tessera::test::makeLocalPluginHost(kModules, data.path(), watchRoot.string(), settings);
        REQUIRE(host->dead().empty());
        IndexServiceOptions options;
        options.log = [](sdk::LogLevel, const std::string&) {};
        options.onIndexed = [this](const sdk::Uri& uri, const sdk::DicomObjectView& object) {
            std::lock_guard lock(hookMutex);
            hookIndexed[uri.str()] = object.get("SOPInstanceUID").value_or("");
        };
        options.onUnindexed = [this](const std::vector<sdk::Uri>& uris) {
            std::lock_guard lock(hookMutex);
            for (const auto& uri : uris) hookUnindexed.insert(uri.str());
        };
        service = std::make_unique<IndexService>(host->registry(), tasks, options);
    }
    ~IndexHarness() {
        service->shutdown();
        host->shutdown();
    }

    std::size_t count(const std::string& sopInstanceUid) {
        sdk::QueryRequest request;
        request.query = sdk::TermQuery{"SOPInstanceUID", sopInstanceUid};
        request.fields = {"SOPInstanceUID"};
        return host->registry().query("xapian")->query(request).total;
    }

    TempDir data{"tessera-watch-index-"};
    std::map<std::string, MemorySettingsSection> settings;
    std::unique_ptr<PluginHost> host;
    TaskManager tasks;
    std::unique_ptr<IndexService> service;
    std::mutex hookMutex;
    std::map<std::string, std::string> hookIndexed;
    std::set<std::string> hookUnindexed;
};

// A few core samples with their SOP Instance UIDs (read here, so the test needs no table).
std::vector<std::pair<fs::path, std::string>> someSamples(std::size_t count) {
    std::vector<std::pair<fs::path, std::string>> found;
    for (const auto& entry : fs::directory_iterator(kSamples / "images")) {
        if (!entry.is_regular_file()) continue;
        auto result = readDicomFile(entry.path());
        if (result.status != DicomReadStatus::Ok) continue;
        auto uid = result.object->get("SOPInstanceUID");
        if (!uid || uid->empty()) continue;
        found.emplace_back(entry.path(), *uid);
        if (found.size() == count) break;
    }
    return found;
}

}  // namespace

TEST_CASE("watched files are searchable, deleted ones are gone, without any task", "[watch][index]") {
    TempDir dir("tessera-watch-");
    const fs::path root = dir.path() / "incoming";
    fs::create_directories(root);
    IndexHarness harness(dir.path());
    WatchFolder watcher([&](const std::vector<sdk::Uri>& uris) { harness.service->indexItems(uris); },
                        [&](const std::vector<sdk::Uri>& uris) { harness.service->unindex(uris, {}); }, quickOptions());
    watcher.watch(root);

    const auto samples = someSamples(3);
    REQUIRE(samples.size() == 3);
    for (const auto& [file, uid] : samples) fs::copy_file(file, root / file.filename());
    writeFile(root / "notes.txt", "not DICOM");  // an error for the indexer, not for the watcher
    for (const auto& [file, uid] : samples) REQUIRE(eventually([&] { return harness.count(uid) == 1; }));
    CHECK(harness.tasks.list().empty());
    {
        std::lock_guard lock(harness.hookMutex);
        for (const auto& [file, uid] : samples)
            CHECK(harness.hookIndexed[uriOf(root / file.filename())] == uid);
        CHECK(harness.hookIndexed.count(uriOf(root / "notes.txt")) == 0);
    }

    fs::remove(root / samples[0].first.filename());
    REQUIRE(eventually([&] { return harness.count(samples[0].second) == 0; }));
    CHECK(harness.count(samples[1].second) == 1);
    // The hook runs right after the indexers' commit, so it may trail the search by a moment.
    CHECK(eventually([&] {
        std::lock_guard lock(harness.hookMutex);
        return harness.hookUnindexed.count(uriOf(root / samples[0].first.filename())) == 1;
    }));
}

TEST_CASE("indexItems counts what it cannot read and refuses nothing by throwing", "[watch][index]") {
    TempDir dir("tessera-watch-");
    IndexHarness harness(dir.path());
    const auto samples = someSamples(1);
    REQUIRE(samples.size() == 1);
    fs::copy_file(samples[0].first, dir.path() / "good.dcm");
    writeFile(dir.path() / "bad.dcm", "garbage");
    const auto report = harness.service->indexItems({WatchFolder::fileUri(dir.path() / "good.dcm"),
                                                     WatchFolder::fileUri(dir.path() / "bad.dcm"),
                                                     WatchFolder::fileUri(dir.path() / "missing.dcm"),
                                                     WatchFolder::fileUri(kSamples / "outside-the-roots.dcm"),
                                                     sdk::Uri::parse("nostorage:/x")});
    CHECK(report.indexed == 1);
    CHECK(report.errors == 4);
    CHECK(harness.count(samples[0].second) == 1);
    CHECK(harness.service->indexItems({}).indexed == 0);
    harness.service->shutdown();
    CHECK_THROWS_AS(harness.service->indexItems({WatchFolder::fileUri(dir.path() / "good.dcm")}), sdk::Error);
}
