// The storage SCP's intake journal and background stores (server/src/dicom/intake_journal.hpp,
// store_intake.hpp) through the real server: what was acknowledged is stored and searchable after
// a kill -9 (the journal is replayed on start), files stored through the `file` plugin's deferred
// durability (no fsync per file, one syncfs per commit) are byte-identical, a torn journal tail replays the whole records
// only, the backlog bound holds senders back, a storage that fails after Success keeps the
// records and recovers, segments are recycled, a graceful stop drains, and a re-sent instance
// still ends as one record.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <chrono>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <future>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "dcmtk_tools.hpp"
#include "json_helpers.hpp"
#include "server_process.hpp"

namespace fs = std::filesystem;
using tessera::test::makeTempDir;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::storescu;
using tessera::test::urlEncode;
using namespace std::chrono_literals;

namespace {

// `count` small CT objects of one new study (fresh UIDs), side x side 16-bit pixels, saved as
// Explicit VR LE in `dir`.
std::vector<fs::path> makeStudy(const fs::path& dir, std::size_t count, std::string& studyUid,
                                const std::string& patientId = "INTAKE-1", Uint16 side = 16) {
    char uid[100];
    studyUid = dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT);
    const std::string series = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
    std::vector<fs::path> files;
    for (std::size_t i = 0; i < count; ++i) {
        DcmFileFormat file;
        DcmDataset* data = file.getDataset();
        const std::string sop = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
        data->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
        data->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
        data->putAndInsertString(DCM_StudyInstanceUID, studyUid.c_str());
        data->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
        data->putAndInsertString(DCM_PatientName, "Intake^Queue");
        data->putAndInsertString(DCM_PatientID, patientId.c_str());
        data->putAndInsertString(DCM_Modality, "CT");
        data->putAndInsertUint16(DCM_Rows, side);
        data->putAndInsertUint16(DCM_Columns, side);
        data->putAndInsertUint16(DCM_BitsAllocated, 16);
        data->putAndInsertUint16(DCM_BitsStored, 16);
        data->putAndInsertUint16(DCM_HighBit, 15);
        data->putAndInsertUint16(DCM_SamplesPerPixel, 1);
        data->putAndInsertUint16(DCM_PixelRepresentation, 0);
        data->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
        std::vector<Uint16> pixels(std::size_t(side) * side, static_cast<Uint16>(i));
        data->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
        const fs::path path = dir / (sop + ".dcm");
        REQUIRE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
        files.push_back(path);
    }
    return files;
}

// Index records matching `query` (their URIs), read once.
std::vector<std::string> urisFor(const ServerProcess& server, const std::string& token, const std::string& query) {
    auto response = server.request("GET", "/search?query=" + urlEncode(query) + "&psize=10000", token);
    REQUIRE(response.status == 200);
    std::vector<std::string> uris;
    auto results = parseObject(response.body)->getArray("results");
    for (std::size_t i = 0; i < results->size(); ++i)
        uris.push_back(results->getObject(static_cast<unsigned>(i))->getValue<std::string>("uri"));
    return uris;
}

// Waits (up to `limit`) until `query` matches `expected` records; returns the last count.
std::size_t waitForCount(const ServerProcess& server, const std::string& token, const std::string& query,
                         std::size_t expected, std::chrono::seconds limit = 20s) {
    std::size_t count = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
        count = urisFor(server, token, query).size();
        if (count == expected) break;
        std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return count;
}

std::size_t storedFiles(const fs::path& root) {
    std::size_t count = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->path().extension() == ".dcm") ++count;
    return count;
}

std::uint64_t littleEndian(const std::string& bytes, std::size_t at, std::size_t size) {
    std::uint64_t value = 0;
    for (std::size_t i = size; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes.at(at + i));
    return value;
}

std::string readBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

// One whole journal record as the format in intake_journal.hpp describes it (read independently
// of the server's code).
struct JournalRecord {
    fs::path segment;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;  // payload
    std::uint64_t seq = 0;
};

std::vector<JournalRecord> journalRecords(const fs::path& journal) {
    std::vector<JournalRecord> records;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(journal, ec)) {
        if (entry.path().filename().string().rfind("segment-", 0) != 0) continue;
        const std::string bytes = readBytes(entry.path());
        if (bytes.size() < 4096 || bytes.compare(0, 8, "TSJSEG01") != 0) continue;
        const std::uint64_t number = littleEndian(bytes, 8, 8);
        for (std::uint64_t at = 4096; at + 16 <= bytes.size();) {
            const std::uint64_t length = littleEndian(bytes, at + 4, 4);
            if (bytes.compare(at, 4, "TSJR") != 0 || at + 16 + length > bytes.size()) break;
            if (littleEndian(bytes, at + 16, 8) != number) break;
            records.push_back({entry.path(), at, length, littleEndian(bytes, at + 24, 8)});
            at = (at + 16 + length + 7) / 8 * 8;
        }
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return records;
}

std::uint64_t doneMark(const fs::path& journal) {
    const std::string bytes = readBytes(journal / "done");
    return bytes.size() >= 8 ? littleEndian(bytes, 0, 8) : 0;
}

std::size_t segmentFiles(const fs::path& journal) {
    std::size_t count = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(journal, ec))
        if (entry.path().filename().string().rfind("segment-", 0) == 0) ++count;
    return count;
}

// The data set of a Part 10 file: what follows the meta header (group 0002, explicit LE, its
// length in (0002,0000)).
std::string dataSetBytes(const fs::path& file) {
    const std::string bytes = readBytes(file);
    REQUIRE(bytes.size() > 144);
    REQUIRE(bytes.substr(128, 4) == "DICM");
    return bytes.substr(132 + 12 + littleEndian(bytes, 132 + 8, 4));
}

// server.xml with small journal segments and a small backlog bound, for the tests that fill them.
void writeSettings(const fs::path& dataDir, std::uint64_t segmentBytes, std::uint64_t backlogBytes) {
    std::ofstream(dataDir / "server.xml") << "<config><dicom-services><storage><journal-segment-bytes>" << segmentBytes
                                          << "</journal-segment-bytes><backlog-bytes>" << backlogBytes
                                          << "</backlog-bytes><retry-max-ms>300</retry-max-ms></storage>"
                                             "</dicom-services></config>\n";
}

struct TempDirs {
    fs::path data = makeTempDir("tessera-intake-it");
    fs::path files = makeTempDir("tessera-intake-files");
    fs::path journal = data / "dicom-journal";
    fs::path storage = data / "plugin-data" / "file" / "storage";
    ~TempDirs() {
        std::error_code ec;
        fs::remove_all(data, ec);
        fs::remove_all(files, ec);
        fs::remove(data.parent_path() / (data.filename().string() + ".stderr"), ec);
    }
};

}  // namespace

TEST_CASE("kill -9 right after a burst of Successes: every acknowledged instance is stored and searchable",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 500, study);
    std::size_t storedAtKill = 0;
    {
        ServerProcess server({}, dirs.data);
        REQUIRE(storescu(server.storagePort(), files).ok());  // every instance acknowledged
        server.kill();
        storedAtKill = storedFiles(dirs.storage);
    }
    const auto pending = journalRecords(dirs.journal);
    WARN("stored by the providers at the kill: " << storedAtKill << " of " << files.size()
                                                  << "; journal records after the done mark: "
                                                  << std::count_if(pending.begin(), pending.end(), [&](const auto& r) {
                                                         return r.seq > doneMark(dirs.journal);
                                                     }));
    REQUIRE(journalRecords(dirs.journal).size() == files.size());

    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(waitForCount(restarted, token, "StudyInstanceUID:\"" + study + "\"", files.size()) == files.size());
    CHECK(storedFiles(dirs.storage) == files.size());
}

TEST_CASE("kill -9 with acknowledged instances that no storage provider holds yet: the journal alone restores them",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 100, study, "INTAKE-JOURNAL-ONLY");
    const fs::path aside = dirs.storage.parent_path() / "storage.aside";
    {
        ServerProcess server({}, dirs.data);
        // Every store() fails (the store root is a plain file), so only the journal has them.
        fs::create_directories(dirs.storage);
        fs::rename(dirs.storage, aside);
        std::ofstream(dirs.storage) << "not a directory";
        REQUIRE(storescu(server.storagePort(), files).ok());
        server.kill();
    }
    REQUIRE(journalRecords(dirs.journal).size() == files.size());
    fs::remove(dirs.storage);
    fs::rename(aside, dirs.storage);
    REQUIRE(storedFiles(dirs.storage) == 0);

    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(waitForCount(restarted, token, "PatientID:\"INTAKE-JOURNAL-ONLY\"", files.size()) == files.size());
    CHECK(storedFiles(dirs.storage) == files.size());
}

TEST_CASE("kill -9 in the middle of a transfer: what was stored is searchable after a restart",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 1000, study);
    {
        ServerProcess server({}, dirs.data);
        auto sending = std::async(std::launch::async, [&] { return storescu(server.storagePort(), files); });
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (journalRecords(dirs.journal).size() < 200 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        server.kill();
        sending.get();  // storescu fails: the server went away
    }
    // Every whole record (acknowledged, or flushed just before its Success) is stored and indexed.
    const auto journaled = journalRecords(dirs.journal).size();
    REQUIRE(journaled >= 200);
    REQUIRE(journaled < files.size());
    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(waitForCount(restarted, token, "StudyInstanceUID:\"" + study + "\"", journaled) == journaled);
    CHECK(storedFiles(dirs.storage) == journaled);
}

TEST_CASE("a torn journal tail: the whole records are replayed, the torn one is not", "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 3, study, "INTAKE-TORN");
    {
        ServerProcess server({}, dirs.data);
        const auto token = server.login();
        REQUIRE(storescu(server.storagePort(), files).ok());
        REQUIRE(waitForCount(server, token, "PatientID:\"INTAKE-TORN\"", 3) == 3);
        // Take them out of the index and the store, as if the process died before either.
        for (const auto& uri : urisFor(server, token, "PatientID:\"INTAKE-TORN\""))
            REQUIRE(server.request("POST", "/management/tasks/unindex?uri=" + urlEncode(uri), token).status == 200);
        REQUIRE(waitForCount(server, token, "PatientID:\"INTAKE-TORN\"", 0) == 0);
        REQUIRE(server.stop() == 0);
    }
    const auto records = journalRecords(dirs.journal);
    REQUIRE(records.size() == 3);
    REQUIRE(doneMark(dirs.journal) == records.back().seq);  // a clean stop leaves nothing to replay
    fs::remove_all(dirs.storage);
    // Nothing done, and the last record cut in the middle.
    std::ofstream(dirs.journal / "done", std::ios::binary | std::ios::trunc) << std::string(8, '\0');
    const auto& last = records.back();
    REQUIRE(last.segment == records.front().segment);
    fs::resize_file(last.segment, last.offset + 16 + last.length / 2);

    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(waitForCount(restarted, token, "PatientID:\"INTAKE-TORN\"", 2) == 2);
    std::this_thread::sleep_for(500ms);
    CHECK(urisFor(restarted, token, "PatientID:\"INTAKE-TORN\"").size() == 2);
    CHECK(storedFiles(dirs.storage) == 2);
    CHECK(fs::exists(dirs.storage / files[2].filename()) == false);
    CHECK(tessera::test::echoscu(restarted.storagePort()).ok());
}

TEST_CASE("a storage failing after Success keeps the records, holds senders at the backlog bound, and recovers",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 300, study, "INTAKE-FAIL");
    const auto instanceBytes = fs::file_size(files[0]);
    const std::uint64_t bound = 64 * 1024;
    writeSettings(dirs.data, 1 << 20, bound);
    ServerProcess server({}, dirs.data);
    const auto token = server.login();
    // The store root replaced by a plain file: every store() fails (ENOTDIR).
    fs::create_directories(dirs.storage);
    const fs::path aside = dirs.storage.parent_path() / "storage.aside";
    fs::rename(dirs.storage, aside);
    std::ofstream(dirs.storage) << "not a directory";

    auto sending = std::async(std::launch::async, [&] { return storescu(server.storagePort(), files); });
    std::this_thread::sleep_for(3s);
    // The senders wait at the bound: the journal holds about `bound` bytes, not the whole study.
    const auto held = journalRecords(dirs.journal).size();
    WARN("journal records while the storage fails: " << held << " (bound " << bound / instanceBytes
                                                     << " instances)");
    CHECK(held >= 1);
    CHECK(held <= bound / instanceBytes + 2);
    CHECK(sending.wait_for(0s) != std::future_status::ready);
    CHECK(urisFor(server, token, "PatientID:\"INTAKE-FAIL\"").empty());

    // Writable again: the retries store everything, the senders go on.
    fs::remove(dirs.storage);
    fs::rename(aside, dirs.storage);
    REQUIRE(sending.get().ok());
    CHECK(waitForCount(server, token, "PatientID:\"INTAKE-FAIL\"", files.size()) == files.size());
    CHECK(storedFiles(dirs.storage) == files.size());
}

TEST_CASE("journal segments are recycled (disk use stays bounded) and an oversized instance gets its own",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    const std::uint64_t segment = 256 * 1024;
    writeSettings(dirs.data, segment, 1 << 20);
    std::string study;
    const auto files = makeStudy(dirs.files, 600, study, "INTAKE-RECYCLE", 64);  // ~8 KB each: ~20 segments' worth
    std::string bigStudy;
    const auto big = makeStudy(dirs.files, 1, bigStudy, "INTAKE-BIG", 512);  // 512 KB: larger than a segment
    ServerProcess server({}, dirs.data);
    const auto token = server.login();
    REQUIRE(storescu(server.storagePort(), files).ok());
    REQUIRE(storescu(server.storagePort(), big).ok());
    CHECK(waitForCount(server, token, "PatientID:\"INTAKE-RECYCLE\"", files.size()) == files.size());
    CHECK(waitForCount(server, token, "PatientID:\"INTAKE-BIG\"", 1) == 1);
    // Done marks follow the commits; then the spares are trimmed.
    std::size_t segments = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
        std::this_thread::sleep_for(200ms);
        segments = segmentFiles(dirs.journal);
    } while (segments > 4 && std::chrono::steady_clock::now() < deadline);
    std::uint64_t bytes = 0;
    for (const auto& entry : fs::directory_iterator(dirs.journal)) bytes += entry.file_size();
    WARN("segment files after 601 instances: " << segments << ", " << bytes << " bytes");
    // In use + ready + 2 spares at most, none of them the big one's.
    CHECK(segments <= 4);
    CHECK(bytes <= 4 * segment + 4096);
}

TEST_CASE("a graceful stop stores and indexes everything queued before it exits", "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 300, study);
    {
        ServerProcess server({}, dirs.data);
        REQUIRE(storescu(server.storagePort(), files).ok());
        REQUIRE(server.stop() == 0);  // at once: the queues may still hold instances
    }
    // Nothing left for a replay: the stop drained the queues into the store and the index.
    const auto records = journalRecords(dirs.journal);
    REQUIRE(records.size() == files.size());
    CHECK(doneMark(dirs.journal) == records.back().seq);
    CHECK(storedFiles(dirs.storage) == files.size());
    fs::remove_all(dirs.journal);
    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(urisFor(restarted, token, "StudyInstanceUID:\"" + study + "\"").size() == files.size());
}

TEST_CASE("one instance sent twice in a row, the second time in another study, ends as one record",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 1, study, "INTAKE-TWICE");
    const std::string sop = files[0].stem().string();
    DcmFileFormat file;
    REQUIRE(file.loadFile(files[0].c_str()).good());
    const std::string otherStudy = "1.2.826.0.1.3680043.2.1143.778";
    file.getDataset()->putAndInsertString(DCM_StudyInstanceUID, otherStudy.c_str());
    const auto moved = dirs.files / "moved.dcm";
    REQUIRE(file.saveFile(moved.c_str(), EXS_LittleEndianExplicit).good());

    ServerProcess server({}, dirs.data);
    const auto token = server.login();
    // Both copies in one association, back to back: they usually land in one indexing batch.
    REQUIRE(storescu(server.storagePort(), {files[0], moved}).ok());
    REQUIRE(waitForCount(server, token, "SOPInstanceUID:\"" + sop + "\"", 1) == 1);
    std::this_thread::sleep_for(500ms);
    const auto uris = urisFor(server, token, "SOPInstanceUID:\"" + sop + "\"");
    REQUIRE(uris.size() == 1);
    CHECK(uris.front().find(otherStudy) != std::string::npos);
}

TEST_CASE("files stored without a flush each, synced per commit, hold the data sets byte for byte, also after kill -9",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 200, study, "INTAKE-DEFERRED", 32);
    const auto storedPath = [&](const fs::path& source) {
        DcmFileFormat file;
        REQUIRE(file.loadFile(source.c_str()).good());
        OFString series;
        REQUIRE(file.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series).good());
        return dirs.storage / study / series.c_str() / source.filename();
    };
    const auto checkAll = [&] {
        for (const auto& source : files) {
            INFO(source.filename().string());
            const auto stored = storedPath(source);
            REQUIRE(fs::exists(stored));
            CHECK(dataSetBytes(stored) == dataSetBytes(source));
        }
        // No temporary file left by a store, whichever process made it.
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dirs.storage, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            CHECK(it->path().filename().string().find(".tmp-") == std::string::npos);
    };
    {
        ServerProcess server({}, dirs.data);
        const auto token = server.login();
        REQUIRE(storescu(server.storagePort(), files).ok());
        REQUIRE(waitForCount(server, token, "PatientID:\"INTAKE-DEFERRED\"", files.size()) == files.size());
        checkAll();
        // The journal forgets a record only after its file was synced: once everything is
        // searchable the done mark follows within a commit.
        const auto records = journalRecords(dirs.journal);
        REQUIRE(records.size() == files.size());
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (doneMark(dirs.journal) < records.back().seq && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(50ms);
        CHECK(doneMark(dirs.journal) == records.back().seq);
        // Sent again and killed at once: some records are neither synced nor done yet.
        REQUIRE(storescu(server.storagePort(), files).ok());
        server.kill();
    }
    CHECK(journalRecords(dirs.journal).size() == 2 * files.size());
    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    CHECK(waitForCount(restarted, token, "PatientID:\"INTAKE-DEFERRED\"", files.size()) == files.size());
    checkAll();
    CHECK(storedFiles(dirs.storage) == files.size());
}
