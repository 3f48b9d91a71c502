// The index service over real parts: the built `file` storage and `xapian` index modules (and
// the `test-good` set's in-memory index) loaded by the PluginHost, the shared sample corpus, and
// a synthetic corpus written here. The only addition is a storage provider that forwards to the
// real `file` one under the `counted` scheme and counts reads, so "each file is read once" can be
// checked.

#include "tessera/core/index_service.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/plugin_set.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"
#include "local_plugin_host.hpp"

namespace fs = std::filesystem;
namespace sdk = tessera::sdk;
using namespace tessera::core;
using namespace std::chrono_literals;

namespace {

const fs::path kSamples = fs::canonical(TESSERA_SAMPLES_DIR);
const fs::path kModules = TESSERA_PLUGIN_MODULE_DIR;
const fs::path kTestPlugins = TESSERA_TEST_PLUGIN_DIR;

using tessera::test::TempDir;

// --- The MANIFEST: group of each sample file. ---

std::map<std::string, std::string> manifestGroups() {
    std::map<std::string, std::string> groups;
    for (const auto& row : tessera::test::Manifest::samples().rows()) groups[row.file()] = row.group();
    return groups;
}

// The shared expectation (tests/support) in the reader's own terms.
tessera::core::DicomReadStatus toReadStatus(tessera::test::SampleReadOutcome outcome) {
    switch (outcome) {
        case tessera::test::SampleReadOutcome::Ok: return tessera::core::DicomReadStatus::Ok;
        case tessera::test::SampleReadOutcome::Skipped: return tessera::core::DicomReadStatus::Skipped;
        case tessera::test::SampleReadOutcome::Error: return tessera::core::DicomReadStatus::Error;
    }
    return tessera::core::DicomReadStatus::Error;
}

struct Expected {
    std::size_t files = 0, indexed = 0, skipped = 0, errors = 0;
};

// Expected outcome of indexing everything under `dir` (inside the samples): core, variant and
// DICOMDIR members indexed; DICOMDIR and non-storable skipped; malformed as the reader says;
// files that are not in the MANIFEST (README, licence texts) are not DICOM: errors.
Expected expectedFor(const fs::path& dir) {
    const auto groups = manifestGroups();
    Expected expected;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        ++expected.files;
        const auto relative = fs::relative(entry.path(), kSamples).generic_string();
        const auto group = groups.find(relative);
        if (group == groups.end()) {
            ++expected.errors;
        } else if (group->second == "core" || group->second == "variant") {
            ++expected.indexed;
        } else if (group->second == "dicomdir" || group->second == "non-storable") {
            ++expected.skipped;
        } else {
            REQUIRE(group->second == "malformed");
            const auto status = toReadStatus(tessera::test::malformedSampleOutcomes().at(relative));
            if (status == DicomReadStatus::Ok)
                ++expected.indexed;
            else if (status == DicomReadStatus::Skipped)
                ++expected.skipped;
            else
                ++expected.errors;
        }
    }
    return expected;
}

// --- A storage provider that forwards `counted:` URIs to the real `file` provider. ---

sdk::Uri toFileUri(const sdk::Uri& counted) {
    return sdk::Uri::parse("file:" + std::string(counted.schemeSpecificPart()));
}
sdk::Uri toCountedUri(const sdk::Uri& file) {
    return sdk::Uri::parse("counted:" + std::string(file.schemeSpecificPart()));
}

class CountingStorage final : public sdk::StorageProvider {
public:
    CountingStorage(sdk::HostServices& host, bool offerLocalPath) : host_(host), offerLocalPath_(offerLocalPath) {}
    std::string name() const override { return "counting"; }
    std::string scheme() const override { return "counted"; }

    void enumerate(const sdk::Uri& root, const std::function<bool(const sdk::StorageItem&)>& visit) override {
        file().enumerate(toFileUri(root), [&](const sdk::StorageItem& item) {
            return visit({toCountedUri(item.uri), item.size});
        });
    }
    std::unique_ptr<std::istream> open(const sdk::Uri& uri) override {
        count(uri);
        return file().open(toFileUri(uri));
    }
    std::optional<fs::path> localPath(const sdk::Uri& uri) const override {
        if (!offerLocalPath_) return std::nullopt;
        count(uri);
        return file().localPath(toFileUri(uri));
    }
    sdk::Uri store(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) override {
        return toCountedUri(file().store(object, part10));
    }
    void remove(const sdk::Uri& uri) override { file().remove(toFileUri(uri)); }

    std::map<std::string, int> reads() const {
        std::lock_guard lock(mutex_);
        return reads_;
    }

private:
    sdk::StorageProvider& file() const {
        auto* provider = host_.storageProviderForScheme("file");
        REQUIRE(provider);
        return *provider;
    }
    void count(const sdk::Uri& uri) const {
        std::lock_guard lock(mutex_);
        ++reads_[uri.str()];
    }

    sdk::HostServices& host_;
    bool offerLocalPath_;
    mutable std::mutex mutex_;
    mutable std::map<std::string, int> reads_;
};

class CountingSet final : public sdk::PluginSet {
public:
    CountingSet(sdk::HostServices& host, bool offerLocalPath) : storage_(host, offerLocalPath) {}
    std::string name() const override { return "counting"; }
    std::vector<sdk::StorageProvider*> storageProviders() override { return {&storage_}; }
    CountingStorage storage_;
};

// --- The host with the real plugins, the task manager and the service. ---

struct LogLine {
    sdk::LogLevel level;
    std::string text;
};

struct Harness {
    explicit Harness(std::vector<fs::path> roots = {kSamples}, bool offerLocalPath = true, bool withMemoryIndex = false,
                     IndexServiceOptions options = {}) {
        std::string rootList;
        for (const auto& root : roots) {
            if (!rootList.empty()) rootList += ';';
            rootList += root.string();
        }
        host = tessera::test::makeLocalPluginHost(kModules, data.path(), rootList, settings);
        if (withMemoryIndex) host->loadLibrary(kTestPlugins / "good" / "tessera-test-good.so");
        host->addSet("counting", [this, offerLocalPath](sdk::HostServices& services) {
            auto set = std::make_unique<CountingSet>(services, offerLocalPath);
            counting = &set->storage_;
            return set;
        });
        REQUIRE(host->dead().empty());
        REQUIRE(host->registry().index("xapian"));
        options.log = [this](sdk::LogLevel level, const std::string& text) {
            std::lock_guard lock(logMutex);
            lines.push_back({level, text});
        };
        service = std::make_unique<IndexService>(host->registry(), tasks, options);
        serverSettings = ServerSettings::open(data.path() / "server.xml");
        queries = std::make_unique<QueryService>(host->registry(), *serverSettings);
    }
    ~Harness() {
        service->shutdown();
        host->shutdown();
    }

    TaskInfo waitDone(const std::string& uid, std::chrono::seconds limit = 180s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (true) {
            auto info = tasks.find(uid);
            REQUIRE(info);
            if (info->done) return *info;
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(5ms);
        }
    }

    sdk::QueryResponse query(const std::string& provider, sdk::QueryNode node) {
        sdk::QueryRequest request;
        request.query = std::move(node);
        request.fields = {"SOPInstanceUID"};
        auto* queries = host->registry().query(provider);
        REQUIRE(queries);
        return queries->query(request);
    }

    bool logged(sdk::LogLevel level, const std::string& part) {
        std::lock_guard lock(logMutex);
        for (const auto& line : lines)
            if (line.level == level && line.text.find(part) != std::string::npos) return true;
        return false;
    }

    TempDir data{"tessera-index-service-"};
    std::map<std::string, MemorySettingsSection> settings;
    std::unique_ptr<PluginHost> host;
    CountingStorage* counting = nullptr;
    TaskManager tasks;
    std::mutex logMutex;
    std::vector<LogLine> lines;
    std::unique_ptr<IndexService> service;
    std::unique_ptr<ServerSettings> serverSettings;
    std::unique_ptr<QueryService> queries;
};

sdk::Uri countedUri(const fs::path& path) {
    return sdk::Uri::parse("counted:" + path.string());
}
sdk::Uri fileUri(const fs::path& path) {
    return sdk::Uri::parse("file:" + path.string());
}

// --- A synthetic corpus: small explicit VR little endian Part 10 files with distinct UIDs. ---

std::string u16(std::uint16_t v) {
    return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}
std::string u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v & 0xFFFF)) + u16(static_cast<std::uint16_t>(v >> 16));
}

std::string element(std::uint16_t group, std::uint16_t elem, const std::string& vr, std::string value) {
    if (value.size() % 2 == 1) value.push_back(vr == "UI" || vr == "OB" ? '\0' : ' ');
    const bool longForm = vr == "OB" || vr == "OW" || vr == "SQ" || vr == "UN" || vr == "UT";
    std::string out = u16(group) + u16(elem) + vr;
    out += longForm ? u16(0) + u32(static_cast<std::uint32_t>(value.size()))
                    : u16(static_cast<std::uint16_t>(value.size()));
    return out + value;
}

void writeSyntheticCorpus(const fs::path& dir, int count) {
    const std::string sopClass = "1.2.840.10008.5.1.4.1.1.7";
    for (int i = 0; i < count; ++i) {
        const std::string patient = std::to_string(i / 100), study = std::to_string(i / 20),
                          series = std::to_string(i / 5);
        const std::string sop = std::string("2.25.4242.") + std::to_string(i);
        std::string meta = element(0x0002, 0x0001, "OB", std::string("\0\1", 2)) +
                           element(0x0002, 0x0002, "UI", sopClass) + element(0x0002, 0x0003, "UI", sop) +
                           element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
        meta = element(0x0002, 0x0000, "UL", u32(static_cast<std::uint32_t>(meta.size()))) + meta;
        std::string dataset =
            element(0x0008, 0x0005, "CS", "ISO_IR 192") + element(0x0008, 0x0016, "UI", sopClass) +
            element(0x0008, 0x0018, "UI", sop) +
            element(0x0008, 0x0020, "DA", std::string("2020010") + std::to_string(1 + i % 9)) +
            element(0x0008, 0x0030, "TM", "101010") +
            element(0x0008, 0x0050, "SH", std::string("ACC") + std::to_string(i)) +
            element(0x0008, 0x0060, "CS", i % 2 ? "CT" : "MR") +
            element(0x0008, 0x1030, "LO", "Synthetic study " + study) +
            element(0x0008, 0x103E, "LO", "Synthetic series " + series) +
            element(0x0010, 0x0010, "PN", "Synthetic^Patient" + patient) +
            element(0x0010, 0x0020, "LO", "SYN" + patient) + element(0x0010, 0x0030, "DA", "19700101") +
            element(0x0010, 0x0040, "CS", "O") + element(0x0020, 0x000D, "UI", "2.25.4243." + study) +
            element(0x0020, 0x000E, "UI", "2.25.4244." + series) +
            element(0x0020, 0x0011, "IS", std::to_string(i / 5 % 100)) +
            element(0x0020, 0x0013, "IS", std::to_string(i % 5 + 1)) + element(0x0028, 0x0010, "US", u16(8)) +
            element(0x0028, 0x0011, "US", u16(8)) + element(0x7FE0, 0x0010, "OW", std::string(128, '\x01'));
        const fs::path file = dir / ("P" + patient) / ("S" + study) / (std::string("I") + std::to_string(i) + ".dcm");
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << std::string(128, '\0') << "DICM" << meta << dataset;
    }
}

}  // namespace

TEST_CASE("indexing the samples: counts match the MANIFEST groups and each file is read once", "[index][samples]") {
    Harness harness({kSamples}, true, true);
    const auto expected = expectedFor(kSamples);
    REQUIRE(expected.indexed >= 120);

    const auto started = harness.service->index({countedUri(kSamples)}, {"xapian", "TEST-MEMORY"});
    REQUIRE(started.size() == 1);
    CHECK(started[0].name == "[xapian,test-memory]index counted:" + kSamples.string());
    CHECK_FALSE(started[0].done);

    // Progress is a real fraction on the way, and 1 at the end.
    std::set<double> seen;
    while (true) {
        const auto info = *harness.tasks.find(started[0].uid);
        if (info.done) break;
        seen.insert(info.progress);
        std::this_thread::sleep_for(1ms);
    }
    for (double progress : seen) {
        CHECK(progress >= 0.0);
        CHECK(progress < 1.0);
    }
    const auto done = harness.waitDone(started[0].uid);
    CHECK_FALSE(done.cancelled);
    CHECK(done.progress == 1.0);
    REQUIRE(done.report);
    CHECK(done.report->indexed == expected.indexed);
    CHECK(done.report->skipped == expected.skipped);
    CHECK(done.report->errors == expected.errors);
    CHECK(done.report->elapsed.count() >= 0);

    // Read once: every file exactly one read, for two indexers.
    const auto reads = harness.counting->reads();
    CHECK(reads.size() == expected.files);
    for (const auto& [uri, count] : reads) {
        INFO(uri);
        CHECK(count == 1);
    }

    // Both indexes hold every indexed object.
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == expected.indexed);
    CHECK(harness.query("test-memory", sdk::MatchAllQuery{}).total == expected.indexed);
    const auto hit =
        harness.query("xapian", sdk::TermQuery{"SOPInstanceUID", "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"});
    REQUIRE(hit.results.size() >= 1);
    std::set<std::string> hitUris;
    for (const auto& result : hit.results) hitUris.insert(result.uri.str());
    CHECK(hitUris.count(countedUri(kSamples / "images/CT_small.dcm").str()) == 1);

    // Skips are information, errors warnings, each naming the URI and the reason.
    CHECK(harness.logged(sdk::LogLevel::Information,
                         countedUri(kSamples / "dicomdir/DICOMDIR").str() + ": DICOMDIR is not a storable object"));
    CHECK(harness.logged(
        sdk::LogLevel::Warning,
        "Cannot index " + countedUri(kSamples / "malformed/CT_no_meta_leading_junk_byte.dcm").str() + ": "));
    CHECK(harness.tasks.unfinishedCount() == 0);
}

TEST_CASE("without a local path each item is opened once and parsed from its bytes", "[index][samples]") {
    Harness harness({kSamples}, false);
    for (const char* folder : {"no-preamble", "malformed", "dicomdir"}) {
        INFO(folder);
        const auto expected = expectedFor(kSamples / folder);
        const auto started = harness.service->index({countedUri(kSamples / folder)}, {});
        REQUIRE(started.size() == 1);
        const auto done = harness.waitDone(started[0].uid);
        REQUIRE(done.report);
        CHECK(done.report->indexed == expected.indexed);
        CHECK(done.report->skipped == expected.skipped);
        CHECK(done.report->errors == expected.errors);
    }
    const auto reads = harness.counting->reads();
    for (const auto& [uri, count] : reads) {
        INFO(uri);
        CHECK(count == 1);
    }
}

TEST_CASE("one task per URI, and a single file can be indexed too", "[index][samples]") {
    Harness harness;
    const auto started =
        harness.service->index({fileUri(kSamples / "series"), fileUri(kSamples / "images/CT_small.dcm")}, {"Xapian"});
    REQUIRE(started.size() == 2);
    CHECK(started[0].name == "[xapian]index " + fileUri(kSamples / "series").str());
    CHECK(started[0].uid != started[1].uid);
    CHECK(harness.waitDone(started[0].uid).report->indexed == 20);
    CHECK(harness.waitDone(started[1].uid).report->indexed == 1);
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == 21);
}

TEST_CASE("bad requests start nothing", "[index][errors]") {
    Harness harness;
    auto expectError = [&](auto call, sdk::ErrorCode code, const std::string& message = {}) {
        try {
            call();
            FAIL("no error thrown");
        } catch (const sdk::Error& e) {
            CHECK(e.code() == code);
            if (!message.empty()) CHECK(std::string(e.what()) == message);
        }
    };
    expectError([&] { harness.service->index({fileUri(kSamples)}, {"nope"}); }, sdk::ErrorCode::InvalidArgument,
                "nope is not a valid index provider");
    // Outside the roots: refused by the provider before any task exists, even next to a good URI.
    expectError(
        [&] {
            harness.service->index({fileUri(kSamples / "series"), fileUri("/etc")}, {});
        },
        sdk::ErrorCode::Forbidden);
    expectError([&] { harness.service->index({fileUri(kSamples / "does-not-exist")}, {}); }, sdk::ErrorCode::NotFound);
    CHECK(harness.tasks.list().empty());

    // A disabled indexer is not valid; with none enabled nothing starts.
    auto* xapian = harness.host->registry().index("xapian");
    xapian->disable();
    expectError([&] { harness.service->index({fileUri(kSamples)}, {"xapian"}); }, sdk::ErrorCode::InvalidArgument,
                "xapian is not a valid index provider");
    CHECK(harness.service->index({fileUri(kSamples)}, {}).empty());
    xapian->enable();

    // No storage provider for the scheme: no task.
    CHECK(harness.service->index({sdk::Uri::parse("s3://bucket/x")}, {}).empty());
    CHECK(harness.tasks.list().empty());
}

TEST_CASE("stop ends a task on a 5,000-file corpus within a second", "[index][stop]") {
    TempDir corpus("tessera-synthetic-");
    writeSyntheticCorpus(corpus.path(), 5000);
    IndexServiceOptions options;
    options.threads = 2;
    Harness harness({kSamples, corpus.path()}, true, false, options);

    const auto started = harness.service->index({fileUri(corpus.path())}, {"xapian"});
    REQUIRE(started.size() == 1);
    const auto uid = started[0].uid;
    // Wait until it is really working, then stop.
    while (true) {
        const auto info = *harness.tasks.find(uid);
        REQUIRE_FALSE(info.done);
        if (info.progress > 0.0) break;
        std::this_thread::sleep_for(1ms);
    }
    const auto stopAt = std::chrono::steady_clock::now();
    REQUIRE(harness.tasks.stop(uid));
    const auto done = harness.waitDone(uid, 5s);
    const auto took = std::chrono::steady_clock::now() - stopAt;
    CHECK(took < 1s);
    CHECK(done.cancelled);
    REQUIRE(done.report);
    CHECK(done.report->indexed < 5000);
    CHECK(harness.tasks.unfinishedCount() == 0);
    // What it indexed before stopping is committed and searchable, nothing more.
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == done.report->indexed);

    // The same corpus indexed to the end gives every file.
    const auto again = harness.service->index({fileUri(corpus.path())}, {"xapian"});
    const auto complete = harness.waitDone(again[0].uid);
    CHECK_FALSE(complete.cancelled);
    CHECK(complete.report->indexed == 5000);
    CHECK(complete.report->errors == 0);
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == 5000);
}

TEST_CASE("a task waiting for a slot can be stopped at once", "[index][stop]") {
    IndexServiceOptions options;
    options.maxConcurrentTasks = 1;
    Harness harness({kSamples}, true, false, options);
    const auto started = harness.service->index({fileUri(kSamples), fileUri(kSamples / "series")}, {});
    REQUIRE(started.size() == 2);
    REQUIRE(harness.tasks.stop(started[1].uid));
    const auto stopped = harness.waitDone(started[1].uid, 2s);
    CHECK(stopped.cancelled);
    CHECK_FALSE(harness.waitDone(started[0].uid).cancelled);
}

TEST_CASE("unindex by URI and by UID", "[index][unindex]") {
    Harness harness;
    const auto started = harness.service->index({fileUri(kSamples / "series"), fileUri(kSamples / "images")}, {});
    for (const auto& task : started) harness.waitDone(task.uid);
    const auto total = harness.query("xapian", sdk::MatchAllQuery{}).total;
    REQUIRE(total > 20);

    // By URI: removed once, then not found; an unknown one is not found.
    const auto ct = fileUri(kSamples / "images/CT_small.dcm");
    auto report = harness.service->unindex({ct, fileUri(kSamples / "images/none.dcm")}, {});
    CHECK(report.removed == 1);
    CHECK(report.notFound == 1);
    CHECK(report.failed == 0);
    CHECK(harness.query("xapian", sdk::TermQuery{"SOPInstanceUID", "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"})
              .total == 0);
    CHECK(harness.service->unindex({ct}, {"xapian"}).notFound == 1);

    // By series UID: the 20 slices of series/, found through the query providers.
    const auto slice = readDicomFile(kSamples / "series/MR_brain_001.dcm");
    REQUIRE(slice.status == DicomReadStatus::Ok);
    const std::string seriesUid = slice.object->getOr("SeriesInstanceUID");
    std::size_t unresolved = 99;
    const auto uris = harness.queries->urisMatching("SeriesInstanceUID", {seriesUid, "1.2.3.999"}, &unresolved);
    CHECK(uris.size() == 20);
    CHECK(unresolved == 1);
    for (const auto& uri : uris) CHECK(uri.str().rfind(fileUri(kSamples / "series").str(), 0) == 0);
    report = harness.service->unindex(uris, {});
    CHECK(report.removed == 20);
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == total - 21);

    // By study UID.
    const auto mr = readDicomFile(kSamples / "images/MR_small.dcm");
    REQUIRE(mr.status == DicomReadStatus::Ok);
    const std::string studyUid = mr.object->getOr("StudyInstanceUID");
    const auto studyUris = harness.queries->urisMatching("StudyInstanceUID", {studyUid});
    REQUIRE_FALSE(studyUris.empty());
    CHECK(std::find(studyUris.begin(), studyUris.end(), fileUri(kSamples / "images/MR_small.dcm")) != studyUris.end());
    CHECK(harness.service->unindex(studyUris, {}).removed == studyUris.size());
    CHECK(harness.queries->urisMatching("StudyInstanceUID", {studyUid}).empty());

    CHECK_THROWS_AS(harness.service->unindex({ct}, {"nope"}), sdk::Error);
}

TEST_CASE("indexObject indexes a parsed object into every enabled indexer and commits soon", "[index][cstore]") {
    IndexServiceOptions options;
    options.commitDelay = 200ms;
    Harness harness({kSamples}, true, true, options);
    auto parsed = readDicomFile(kSamples / "images/CT_small.dcm");
    REQUIRE(parsed.status == DicomReadStatus::Ok);
    const auto uri = fileUri(kSamples / "images/CT_small.dcm");
    const auto report = harness.service->indexObject(uri, *parsed.object);
    CHECK(report.indexed == 2);  // xapian and test-memory
    CHECK(report.errors == 0);
    CHECK(harness.query("test-memory", sdk::MatchAllQuery{}).total == 1);
    // Visible in xapian after the delayed commit, without anyone calling flush().
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (harness.query("xapian", sdk::MatchAllQuery{}).total == 0) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(20ms);
    }
    const auto hit =
        harness.query("xapian", sdk::TermQuery{"SOPInstanceUID", "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"});
    REQUIRE(hit.results.size() == 1);
    CHECK(hit.results[0].uri == uri);

    // A disabled indexer is left out.
    harness.host->registry().index("test-memory")->disable();
    auto other = readDicomFile(kSamples / "images/MR_small.dcm");
    REQUIRE(other.status == DicomReadStatus::Ok);
    CHECK(harness.service->indexObject(fileUri(kSamples / "images/MR_small.dcm"), *other.object).indexed == 1);
    harness.service->flush();
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == 2);
    CHECK(harness.query("test-memory", sdk::MatchAllQuery{}).total == 1);
}

TEST_CASE("indexObjects indexes a batch with one call per indexer, committed by flush", "[index][cstore]") {
    IndexServiceOptions options;
    options.commitDelay = 60s;  // only flush() commits here
    Harness harness({kSamples}, true, true, options);
    auto ct = readDicomFile(kSamples / "images/CT_small.dcm");
    auto mr = readDicomFile(kSamples / "images/MR_small.dcm");
    REQUIRE(ct.status == DicomReadStatus::Ok);
    REQUIRE(mr.status == DicomReadStatus::Ok);
    const std::vector<sdk::IndexItem> items{{fileUri(kSamples / "images/CT_small.dcm"), ct.object.get()},
                                            {fileUri(kSamples / "images/MR_small.dcm"), mr.object.get()},
                                            {sdk::Uri::parse("other://x/y.dcm"), mr.object.get()}};
    const auto report = harness.service->indexObjects(items);
    CHECK(report.indexed == 6);  // three items in each of xapian and test-memory
    CHECK(report.errors == 0);
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == 0);  // not committed yet
    harness.service->flush();
    CHECK(harness.query("xapian", sdk::MatchAllQuery{}).total == 3);
    CHECK(harness.query("test-memory", sdk::MatchAllQuery{}).total == 3);
    CHECK(harness.service->indexObjects({}).indexed == 0);
}

TEST_CASE("after shutdown no task starts", "[index][errors]") {
    Harness harness;
    harness.service->shutdown();
    harness.service->shutdown();
    CHECK_THROWS_AS(harness.service->index({fileUri(kSamples / "series")}, {}), sdk::Error);
}
