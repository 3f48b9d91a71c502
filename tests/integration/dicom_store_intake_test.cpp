// The storage SCP's background indexer (server/src/dicom/store_intake.hpp) through the real
// server: what was acknowledged is indexed after a kill -9 (the intake log is replayed on start),
// a graceful stop drains the queue, and a re-sent instance still ends as one record.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <chrono>
#include <algorithm>
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

// `count` small CT objects of one new study (fresh UIDs), saved as Explicit VR LE in `dir`.
std::vector<fs::path> makeStudy(const fs::path& dir, std::size_t count, std::string& studyUid,
                                const std::string& patientId = "INTAKE-1") {
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
        data->putAndInsertUint16(DCM_Rows, 16);
        data->putAndInsertUint16(DCM_Columns, 16);
        data->putAndInsertUint16(DCM_BitsAllocated, 16);
        data->putAndInsertUint16(DCM_BitsStored, 16);
        data->putAndInsertUint16(DCM_HighBit, 15);
        data->putAndInsertUint16(DCM_SamplesPerPixel, 1);
        data->putAndInsertUint16(DCM_PixelRepresentation, 0);
        data->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
        std::vector<Uint16> pixels(256, static_cast<Uint16>(i));
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

// Waits (up to 10 s) until `query` matches `expected` records; returns the last count.
std::size_t waitForCount(const ServerProcess& server, const std::string& token, const std::string& query,
                         std::size_t expected) {
    std::size_t count = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
        count = urisFor(server, token, query).size();
        if (count == expected) break;
        std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return count;
}

std::string readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// "I" records after the last "D" record of an intake log: instances acknowledged, not indexed.
std::size_t pendingRecords(const std::string& log) {
    std::size_t pending = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("I ", 0) == 0) ++pending;
        if (line.rfind("D ", 0) == 0) pending = 0;
    }
    return pending;
}

// URIs of every "I" record of an intake log.
std::vector<std::string> loggedUris(const std::string& log) {
    std::vector<std::string> uris;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("I ", 0) != 0) continue;
        std::istringstream fields(line);
        std::string field;
        std::getline(fields, field, '\t');
        while (std::getline(fields, field, '\t')) uris.push_back(field);
    }
    return uris;
}

std::size_t storedFiles(const fs::path& root) {
    std::size_t count = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->path().extension() == ".dcm") ++count;
    return count;
}

struct TempDirs {
    fs::path data = makeTempDir("tessera-intake-it");
    fs::path files = makeTempDir("tessera-intake-files");
    ~TempDirs() {
        std::error_code ec;
        fs::remove_all(data, ec);
        fs::remove_all(files, ec);
        fs::remove(data.parent_path() / (data.filename().string() + ".stderr"), ec);
    }
};

}  // namespace

TEST_CASE("kill -9 in the middle of a transfer: every acknowledged instance is searchable after a restart",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 1000, study);
    const fs::path log = dirs.data / "dicom-intake.log";
    const fs::path storage = dirs.data / "plugin-data" / "file" / "storage";
    std::string logAtKill;
    std::size_t storedAtKill = 0;
    {
        ServerProcess server({}, dirs.data);
        auto sending =
            std::async(std::launch::async, [&] { return storescu(server.storagePort(), files); });
        // Kill while instances arrive, so some are acknowledged but not yet indexed.
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (storedFiles(storage) < 200 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        server.kill();
        logAtKill = readText(log);
        storedAtKill = storedFiles(storage);
        sending.get();  // storescu fails: the server went away
    }
    REQUIRE(storedAtKill >= 200);
    REQUIRE(storedAtKill < files.size());
    // Records of the log are written before Success; those after its last "D" were not indexed.
    const auto logged = loggedUris(logAtKill);
    WARN("stored " << storedAtKill << ", log records " << logged.size() << ", not indexed at the kill "
                   << pendingRecords(logAtKill));

    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    const auto indexed = urisFor(restarted, token, "StudyInstanceUID:\"" + study + "\"");
    for (const auto& uri : logged) {
        INFO(uri);
        CHECK(std::find(indexed.begin(), indexed.end(), uri) != indexed.end());
    }
    // Every stored file is indexed (one may have been stored but not yet acknowledged).
    CHECK(indexed.size() + 1 >= storedAtKill);
    CHECK(indexed.size() <= storedAtKill);
    CHECK(readText(log).empty());
}

TEST_CASE("the intake log is replayed on start: a logged instance missing from the index is indexed",
          "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 3, study, "INTAKE-REPLAY");
    std::vector<std::string> uris;
    {
        ServerProcess server({}, dirs.data);
        const auto token = server.login();
        REQUIRE(storescu(server.storagePort(), files).ok());
        REQUIRE(waitForCount(server, token, "PatientID:\"INTAKE-REPLAY\"", 3) == 3);
        uris = urisFor(server, token, "PatientID:\"INTAKE-REPLAY\"");
        // Take them out of the index (the files stay), as if the process died before indexing.
        for (const auto& uri : uris)
            REQUIRE(server.request("POST", "/management/tasks/unindex?uri=" + urlEncode(uri), token).status == 200);
        REQUIRE(waitForCount(server, token, "PatientID:\"INTAKE-REPLAY\"", 0) == 0);
        REQUIRE(server.stop() == 0);
    }
    const fs::path log = dirs.data / "dicom-intake.log";
    REQUIRE(pendingRecords(readText(log)) == 0);  // a clean stop leaves nothing to replay
    {
        std::ofstream out(log, std::ios::binary | std::ios::trunc);
        out << "I 1\t" << uris[0] << "\nD 1\n";                   // done: not replayed
        out << "I 2\t" << uris[1] << "\nI 3\t" << uris[2] << "\n";  // acknowledged, not indexed
        out << "I 4\tfile:///nowhere/gone.dcm\n";                  // gone since: skipped
        out << "garbage line\nI 5\t";                               // a torn tail: ignored
    }
    ServerProcess restarted({}, dirs.data);
    const auto token = restarted.login();
    const auto indexed = urisFor(restarted, token, "PatientID:\"INTAKE-REPLAY\"");
    CHECK(indexed.size() == 2);
    CHECK(std::find(indexed.begin(), indexed.end(), uris[0]) == indexed.end());
    CHECK(readText(log).empty());  // replayed, so started afresh
    CHECK(tessera::test::echoscu(restarted.storagePort()).ok());
}

TEST_CASE("a graceful stop indexes everything queued before it exits", "[dicom][storage][intake]") {
    TempDirs dirs;
    std::string study;
    const auto files = makeStudy(dirs.files, 300, study);
    {
        ServerProcess server({}, dirs.data);
        REQUIRE(storescu(server.storagePort(), files).ok());
        REQUIRE(server.stop() == 0);  // at once: the queue may still hold instances
    }
    // Nothing left for a replay: the stop drained the queue into the index.
    CHECK(readText(dirs.data / "dicom-intake.log").empty());
    fs::remove(dirs.data / "dicom-intake.log");
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
