// IntakeJournal (server/src/dicom/intake_journal.hpp) on real files: records come back whole and
// in order after a reopen, done records do not, a torn or corrupted record ends its segment,
// concurrent appends share flushes and lose nothing, segments are recycled (bounded files) and a
// record larger than a segment gets its own.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dicom/intake_journal.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"

namespace fs = std::filesystem;
using tessera::server::IntakeJournal;
using tessera::server::IntakeJournalOptions;
using tessera::server::IntakeRecord;

namespace {

IntakeRecord makeRecord(std::size_t size, std::uint8_t fill, const std::string& calling = "SCU") {
    IntakeRecord record;
    record.callingAe = calling;
    record.calledAe = "DICOOGLE-STORAGE";
    record.providers = {"file", "other"};
    record.part10.assign(size, fill);
    if (size > 0) record.part10[0] = static_cast<std::uint8_t>(size);
    return record;
}

IntakeJournalOptions small(std::uint64_t segmentSize = 64 * 1024) {
    IntakeJournalOptions options;
    options.segmentSize = segmentSize;
    return options;
}

// The one segment file holding records (the others are prepared, empty).
fs::path segmentWithRecords(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().rfind("segment-", 0) != 0) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        in.seekg(4096);
        char magic[4] = {};
        in.read(magic, 4);
        if (std::string(magic, 4) == "TSJR") return entry.path();
    }
    return {};
}

}  // namespace

TEST_CASE("IntakeJournal: records come back whole and in order, done ones do not", "[intake_journal]") {
    tessera::test::TempDir dir;
    std::vector<std::uint64_t> seqs;
    {
        IntakeJournal journal(dir.path(), small());
        CHECK(journal.open().empty());
        for (std::uint8_t i = 1; i <= 3; ++i) {
            auto record = makeRecord(1000u * i, i, "SCU" + std::to_string(i));
            seqs.push_back(journal.append(record));
            CHECK(record.seq == seqs.back());
        }
        CHECK(seqs[0] < seqs[1]);
        CHECK(seqs[1] < seqs[2]);
    }
    {
        IntakeJournal journal(dir.path(), small());
        const auto records = journal.open();
        REQUIRE(records.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(records[i].seq == seqs[i]);
            CHECK(records[i].callingAe == "SCU" + std::to_string(i + 1));
            CHECK(records[i].calledAe == "DICOOGLE-STORAGE");
            CHECK(records[i].providers == std::vector<std::string>{"file", "other"});
            CHECK(records[i].part10 == makeRecord(1000u * (i + 1), static_cast<std::uint8_t>(i + 1)).part10);
        }
        journal.markDone({seqs[0], seqs[1]});
        // A new record after a reopen gets a higher seq than anything before.
        auto record = makeRecord(10, 9);
        CHECK(journal.append(record) > seqs[2]);
    }
    {
        IntakeJournal journal(dir.path(), small());
        const auto records = journal.open();
        REQUIRE(records.size() == 2);
        CHECK(records[0].seq == seqs[2]);
        CHECK(records[1].part10 == makeRecord(10, 9).part10);
    }
}

TEST_CASE("IntakeJournal: a torn tail or a corrupted record ends the segment there", "[intake_journal]") {
    tessera::test::TempDir dir;
    {
        IntakeJournal journal(dir.path(), small());
        journal.open();
        for (std::uint8_t i = 1; i <= 3; ++i) {
            auto record = makeRecord(2000, i);
            journal.append(record);
        }
    }
    const fs::path segment = segmentWithRecords(dir.path());
    REQUIRE(!segment.empty());
    SECTION("torn: the file ends in the middle of the third record") {
        // A record: 16-byte head + payload (prefix, AE titles, providers, length, bytes), 8-aligned.
        const std::uint64_t payload = 16 + (2 + 3) + (2 + 16) + 2 + (2 + 4) + (2 + 5) + 8 + 2000;
        const std::uint64_t record = (16 + payload + 7) / 8 * 8;
        fs::resize_file(segment, 4096 + 2 * record + record / 2);
        IntakeJournal journal(dir.path(), small());
        const auto records = journal.open();
        REQUIRE(records.size() == 2);
        CHECK(records[1].part10 == makeRecord(2000, 2).part10);
    }
    SECTION("corrupted: one byte of the second record's bytes changed") {
        const std::uint64_t payload = 16 + (2 + 3) + (2 + 16) + 2 + (2 + 4) + (2 + 5) + 8 + 2000;
        const std::uint64_t record = (16 + payload + 7) / 8 * 8;
        {
            std::fstream file(segment, std::ios::binary | std::ios::in | std::ios::out);
            file.seekp(static_cast<std::streamoff>(4096 + record + 1000));
            file.put('\x55');
        }
        IntakeJournal journal(dir.path(), small());
        CHECK(journal.open().size() == 1);
    }
}

TEST_CASE("IntakeJournal: concurrent appends are all durable, with unique seqs", "[intake_journal]") {
    tessera::test::TempDir dir;
    std::vector<std::vector<std::uint64_t>> seqs(8);
    {
        IntakeJournal journal(dir.path(), small(256 * 1024));
        journal.open();
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < seqs.size(); ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 100; ++i) {
                    auto record = makeRecord(3000, static_cast<std::uint8_t>(t));
                    seqs[t].push_back(journal.append(record));
                }
            });
        for (auto& thread : threads) thread.join();
    }
    std::set<std::uint64_t> all;
    for (const auto& list : seqs) all.insert(list.begin(), list.end());
    CHECK(all.size() == 800);
    IntakeJournal journal(dir.path(), small(256 * 1024));
    const auto records = journal.open();
    REQUIRE(records.size() == 800);
    for (std::size_t i = 0; i < records.size(); ++i) CHECK(all.count(records[i].seq) == 1);
    CHECK(std::is_sorted(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; }));
}

TEST_CASE("IntakeJournal: done segments are recycled, an oversized record gets its own", "[intake_journal]") {
    tessera::test::TempDir dir;
    IntakeJournal journal(dir.path(), small());
    journal.open();
    // 200 records of 5 KB = ~16 segments' worth, each done at once.
    for (int i = 0; i < 200; ++i) {
        auto record = makeRecord(5000, static_cast<std::uint8_t>(i));
        journal.markDone({journal.append(record)});
    }
    auto big = makeRecord(200 * 1024, 7);  // larger than a 64 KB segment
    const auto bigSeq = journal.append(big);
    CHECK(journal.segmentFiles() <= 6);
    journal.markDone({bigSeq});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the preparing thread trims spares
    CHECK(journal.segmentFiles() <= 4);
    std::uint64_t bytes = 0;
    for (const auto& entry : fs::directory_iterator(dir.path())) bytes += entry.file_size();
    CHECK(bytes <= 4 * 64 * 1024 + 8);
    journal.close();
    IntakeJournal reopened(dir.path(), small());
    CHECK(reopened.open().empty());
}

TEST_CASE("IntakeJournal: bad input", "[intake_journal]") {
    tessera::test::TempDir dir;
    SECTION("not open") {
        IntakeJournal journal(dir.path() / "j", small());
        auto record = makeRecord(10, 1);
        CHECK_THROWS_AS(journal.append(record), tessera::sdk::Error);
    }
    SECTION("the directory is a file") {
        std::ofstream(dir.path() / "file") << "x";
        IntakeJournal journal(dir.path() / "file", small());
        CHECK_THROWS_AS(journal.open(), tessera::sdk::Error);
    }
    SECTION("a garbage segment file is ignored") {
        std::ofstream(dir.path() / "segment-0000000000000001") << std::string(8192, 'g');
        IntakeJournal journal(dir.path(), small());
        CHECK(journal.open().empty());
        auto record = makeRecord(10, 1);
        CHECK(journal.append(record) == 1);
    }
}
