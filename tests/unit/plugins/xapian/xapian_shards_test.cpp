// The sharded xapian provider: routing, re-index/unindex across shards, paging over several
// shards against a one-shard index of the same items, shards written in parallel, the old
// unsharded layout, a stored shard count winning over the setting, and recovery after kill -9.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tessera/plugins/xapian/shard_layout.hpp"
#include "tessera/plugins/xapian/shard_pool.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/plugins/xapian/xapian_searcher.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/settings_section.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using tessera::plugins::xapian::defaultShardCount;
using tessera::plugins::xapian::fnv1a64;
using tessera::plugins::xapian::kShardCountFile;
using tessera::plugins::xapian::shardOf;
using tessera::plugins::xapian::ShardPool;
using tessera::plugins::xapian::XapianIndex;
using tessera::plugins::xapian::XapianIndexOptions;
using tessera::plugins::xapian::XapianProvider;
using tessera::plugins::xapian::XapianSearcher;
using tessera::sdk::ErrorCode;
using tessera::sdk::IndexItem;
using tessera::sdk::Uri;

namespace {

Instance synthetic(int i) {
    Instance inst;
    inst.uri = "file:/shards/" + std::to_string(i) + ".dcm";
    auto& v = inst.view;
    v.add(0x00080018, "SOPInstanceUID", "UI", "1.2.826.0.1.3680043.10.543.77." + std::to_string(i));
    v.add(0x00080020, "StudyDate", "DA", "2016" + std::string(i % 12 < 9 ? "0" : "") + std::to_string(i % 12 + 1) + "10");
    v.add(0x00080060, "Modality", "CS", i % 3 == 0 ? "CT" : (i % 3 == 1 ? "MR" : "US"));
    v.add(0x00100010, "PatientName", "PN", "SHARD^PATIENT" + std::to_string(i % 40));
    v.add(0x00100020, "PatientID", "LO", "SH" + std::to_string(i % 40));
    v.add(0x00200013, "InstanceNumber", "IS", std::to_string(i % 9));
    if (i % 5 == 0) v.add(0x00081030, "StudyDescription", "LO", "contrast study " + std::to_string(i % 4));
    return inst;
}

std::vector<Instance> synthetics(int from, int to) {
    std::vector<Instance> out;
    for (int i = from; i < to; ++i) out.push_back(synthetic(i));
    return out;
}

std::vector<IndexItem> itemsOf(const std::vector<Instance>& instances) {
    std::vector<IndexItem> items;
    for (const auto& inst : instances) items.push_back({Uri::parse(inst.uri), &inst.view});
    return items;
}

std::vector<std::string> uris(const tessera::sdk::QueryResponse& response) {
    std::vector<std::string> out;
    for (const auto& r : response.results) out.push_back(r.uri.str());
    return out;
}

std::size_t searchTotal(const std::filesystem::path& shardDirectory, std::string_view text) {
    XapianSearcher searcher(shardDirectory);
    tessera::sdk::QueryRequest request;
    request.query = tessera::core::parseQuery(text);
    return searcher.search(request).total;
}

std::vector<std::string> shardUris(const std::filesystem::path& shardDirectory) {
    XapianSearcher searcher(shardDirectory);
    tessera::sdk::QueryRequest request;
    request.query = tessera::sdk::MatchAllQuery{};
    std::vector<std::string> out;
    for (const auto& r : searcher.search(request).results) out.push_back(r.uri.str());
    return out;
}

class MemorySettings final : public tessera::sdk::SettingsSection {
public:
    std::optional<std::string> get(std::string_view key) const override {
        auto it = values_.find(std::string(key));
        return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    void set(std::string_view key, std::string_view value) override { values_[std::string(key)] = std::string(value); }
    std::vector<std::string> keys() const override {
        std::vector<std::string> out;
        for (const auto& [key, value] : values_) out.push_back(key);
        return out;
    }

private:
    std::map<std::string, std::string> values_;
};

// Only log() matters here: the provider reports through it.
class LogCapture final : public tessera::sdk::HostServices {
public:
    void log(tessera::sdk::LogLevel, std::string_view message) override {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
    }
    tessera::sdk::SettingsSection& settings() override { return settings_; }
    std::filesystem::path dataDirectory() const override { return {}; }
    tessera::sdk::IndexProvider* indexProvider(std::string_view) override { return nullptr; }
    tessera::sdk::QueryProvider* queryProvider(std::string_view) override { return nullptr; }
    tessera::sdk::StorageProvider* storageProviderForScheme(std::string_view) override { return nullptr; }
    std::unique_ptr<tessera::sdk::DicomObjectView> parseDicom(std::span<const std::uint8_t>) override { return nullptr; }

    bool saw(std::string_view fragment) {
        std::lock_guard lock(mutex_);
        return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& line) { return line.find(fragment) != std::string::npos; });
    }

private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
    MemorySettings settings_;
};

// A view that, when the indexer walks it, waits (bounded) until `expected` such walks are in
// progress at once: proof that the shards' writers run concurrently.
struct Rendezvous {
    std::mutex mutex;
    std::condition_variable changed;
    int inside = 0;
    int expected = 2;
    std::atomic<int> met{0};
};

class RendezvousView final : public tessera::sdk::DicomObjectView {
public:
    RendezvousView(Rendezvous& rendezvous, std::string sop) : rendezvous_(rendezvous), sop_(std::move(sop)) {}
    std::optional<std::string> get(std::string_view keyword) const override {
        if (keyword == "SOPInstanceUID") return sop_;
        return std::nullopt;
    }
    void forEachAttribute(const std::function<void(const tessera::sdk::DicomAttribute&)>& visit) const override {
        {
            std::unique_lock lock(rendezvous_.mutex);
            ++rendezvous_.inside;
            rendezvous_.changed.notify_all();
            if (rendezvous_.changed.wait_for(lock, std::chrono::seconds(5), [&] { return rendezvous_.inside >= rendezvous_.expected; }))
                ++rendezvous_.met;
        }
        visit(tessera::sdk::DicomAttribute{0x00080018, "SOPInstanceUID", "UI", sop_});
    }

private:
    Rendezvous& rendezvous_;
    std::string sop_;
};

}  // namespace

TEST_CASE("xapian shards: routing is FNV-1a 64 of the URI, stable and spread", "[xapian][shards]") {
    // The published FNV-1a 64 test vectors: routing must never change between builds.
    CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
    CHECK(shardOf("anything", 1) == 0);
    CHECK(shardOf("anything", 0) == 0);
    CHECK(shardOf("file:/shards/1.dcm", 4) == fnv1a64("file:/shards/1.dcm") % 4);

    std::vector<std::size_t> perShard(4);
    for (int i = 0; i < 4000; ++i) ++perShard[shardOf("file:/shards/" + std::to_string(i) + ".dcm", 4)];
    for (const auto n : perShard) CHECK((n > 800 && n < 1200));  // about a quarter each

    // Every document lands in the shard its URI names, and only there.
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 3);
    REQUIRE(provider.shardCount() == 3);
    const auto docs = synthetics(0, 90);
    REQUIRE(indexAll(provider, docs).indexed == 90);
    CHECK(provider.documentCount() == 90);
    for (std::size_t shard = 0; shard < 3; ++shard) {
        const auto inShard = shardUris(dir.path() / "index" / ("shard-" + std::to_string(shard)));
        CHECK(provider.documentCount(shard) == inShard.size());
        CHECK_FALSE(inShard.empty());
        for (const auto& uri : inShard) CHECK(shardOf(uri, 3) == shard);
    }
    std::ifstream countFile(dir.path() / "index" / std::string(kShardCountFile));
    std::string stored;
    std::getline(countFile, stored);
    CHECK(stored == "3");
    CHECK_THROWS(provider.documentCount(3));
}

TEST_CASE("xapian shards: re-index replaces in place and unindex finds the right shard", "[xapian][shards]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 3);
    auto corpus = makeCorpus();
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    REQUIRE(count(provider, "*:*") == 20);

    // Every object again, with a new name: still 20 records, the new name everywhere.
    for (auto& inst : corpus) {
        VectorView renamed;
        inst.view.forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
            renamed.add(a.tag, a.keyword, a.vr, a.keyword == "PatientName" ? "RENAMED^ALL" : a.value);
        });
        inst.view = renamed;
    }
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    CHECK(count(provider, "*:*") == 20);
    CHECK(provider.documentCount() == 20);
    CHECK(count(provider, "PatientName:renamed") == 20);
    CHECK(count(provider, "PatientName:smith") == 0);

    // Unindex a few (across shards) plus unknown URIs.
    std::vector<Uri> gone;
    std::set<std::size_t> shardsTouched;
    for (std::size_t i = 0; i < corpus.size(); i += 3) {
        gone.push_back(Uri::parse(corpus[i].uri));
        shardsTouched.insert(shardOf(corpus[i].uri, 3));
    }
    REQUIRE(shardsTouched.size() >= 2);
    gone.push_back(Uri::parse("file:/nowhere/1.dcm"));
    gone.push_back(Uri::parse("file:/nowhere/2.dcm"));
    const auto report = provider.unindex(gone);
    CHECK(report.removed == 7);
    CHECK(report.notFound == 2);
    CHECK(report.failed == 0);
    provider.commit();
    CHECK(count(provider, "*:*") == 13);
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        INFO(corpus[i].uri);
        const auto r = run(provider, "SOPInstanceUID:" + *corpus[i].view.get("SOPInstanceUID"));
        CHECK(r.total == (i % 3 == 0 ? 0u : 1u));
    }
    // Unindexing them again finds nothing; an empty batch or list is no work and no error.
    CHECK(provider.unindex(gone).notFound == 9);
    CHECK(provider.index({}).indexed == 0);
    CHECK(provider.unindex({}).removed == 0);
}

TEST_CASE("xapian shards: totals, results and pages equal a one-shard index of the same items", "[xapian][shards]") {
    TempDir dir;
    XapianProvider single, sharded;
    single.open(dir.path() / "single", {}, 1);
    sharded.open(dir.path() / "sharded", {}, 3);
    REQUIRE(single.shardCount() == 1);
    REQUIRE(sharded.shardCount() == 3);
    auto docs = synthetics(0, 300);
    auto corpus = makeCorpus();
    REQUIRE(indexAll(single, docs).indexed == 300);
    REQUIRE(indexAll(sharded, docs).indexed == 300);
    REQUIRE(indexAll(single, corpus).indexed == 20);
    REQUIRE(indexAll(sharded, corpus).indexed == 20);
    // One removal, so that a shard's ids have a gap (the searcher's other `*:*` path).
    const std::vector<Uri> gone = {Uri::parse(docs[17].uri)};
    REQUIRE(single.unindex(gone).removed == 1);
    REQUIRE(sharded.unindex(gone).removed == 1);
    single.commit();
    sharded.commit();

    const std::vector<std::string> queries = {
        "*:*", "Modality:CT", "Modality:CT OR Modality:MR", "NOT Modality:US", "PatientName:shard*",
        "StudyDate:[20160301 TO 20160630]", "InstanceNumber:[2 TO 4]", "contrast", "PatientID:SH7",
        "StudyDescription:\"contrast study\"", "PatientName:smith", "Modality:XA", "SOPInstanceUID:1.2.826.0.1.3680043.10.543.77.5"};
    const std::vector<std::string> fields = {"PatientName", "StudyDate", "Modality", "uri", "InstitutionName"};
    for (const auto& text : queries) {
        INFO("query: " << text);
        const auto one = run(single, text, fields);
        const auto all = run(sharded, text, fields);
        CHECK(all.total == one.total);
        REQUIRE(all.results.size() == one.results.size());
        std::map<std::string, std::map<std::string, std::string>> byUri;
        for (const auto& r : one.results) byUri[r.uri.str()] = r.fields;
        for (const auto& r : all.results) {
            INFO(r.uri.str());
            REQUIRE(byUri.count(r.uri.str()) == 1);
            CHECK(r.fields == byUri.at(r.uri.str()));  // fields unchanged by sharding
        }
        // Any page is the same slice of the full sharded answer, with the exact total.
        const auto full = uris(all);
        for (const std::size_t size : {std::size_t{1}, std::size_t{7}, std::size_t{50}}) {
            std::vector<std::string> stitched;
            for (std::size_t offset = 0; offset < full.size() + size; offset += size) {
                const auto page = run(sharded, text, {}, offset, size);
                CHECK(page.total == all.total);
                const auto got = uris(page);
                CHECK(got.size() == std::min(size, full.size() - std::min(offset, full.size())));
                stitched.insert(stitched.end(), got.begin(), got.end());
            }
            CHECK(stitched == full);
        }
        const auto countOnly = run(sharded, text, {}, 0, 0);
        CHECK(countOnly.total == one.total);
        CHECK(countOnly.results.empty());
    }

    // A page that straddles the boundary between shard 0 and shard 1.
    const auto full = uris(run(sharded, "*:*"));
    const std::size_t boundary = sharded.documentCount(0);
    REQUIRE(boundary > 3);
    const auto straddle = run(sharded, "*:*", {}, boundary - 2, 5);
    CHECK(straddle.total == 319);
    CHECK(uris(straddle) == std::vector<std::string>(full.begin() + static_cast<std::ptrdiff_t>(boundary) - 2,
                                                     full.begin() + static_cast<std::ptrdiff_t>(boundary) + 3));
    CHECK(shardOf(uris(straddle).front(), 3) == 0);
    CHECK(shardOf(uris(straddle).back(), 3) == 1);
    const auto past = run(sharded, "*:*", {}, 400, 10);
    CHECK(past.total == 319);
    CHECK(past.results.empty());
    // The order is deterministic: shard 0's matches first, then shard 1's, then shard 2's.
    std::size_t previous = 0;
    for (const auto& uri : full) {
        CHECK(shardOf(uri, 3) >= previous);
        previous = shardOf(uri, 3);
    }
}

TEST_CASE("xapian shards: the pool runs parts at once and keeps a failing part's neighbours", "[xapian][shards][threads]") {
    ShardPool pool(1);
    REQUIRE(pool.workerCount() == 1);
    Rendezvous meeting;
    auto errors = pool.run(2, [&](std::size_t) {
        std::unique_lock lock(meeting.mutex);
        ++meeting.inside;
        meeting.changed.notify_all();
        if (meeting.changed.wait_for(lock, std::chrono::seconds(5), [&] { return meeting.inside >= 2; })) ++meeting.met;
    });
    CHECK(meeting.met == 2);  // both parts were inside at the same time
    CHECK_FALSE(errors[0]);
    CHECK_FALSE(errors[1]);

    std::atomic<int> ran{0};
    errors = pool.run(3, [&](std::size_t part) {
        ++ran;
        if (part == 1) throw std::runtime_error("part one broke");
    });
    CHECK(ran == 3);
    REQUIRE(errors.size() == 3);
    CHECK_FALSE(errors[0]);
    CHECK(errors[1]);
    CHECK_FALSE(errors[2]);
    CHECK(pool.run(0, [](std::size_t) {}).empty());

    // No workers: every part on the caller, in order.
    ShardPool inline0(0);
    std::vector<std::size_t> order;
    inline0.run(3, [&](std::size_t part) { order.push_back(part); });
    CHECK(order == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("xapian shards: one batch is written to two shards concurrently", "[xapian][shards][threads]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 2);
    // Two URIs of different shards; each view waits inside the indexer until the other is too.
    std::vector<std::string> picked(2);
    for (int i = 0; picked[0].empty() || picked[1].empty(); ++i) {
        const std::string uri = "file:/rendezvous/" + std::to_string(i) + ".dcm";
        auto& slot = picked[shardOf(uri, 2)];
        if (slot.empty()) slot = uri;
    }
    Rendezvous meeting;
    RendezvousView first(meeting, "1.2.3.1"), second(meeting, "1.2.3.2");
    const std::vector<IndexItem> batch = {{Uri::parse(picked[0]), &first}, {Uri::parse(picked[1]), &second}};
    const auto started = std::chrono::steady_clock::now();
    const auto report = provider.index(batch);
    CHECK(report.indexed == 2);
    CHECK(meeting.met == 2);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    provider.commit();
    CHECK(count(provider, "SOPInstanceUID:1.2.3.2") == 1);

    // Concurrent callers (the host's parser threads) share the shards and lose nothing.
    std::vector<std::thread> callers;
    std::vector<std::vector<Instance>> slices;
    for (int t = 0; t < 3; ++t) slices.push_back(synthetics(t * 400, t * 400 + 400));
    for (int t = 0; t < 3; ++t)
        callers.emplace_back([&, t] {
            for (std::size_t from = 0; from < 400; from += 50) {
                const std::vector<Instance> part(slices[t].begin() + static_cast<std::ptrdiff_t>(from),
                                                 slices[t].begin() + static_cast<std::ptrdiff_t>(from + 50));
                auto items = itemsOf(part);
                provider.index(items);
            }
        });
    for (auto& caller : callers) caller.join();
    provider.commit();
    CHECK(count(provider, "*:*") == 1202);
}

TEST_CASE("xapian shards: an unsharded index opens as one shard and keeps working", "[xapian][shards]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    const auto old = synthetics(0, 40);
    {
        XapianIndex index(path);  // the layout written before shards
        auto items = itemsOf(old);
        REQUIRE(index.index(items).indexed == 40);
    }
    LogCapture host;
    XapianProvider provider(&host);
    provider.open(path, {}, 3);
    CHECK(provider.shardCount() == 1);
    CHECK(host.saw("unsharded"));
    CHECK_FALSE(std::filesystem::exists(path / std::string(kShardCountFile)));
    CHECK_FALSE(std::filesystem::exists(path / "shard-0"));
    CHECK(count(provider, "*:*") == 40);
    CHECK(count(provider, "PatientID:SH7") == 1);
    const auto more = synthetics(30, 60);  // 10 re-indexed, 20 new
    REQUIRE(indexAll(provider, more).indexed == 30);
    CHECK(count(provider, "*:*") == 60);
    provider.close();
    provider.open(path);
    CHECK(provider.shardCount() == 1);
    CHECK(count(provider, "*:*") == 60);
}

TEST_CASE("xapian shards: the stored count wins over a changed setting", "[xapian][shards]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    const auto docs = synthetics(0, 120);
    {
        XapianProvider provider;
        provider.open(path, {}, 2);
        REQUIRE(indexAll(provider, docs).indexed == 120);
    }
    LogCapture host;
    XapianProvider provider(&host);
    provider.open(path, {}, 4);
    CHECK(provider.shardCount() == 2);
    CHECK(host.saw("has 2 shards"));
    CHECK_FALSE(std::filesystem::exists(path / "shard-2"));
    CHECK(count(provider, "*:*") == 120);
    // Re-indexing routes as before: replaced in place, no duplicates.
    REQUIRE(indexAll(provider, docs).indexed == 120);
    CHECK(count(provider, "*:*") == 120);
    CHECK(searchTotal(path / "shard-0", "*:*") + searchTotal(path / "shard-1", "*:*") == 120);
    provider.close();

    // The default (0) leaves an existing index as it is, silently.
    LogCapture quiet;
    XapianProvider again(&quiet);
    again.open(path);
    CHECK(again.shardCount() == 2);
    CHECK_FALSE(quiet.saw("has 2 shards"));

    // A fresh index gets the default count.
    XapianProvider fresh;
    fresh.open(dir.path() / "fresh");
    CHECK(fresh.shardCount() == defaultShardCount());
    CHECK(defaultShardCount() >= 1);
    CHECK(defaultShardCount() <= 4);
    if (std::thread::hardware_concurrency() > 1) CHECK(defaultShardCount() >= 2);
}

TEST_CASE("xapian shards: bad shard counts and bad count files are refused", "[xapian][shards]") {
    TempDir dir;
    XapianProvider provider;
    try {
        provider.open(dir.path() / "too-many", {}, 65);
        FAIL("65 shards accepted");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgument);
    }
    for (const std::string bad : {"", "zero", "0", "2x", "65", "-1"}) {
        INFO("count file: '" << bad << "'");
        const auto path = dir.path() / ("bad-" + std::to_string(std::hash<std::string>{}(bad)));
        std::filesystem::create_directories(path);
        { std::ofstream(path / std::string(kShardCountFile)) << bad; }
        try {
            provider.open(path);
            FAIL("a bad count file was accepted");
        } catch (const tessera::sdk::Error& e) {
            CHECK(e.code() == ErrorCode::Corrupted);
        }
        CHECK(provider.shardCount() == 0);
    }
    // A file where the index directory should be.
    { std::ofstream(dir.path() / "blocked") << "not a directory"; }
    CHECK_THROWS_AS(provider.open(dir.path() / "blocked" / "index"), tessera::sdk::Error);
    // A bad item is an error of its shard; the rest of the batch is indexed.
    provider.open(dir.path() / "good", {}, 2);
    const auto docs = synthetics(0, 10);
    auto items = itemsOf(docs);
    items.push_back({Uri::parse("file:/shards/null.dcm"), nullptr});
    const auto report = provider.index(items);
    CHECK(report.indexed == 10);
    CHECK(report.errors == 1);
    // A second writer on a shard is refused as for one database.
    XapianProvider second;
    try {
        second.open(dir.path() / "good", {}, 2);
        FAIL("a second writer opened the shards");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }
    CHECK(second.shardCount() == 0);
}

TEST_CASE("xapian shards: every shard opens and answers after the writer is killed with SIGKILL", "[xapian][shards][crash]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    constexpr std::size_t kCommitEvery = 100;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child indexes until it is killed; it never returns into Catch2.
        try {
            XapianProvider provider;
            provider.open(path, XapianIndexOptions{kCommitEvery}, 2);
            for (int from = 0;; from += 50) {
                auto docs = synthetics(from, from + 50);
                auto items = itemsOf(docs);
                provider.index(items);
            }
        } catch (...) {
        }
        _exit(3);
    }

    std::size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (seen < 10 * kCommitEvery && std::chrono::steady_clock::now() < deadline) {
        try {
            seen = searchTotal(path / "shard-0", "*:*") + searchTotal(path / "shard-1", "*:*");
        } catch (const tessera::sdk::Error&) {
            // not created yet
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    REQUIRE(seen >= 10 * kCommitEvery);

    XapianProvider provider;
    provider.open(path);
    REQUIRE(provider.shardCount() == 2);
    std::size_t total = 0;
    for (std::size_t shard = 0; shard < 2; ++shard) {
        const auto inShard = searchTotal(path / ("shard-" + std::to_string(shard)), "*:*");
        CHECK(inShard > 0);
        total += inShard;
    }
    // (No multiple-of-kCommitEvery check: each shard's commit is atomic, a commit across shards
    // is not, so the kill may fall between two shards' commits.)
    CHECK(count(provider, "*:*") == total);
    CHECK(total >= seen);
    auto r = run(provider, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.77.7", {"PatientID", "Modality"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("PatientID") == "SH7");
    CHECK(r.results[0].fields.at("Modality") == "MR");

    // Everything the dead writer had in flight can be indexed again; nothing is duplicated.
    auto again = synthetics(0, 2000);
    REQUIRE(indexAll(provider, again).indexed == 2000);
    CHECK(count(provider, "*:*") == std::max<std::size_t>(total, 2000));
}
