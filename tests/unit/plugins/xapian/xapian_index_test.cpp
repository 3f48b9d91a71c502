// The xapian index's life: re-index replaces, unindex, persistence across reopen, one writer,
// concurrent queries while indexing, and recovery after the writer is killed with SIGKILL.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/plugins/xapian/xapian_searcher.hpp"
#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
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
    inst.uri = "file:/synthetic/" + std::to_string(i) + ".dcm";
    auto& v = inst.view;
    v.add(0x00080018, "SOPInstanceUID", "UI", "1.2.826.0.1.3680043.10.543.9." + std::to_string(i));
    v.add(0x00080020, "StudyDate", "DA", "2015" + std::string(i % 12 < 9 ? "0" : "") + std::to_string(i % 12 + 1) + "15");
    v.add(0x00080060, "Modality", "CS", i % 2 ? "CT" : "MR");
    v.add(0x00100010, "PatientName", "PN", "SYNTH^PATIENT" + std::to_string(i % 100));
    v.add(0x00100020, "PatientID", "LO", "SYN" + std::to_string(i % 100));
    v.add(0x00200011, "SeriesNumber", "IS", std::to_string(i % 7));
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

tessera::sdk::QueryResponse search(XapianSearcher& searcher, std::string_view text,
                                   std::vector<std::string> fields = {}) {
    tessera::sdk::QueryRequest request;
    request.query = tessera::core::parseQuery(text);
    request.fields = std::move(fields);
    return searcher.search(request);
}

}  // namespace

TEST_CASE("xapian re-indexing a URI replaces its document", "[xapian][index]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto corpus = makeCorpus();
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    CHECK(count(provider, "*:*") == 20);
    CHECK(count(provider, "PatientID:1CT1") == 9);

    // The same URI with different content: the old values are gone, the new ones found.
    Instance changed;
    changed.uri = corpus[0].uri;
    changed.view.add(0x00100010, "PatientName", "PN", "NEWNAME^ALICE");
    changed.view.add(0x00100020, "PatientID", "LO", "NEW1");
    std::vector<Instance> one{changed};
    REQUIRE(indexAll(provider, one).indexed == 1);
    CHECK(count(provider, "*:*") == 20);
    CHECK(count(provider, "PatientID:1CT1") == 8);
    CHECK(count(provider, "PatientID:NEW1") == 1);
    CHECK(count(provider, "alice") == 1);
    auto r = run(provider, "PatientID:NEW1", {"PatientName", "SOPInstanceUID"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].uri.str() == corpus[0].uri);
    CHECK(r.results[0].fields.at("PatientName") == "NEWNAME^ALICE");
    CHECK(r.results[0].fields.at("SOPInstanceUID") == "");  // DIM field, no longer in the object
}

TEST_CASE("xapian unindex removes records and counts unknown URIs", "[xapian][index]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    std::vector<Uri> uris{Uri::parse(corpus[0].uri), Uri::parse(corpus[19].uri), Uri::parse("file:/not/indexed.dcm")};
    auto report = provider.unindex(uris);
    CHECK(report.removed == 2);
    CHECK(report.notFound == 1);
    CHECK(report.failed == 0);
    provider.commit();
    CHECK(count(provider, "*:*") == 18);
    CHECK(count(provider, "PatientID:1CT1") == 8);
    auto again = provider.unindex(uris);
    CHECK(again.removed == 0);
    CHECK(again.notFound == 3);
}

TEST_CASE("xapian records become visible at commit and survive a reopen", "[xapian][index]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    auto corpus = makeCorpus();
    {
        XapianProvider provider;
        provider.open(path, XapianIndexOptions{0});
        auto items = itemsOf(corpus);
        REQUIRE(provider.index(items).indexed == 20);
        CHECK(count(provider, "*:*") == 0);  // not committed yet
        provider.commit();
        CHECK(count(provider, "*:*") == 20);
        Instance late = synthetic(1);
        std::vector<Instance> lateBatch{late};
        auto lateItems = itemsOf(lateBatch);
        provider.index(lateItems);
        // closing commits what is pending
    }
    XapianProvider reopened;
    reopened.open(path);
    CHECK(count(reopened, "*:*") == 21);
    CHECK(count(reopened, "SliceThickness:5") == 7);
    CHECK(count(reopened, "StudyDate:[20150101 TO 20151231]") == 16 + 1);
    auto r = run(reopened, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.2", {"PatientName", "SliceThickness"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("PatientName") == "SMITH^JOHN");
    CHECK(r.results[0].fields.at("SliceThickness") == "5.000000");
}

TEST_CASE("xapian: one writer per database, clear errors", "[xapian][index]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    XapianIndex first(path);
    try {
        XapianIndex second(path);
        FAIL("a second writer opened the database");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    XapianProvider closed;
    tessera::sdk::QueryRequest request;
    request.query = tessera::sdk::MatchAllQuery{};
    try {
        closed.query(request);
        FAIL("query on a provider that is not open");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    XapianSearcher missing(dir.path() / "no-such-index");
    try {
        missing.search(request);
        FAIL("search on a missing database");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    // A file where the directory should be.
    const auto blocked = dir.path() / "blocked";
    { std::ofstream(blocked) << "not a directory"; }
    CHECK_THROWS_AS(XapianIndex(blocked / "index"), tessera::sdk::Error);
}

TEST_CASE("xapian: a bad item is counted, the rest of the batch is indexed", "[xapian][index]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto good = synthetics(0, 3);
    auto items = itemsOf(good);
    items.insert(items.begin() + 1, IndexItem{Uri::parse("file:/null.dcm"), nullptr});
    auto report = provider.index(items);
    CHECK(report.indexed == 3);
    CHECK(report.errors == 1);
    provider.commit();
    CHECK(count(provider, "*:*") == 3);

    // Odd but legal content: empty values, very long values, control characters, private tags.
    Instance odd;
    odd.uri = "file:/odd.dcm";
    const std::string longText(5000, 'x');
    odd.view.add(0x00081030, "StudyDescription", "LO", "");
    odd.view.add(0x00204000, "ImageComments", "LT", longText + "END");
    odd.view.add(0x00204000, "ImageComments", "LT", longText + "FIN");
    odd.view.add(0x00091010, "0009,1010", "LO", "private\x01value");
    odd.view.add(0x00200011, "SeriesNumber", "IS", "not-a-number");
    std::vector<Instance> oddBatch{odd};
    REQUIRE(indexAll(provider, oddBatch).indexed == 1);
    tessera::sdk::QueryRequest exact;
    exact.query = tessera::sdk::TermQuery{"ImageComments", longText + "FIN"};
    CHECK(provider.query(exact).total == 1);  // long values still match exactly (hashed term)
    exact.query = tessera::sdk::TermQuery{"ImageComments", longText + "NOPE"};
    CHECK(provider.query(exact).total == 0);
    CHECK(count(provider, "SeriesNumber:not-a-number") == 1);
    CHECK(count(provider, "StudyDescription:*") == 1);
    auto r = run(provider, "StudyDescription:*", {"StudyDescription", "0009,1010", "ImageComments"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("StudyDescription") == "");
    CHECK(r.results[0].fields.at("0009,1010") == "private\x01value");
    CHECK(r.results[0].fields.at("ImageComments") == longText + "END");
}

TEST_CASE("xapian answers queries while another thread indexes", "[xapian][index][threads]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    constexpr int kDocs = 3000;
    constexpr int kBatch = 100;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::atomic<int> queries{0};
    std::mutex problemsMutex;
    std::vector<std::string> problems;

    std::thread writer([&] {
        try {
            for (int from = 0; from < kDocs; from += kBatch) {
                auto docs = synthetics(from, from + kBatch);
                auto items = itemsOf(docs);
                if (provider.index(items).indexed != static_cast<std::size_t>(kBatch)) ++failures;
                provider.commit();
            }
        } catch (...) {
            ++failures;
        }
        done = true;
    });
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&, t] {
            std::size_t last = 0;
            while (!done) {
                try {
                    const auto total = count(provider, "*:*");
                    // Commits happen per batch, so a reader sees whole batches, never fewer
                    // than before.
                    if (total < last || total % kBatch != 0) {
                        std::lock_guard lock(problemsMutex);
                        problems.push_back("total " + std::to_string(total) + " after " + std::to_string(last));
                    }
                    last = total;
                    count(provider, t == 0 ? "PatientID:SYN7" : t == 1 ? "StudyDate:[20150301 TO 20150531]" : "synth*");
                    ++queries;
                } catch (const std::exception& e) {
                    std::lock_guard lock(problemsMutex);
                    problems.push_back(e.what());
                }
            }
        });
    }
    writer.join();
    for (auto& r : readers) r.join();
    CHECK(failures == 0);
    for (const auto& problem : problems) FAIL_CHECK(problem);
    CHECK(queries > 0);
    CHECK(count(provider, "*:*") == kDocs);
    CHECK(count(provider, "PatientID:SYN7") == kDocs / 100);
    CHECK(count(provider, "SeriesNumber:[0 TO 1]") == 858);  // i % 7 in {0, 1}
}

TEST_CASE("xapian: two threads indexing at once lose nothing", "[xapian][index][threads]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", XapianIndexOptions{250});
    auto a = synthetics(0, 1000);
    auto b = synthetics(1000, 2000);
    auto itemsA = itemsOf(a);
    auto itemsB = itemsOf(b);
    std::thread ta([&] {
        for (std::size_t i = 0; i < itemsA.size(); i += 50) provider.index(std::span(itemsA).subspan(i, 50));
    });
    std::thread tb([&] {
        for (std::size_t i = 0; i < itemsB.size(); i += 50) provider.index(std::span(itemsB).subspan(i, 50));
    });
    ta.join();
    tb.join();
    provider.commit();
    CHECK(count(provider, "*:*") == 2000);
    CHECK(count(provider, "Modality:CT") == 1000);
}

TEST_CASE("xapian index opens and answers after the writer is killed with SIGKILL", "[xapian][index][crash]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    constexpr std::size_t kCommitEvery = 200;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child indexes until it is killed; it never returns into Catch2.
        try {
            XapianIndex index(path, XapianIndexOptions{kCommitEvery});
            for (int from = 0;; from += 50) {
                auto docs = synthetics(from, from + 50);
                auto items = itemsOf(docs);
                index.index(items);
            }
        } catch (...) {
        }
        _exit(3);
    }

    // Wait until several commits are readable, then kill the writer mid-batch.
    XapianSearcher watcher(path);
    std::size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (seen < 5 * kCommitEvery && std::chrono::steady_clock::now() < deadline) {
        try {
            seen = search(watcher, "*:*").total;
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
    REQUIRE(seen >= 5 * kCommitEvery);

    // A new writer can take the database over; what was committed is all there and consistent.
    XapianProvider provider;
    provider.open(path);
    const auto total = count(provider, "*:*");
    CHECK(total >= seen);
    CHECK(total % kCommitEvery == 0);
    CHECK(count(provider, "PatientID:SYN3") == total / 100);
    auto r = run(provider, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.9.7", {"PatientID", "Modality"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("PatientID") == "SYN7");
    CHECK(r.results[0].fields.at("Modality") == "CT");

    // And it keeps working: the URIs the dead writer had in flight can be indexed again.
    auto more = synthetics(static_cast<int>(total), static_cast<int>(total) + 10);
    REQUIRE(indexAll(provider, more).indexed == 10);
    CHECK(count(provider, "*:*") == total + 10);
}
