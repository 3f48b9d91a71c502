// The sqlite index's life: re-index replaces, unindex, visibility at commit and persistence
// across reopen, one writer, bad items and hostile values, the patient/study/series hierarchy,
// queries answering while another thread indexes, and recovery after a SIGKILL.

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sqlite_test_support.hpp"
#include "tessera/plugins/sqlite/sqlite_index.hpp"
#include "tessera/plugins/sqlite/sqlite_searcher.hpp"
#include "tessera/sdk/error.hpp"

using namespace sqlite_test;
using tessera::plugins::sqlite::SqliteIndex;
using tessera::plugins::sqlite::SqliteIndexOptions;
using tessera::plugins::sqlite::SqliteProvider;
using tessera::plugins::sqlite::SqliteSearcher;
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
    v.add(0x0020000D, "StudyInstanceUID", "UI", "1.2.826.0.1.3680043.10.543.8." + std::to_string(i % 100));
    v.add(0x0020000E, "SeriesInstanceUID", "UI", "1.2.826.0.1.3680043.10.543.7." + std::to_string(i % 300));
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

tessera::sdk::QueryResponse search(SqliteSearcher& searcher, std::string_view text, std::vector<std::string> fields = {}) {
    tessera::sdk::QueryRequest request;
    request.query = tessera::core::parseQuery(text);
    request.fields = std::move(fields);
    return searcher.search(request);
}

/// One integer from the index file, read with a separate plain SQLite connection.
long long scalar(const std::filesystem::path& file, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const long long value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

}  // namespace

TEST_CASE("sqlite re-indexing a URI replaces its record in place", "[sqlite][index]") {
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite");
    auto corpus = makeCorpus();
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    REQUIRE(indexAll(provider, corpus).indexed == 20);
    CHECK(count(provider, "*:*") == 20);
    CHECK(count(provider, "PatientID:1CT1") == 9);
    CHECK(count(provider, "SliceThickness:5") == 7);
    CHECK(count(provider, "chest") == 2);

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
    CHECK(count(provider, "\"newname alice\"") == 1);
    CHECK(count(provider, "SliceThickness:5") == 6);  // the old record's rows are gone
    CHECK(count(provider, "StudyDate:[20150101 TO 20151231]") == 15);
    auto r = run(provider, "PatientID:NEW1", {"PatientName", "SOPInstanceUID"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].uri.str() == corpus[0].uri);
    CHECK(r.results[0].fields.at("PatientName") == "NEWNAME^ALICE");
    CHECK(r.results[0].fields.at("SOPInstanceUID") == "");
    // It kept its place: still the first result.
    CHECK(run(provider, "*:*", {}, 0, 1).results.front().uri.str() == corpus[0].uri);
}

TEST_CASE("sqlite unindex removes records and counts unknown URIs", "[sqlite][index]") {
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite");
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
    CHECK(count(provider, "PatientName:*") == 18);
    auto again = provider.unindex(uris);
    CHECK(again.removed == 0);
    CHECK(again.notFound == 3);

    // Removing everything leaves no attribute rows behind.
    std::vector<Uri> all;
    for (const auto& inst : corpus) all.push_back(Uri::parse(inst.uri));
    CHECK(provider.unindex(all).removed == 18);
    provider.commit();
    const auto file = dir.path() / "index.sqlite";
    for (const char* sql : {"SELECT count(*) FROM value_index", "SELECT count(*) FROM word_index",
                            "SELECT count(*) FROM key_index", "SELECT count(*) FROM text_index",
                            "SELECT count(*) FROM phrase_index", "SELECT count(*) FROM records",
                            "SELECT count(*) FROM series", "SELECT count(*) FROM studies", "SELECT count(*) FROM patients"}) {
        INFO(sql);
        CHECK(scalar(file, sql) == 0);
    }
}

TEST_CASE("sqlite keeps the patient/study/series hierarchy with DIM columns", "[sqlite][index]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    SqliteProvider provider;
    provider.open(file);
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    CHECK(scalar(file, "SELECT count(*) FROM patients") == 3);
    CHECK(scalar(file, "SELECT count(*) FROM studies") == 5);
    CHECK(scalar(file, "SELECT count(*) FROM series") == 8);
    CHECK(scalar(file, "SELECT count(*) FROM instances") == 20);
    CHECK(scalar(file, "SELECT count(*) FROM patients WHERE patient_name_lc = 'müller^jürgen' AND patient_id = 'P-0002'") == 1);
    CHECK(scalar(file, "SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient"
                       " WHERE p.patient_id = '1CT1' AND s.study_date = '20150310'"
                       " AND s.study_description_lc = 'ct head w/o contrast'") == 1);
    CHECK(scalar(file, "SELECT count(*) FROM series WHERE modality_lc = 'mr'") == 3);
    CHECK(scalar(file, "SELECT count(*) FROM instances i JOIN series s ON s.id = i.series JOIN studies t ON t.id = s.study"
                       " WHERE t.study_instance_uid = '1.2.826.0.1.3680043.10.543.1.1'") == 6);
    // The study-level lookup runs on the index, not a scan.
    CHECK(scalar(file, "SELECT count(*) FROM studies WHERE study_date_lc >= '2015' AND study_date_lc < '2016'") == 3);

    // Moving an instance to another series (re-indexed with new UIDs) prunes what emptied.
    std::vector<Uri> crs;
    for (const auto& inst : corpus)
        if (inst.view.get("Modality") == std::string("CR")) crs.push_back(Uri::parse(inst.uri));
    REQUIRE(crs.size() == 2);
    provider.unindex(crs);
    provider.commit();
    CHECK(scalar(file, "SELECT count(*) FROM series") == 7);
    CHECK(scalar(file, "SELECT count(*) FROM studies") == 4);
    CHECK(scalar(file, "SELECT count(*) FROM patients") == 3);  // P-0002 still has its report
    Instance moved;
    moved.uri = corpus[19].uri;  // PAT3's last CT image
    moved.view.add(0x00100020, "PatientID", "LO", "OTHER");
    moved.view.add(0x0020000D, "StudyInstanceUID", "UI", "9.9");
    moved.view.add(0x0020000E, "SeriesInstanceUID", "UI", "9.9.1");
    std::vector<Instance> batch{moved};
    indexAll(provider, batch);
    CHECK(scalar(file, "SELECT count(*) FROM patients") == 4);
    CHECK(scalar(file, "SELECT count(*) FROM series") == 8);
    CHECK(scalar(file, "SELECT count(*) FROM series WHERE series_instance_uid = '1.2.826.0.1.3680043.10.543.3.1.6'") == 1);
}

TEST_CASE("sqlite records become visible at commit and survive a reopen", "[sqlite][index]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    auto corpus = makeCorpus();
    {
        SqliteProvider provider;
        provider.open(file, SqliteIndexOptions{0});
        auto items = itemsOf(corpus);
        REQUIRE(provider.index(items).indexed == 20);
        CHECK(count(provider, "*:*") == 0);  // not committed yet
        provider.commit();
        CHECK(count(provider, "*:*") == 20);
        std::vector<Instance> lateBatch{synthetic(1)};
        auto lateItems = itemsOf(lateBatch);
        provider.index(lateItems);
        // closing commits what is pending
    }
    SqliteProvider reopened;
    reopened.open(file);
    CHECK(count(reopened, "*:*") == 21);
    CHECK(count(reopened, "SliceThickness:5") == 7);
    CHECK(count(reopened, "StudyDate:[20150101 TO 20151231]") == 16 + 1);
    auto r = run(reopened, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.2", {"PatientName", "SliceThickness"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("PatientName") == "SMITH^JOHN");
    CHECK(r.results[0].fields.at("SliceThickness") == "5.000000");
    // New fields after the reopen get new ids; old ones keep theirs.
    Instance extra;
    extra.uri = "file:/extra.dcm";
    extra.view.add(0x00181030, "ProtocolName", "LO", "Brain routine");
    extra.view.add(0x00100020, "PatientID", "LO", "EXTRA");
    std::vector<Instance> extras{extra};
    indexAll(reopened, extras);
    CHECK(count(reopened, "ProtocolName:routine") == 1);
    CHECK(count(reopened, "PatientID:EXTRA") == 1);
    CHECK(count(reopened, "PatientID:1CT1") == 9);
}

TEST_CASE("sqlite: one writer per index, clear errors", "[sqlite][index]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    SqliteIndex first(file);
    try {
        SqliteIndex second(file);
        FAIL("a second writer opened the index");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    SqliteProvider closed;
    tessera::sdk::QueryRequest request;
    request.query = tessera::sdk::MatchAllQuery{};
    try {
        closed.query(request);
        FAIL("query on a provider that is not open");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    SqliteSearcher missing(dir.path() / "no-such-index.sqlite");
    try {
        missing.search(request);
        FAIL("search on a missing index");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }
    CHECK_FALSE(std::filesystem::exists(dir.path() / "no-such-index.sqlite"));  // a reader creates nothing

    // A file where the directory should be; a file that is not SQLite.
    const auto blocked = dir.path() / "blocked";
    { std::ofstream(blocked) << "not a directory"; }
    CHECK_THROWS_AS(SqliteIndex(blocked / "index.sqlite"), tessera::sdk::Error);
    const auto garbage = dir.path() / "garbage.sqlite";
    { std::ofstream(garbage) << std::string(8192, 'x'); }
    try {
        SqliteIndex index(garbage);
        FAIL("a file that is not SQLite was opened");
    } catch (const tessera::sdk::Error& e) {
        CHECK((e.code() == ErrorCode::Corrupted || e.code() == ErrorCode::Unavailable));
    }
    SqliteSearcher garbageReader(garbage);
    CHECK_THROWS_AS(garbageReader.search(request), tessera::sdk::Error);
}

TEST_CASE("sqlite refuses an index of another layout instead of misreading it", "[sqlite][index]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    { SqliteIndex index(file); }
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'layout'", nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    try {
        SqliteIndex index(file);
        FAIL("an index of another layout was opened");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
        CHECK(std::string(e.what()).find("re-index") != std::string::npos);
    }
    SqliteSearcher searcher(file);
    tessera::sdk::QueryRequest request;
    request.query = tessera::sdk::MatchAllQuery{};
    try {
        searcher.search(request);
        FAIL("an index of another layout was read");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }
}

TEST_CASE("sqlite: a bad item is counted, the rest of the batch is indexed", "[sqlite][index]") {
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite");
    auto good = synthetics(0, 3);
    auto items = itemsOf(good);
    items.insert(items.begin() + 1, IndexItem{Uri::parse("file:/null.dcm"), nullptr});
    auto report = provider.index(items);
    CHECK(report.indexed == 3);
    CHECK(report.errors == 1);
    provider.commit();
    CHECK(count(provider, "*:*") == 3);

    // Odd but legal content: empty values, long values, control characters, private tags,
    // keywords too long to catalogue.
    Instance odd;
    odd.uri = "file:/odd.dcm";
    const std::string longText(5000, 'x');
    odd.view.add(0x00081030, "StudyDescription", "LO", "");
    odd.view.add(0x00204000, "ImageComments", "LT", longText + "END");
    odd.view.add(0x00204000, "ImageComments", "LT", longText + "FIN");
    odd.view.add(0x00091010, "0009,1010", "LO", "private\x01value");
    odd.view.add(0x00200011, "SeriesNumber", "IS", "not-a-number");
    odd.view.add(0x00091011, std::string(200, 'K'), "LO", "unlisted");
    std::vector<Instance> oddBatch{odd};
    REQUIRE(indexAll(provider, oddBatch).indexed == 1);
    tessera::sdk::QueryRequest exact;
    exact.query = tessera::sdk::TermQuery{"ImageComments", longText + "FIN"};
    CHECK(provider.query(exact).total == 1);
    exact.query = tessera::sdk::TermQuery{"ImageComments", longText + "NOPE"};
    CHECK(provider.query(exact).total == 0);
    CHECK(count(provider, "SeriesNumber:not-a-number") == 1);
    CHECK(count(provider, "SeriesNumber:[0 TO 100]") == 3);  // no number, no key
    CHECK(count(provider, "StudyDescription:*") == 1);
    CHECK(count(provider, "unlisted") == 0);
    auto r = run(provider, "StudyDescription:*", {"StudyDescription", "0009,1010", "ImageComments"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("StudyDescription") == "");
    CHECK(r.results[0].fields.at("0009,1010") == "private\x01value");
    CHECK(r.results[0].fields.at("ImageComments") == longText + "END");
}

TEST_CASE("sqlite: hostile values are data, never SQL", "[sqlite][index][security]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    SqliteProvider provider;
    provider.open(file);
    const std::vector<std::string> hostile = {
        "O'Brien",  "'; DROP TABLE instances; --", "100%", "a_b", "semi;colon--", "tab\there",
        "\" OR 1=1 --", "x' OR '1'='1", "%_%", "[abc]*?",
    };
    std::vector<Instance> docs(hostile.size());
    for (std::size_t i = 0; i < hostile.size(); ++i) {
        docs[i].uri = "file:/hostile/" + std::to_string(i) + "'; DELETE FROM records; --.dcm";
        docs[i].view.add(0x00100010, "PatientName", "PN", hostile[i]);
        docs[i].view.add(0x00100020, "PatientID", "LO", "H" + std::to_string(i));
        docs[i].view.add(0x00081030, "StudyDescription", "LO", hostile[i]);
    }
    REQUIRE(indexAll(provider, docs).indexed == hostile.size());
    CHECK(count(provider, "*:*") == hostile.size());
    // Each hostile value finds exactly its own object, as a TermQuery built by hand (no parser).
    for (std::size_t i = 0; i < hostile.size(); ++i) {
        INFO("value: " << hostile[i]);
        tessera::sdk::QueryRequest request;
        request.query = tessera::sdk::TermQuery{"StudyDescription", hostile[i]};
        request.fields = {"PatientID", "uri"};
        const auto response = provider.query(request);
        REQUIRE(response.total >= 1);
        bool found = false;
        for (const auto& hit : response.results) found = found || hit.fields.at("PatientID") == "H" + std::to_string(i);
        CHECK(found);
        request.query = tessera::sdk::WildcardQuery{"StudyDescription", hostile[i]};
        CHECK_NOTHROW(provider.query(request));
        request.query = tessera::sdk::RangeQuery{"StudyDescription", hostile[i], hostile[i]};
        CHECK(provider.query(request).total >= 1);
        request.query = tessera::sdk::PhraseQuery{"StudyDescription", hostile[i]};
        CHECK_NOTHROW(provider.query(request));
        request.query = tessera::sdk::TermQuery{hostile[i], "x"};  // as a field name: unknown field
        CHECK(provider.query(request).total == 0);
    }
    tessera::sdk::QueryRequest exactLike;
    exactLike.query = tessera::sdk::TermQuery{"StudyDescription", "100%"};
    CHECK(provider.query(exactLike).total == 1);  // '%' is not a LIKE wildcard
    exactLike.query = tessera::sdk::WildcardQuery{"PatientID", "H_"};
    CHECK(provider.query(exactLike).total == 0);  // '_' neither
    CHECK(count(provider, "O'Brien") == 1);
    // A backslash in a value separates DICOM values: each is matched on its own.
    Instance multi;
    multi.uri = "file:/hostile/multi.dcm";
    multi.view.add(0x00081030, "StudyDescription", "LO", "back\\sl'ash");
    std::vector<Instance> multiBatch{multi};
    indexAll(provider, multiBatch);
    CHECK(count(provider, "StudyDescription:sl'ash") == 1);
    CHECK(count(provider, "StudyDescription:back") == 1);
    CHECK(count(provider, "StudyDescription:o'brien") == 1);
    // Nothing was dropped or deleted.
    CHECK(scalar(file, "SELECT count(*) FROM instances") == static_cast<long long>(hostile.size() + 1));
    CHECK(scalar(file, "SELECT count(*) FROM records") == static_cast<long long>(hostile.size() + 1));
    auto uris = run(provider, "*:*");
    CHECK(uris.results.front().uri.str() == docs.front().uri);
    REQUIRE(provider.unindex(std::vector<Uri>{Uri::parse(docs[1].uri)}).removed == 1);
    provider.commit();
    CHECK(count(provider, "*:*") == hostile.size());
}

TEST_CASE("sqlite answers queries while another thread indexes", "[sqlite][index][threads]") {
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite");
    constexpr int kDocs = 3000;
    constexpr int kBatch = 100;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::atomic<int> queries{0};
    std::atomic<int> queriesWhileWriting{0};
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
                    // Commits happen per batch: a reader sees whole batches, never fewer than before.
                    if (total < last || total % kBatch != 0) {
                        std::lock_guard lock(problemsMutex);
                        problems.push_back("total " + std::to_string(total) + " after " + std::to_string(last));
                    }
                    last = total;
                    count(provider, t == 0 ? "PatientID:SYN7" : t == 1 ? "StudyDate:[20150301 TO 20150531]" : "synth*");
                    ++queries;
                    if (!done && total < static_cast<std::size_t>(kDocs)) ++queriesWhileWriting;
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
    CHECK(queriesWhileWriting > 0);  // readers really ran beside the writer
    CHECK(count(provider, "*:*") == kDocs);
    CHECK(count(provider, "PatientID:SYN7") == kDocs / 100);
    CHECK(count(provider, "SeriesNumber:[0 TO 1]") == 858);  // i % 7 in {0, 1}
}

TEST_CASE("sqlite: a query answers while a write transaction is open", "[sqlite][index][threads]") {
    // The writer holds its transaction open between index() and commit(); readers are not
    // blocked by it and see the last commit.
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite", SqliteIndexOptions{0});
    auto first = synthetics(0, 50);
    auto firstItems = itemsOf(first);
    provider.index(firstItems);
    provider.commit();
    auto second = synthetics(50, 100);
    auto secondItems = itemsOf(second);
    provider.index(secondItems);  // uncommitted, transaction open
    std::size_t seen = 0;
    std::thread reader([&] { seen = count(provider, "*:*"); });
    reader.join();
    CHECK(seen == 50);
    provider.commit();
    CHECK(count(provider, "*:*") == 100);
}

TEST_CASE("sqlite: two threads indexing at once lose nothing", "[sqlite][index][threads]") {
    TempDir dir;
    SqliteProvider provider;
    provider.open(dir.path() / "index.sqlite", SqliteIndexOptions{250});
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
    CHECK(count(provider, "SeriesNumber:3") == 286);
}

TEST_CASE("sqlite index opens and answers after the writer is killed with SIGKILL", "[sqlite][index][crash]") {
    TempDir dir;
    const auto file = dir.path() / "index.sqlite";
    constexpr std::size_t kCommitEvery = 200;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child indexes until it is killed; it never returns into Catch2.
        try {
            SqliteIndex index(file, SqliteIndexOptions{kCommitEvery});
            for (int from = 0;; from += 50) {
                auto docs = synthetics(from, from + 50);
                auto items = itemsOf(docs);
                index.index(items);
            }
        } catch (...) {
        }
        _exit(3);
    }

    SqliteSearcher watcher(file);
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
    REQUIRE(seen >= 5 * kCommitEvery);

    // A new writer takes the index over (the dead writer's lock went with it); what was
    // committed is all there and consistent.
    SqliteProvider provider;
    provider.open(file);
    const auto total = count(provider, "*:*");
    CHECK(total >= seen);
    CHECK(total % kCommitEvery == 0);
    CHECK(count(provider, "PatientID:SYN3") == total / 100);
    auto r = run(provider, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.9.7", {"PatientID", "Modality"});
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].fields.at("PatientID") == "SYN7");
    CHECK(r.results[0].fields.at("Modality") == "CT");
    auto more = synthetics(static_cast<int>(total), static_cast<int>(total) + 10);
    REQUIRE(indexAll(provider, more).indexed == 10);
    CHECK(count(provider, "*:*") == total + 10);
}
