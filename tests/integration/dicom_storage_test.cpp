// The storage SCP of the real tessera-server, driven by DCMTK's own tools (echoscu, storescu)
// and, for a client that dies mid-transfer, by a DcmSCU in a child process. Every check looks at
// both sides: the tool's result, the files under the storage root, and the index over REST.
#include <sys/wait.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "dcmtk_tools.hpp"
#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/test/manifest.hpp"

namespace fs = std::filesystem;
using tessera::test::echoscu;
using tessera::test::makeTempDir;
using tessera::test::Manifest;
using tessera::test::ManifestRow;
using tessera::test::parseObject;
using tessera::test::proposalFlags;
using tessera::test::ServerProcess;
using tessera::test::storescu;
using tessera::test::urlEncode;
using namespace std::chrono_literals;

namespace {

// A server in its own data directory (optionally with a server.xml written first).
class StorageServer {
public:
    explicit StorageServer(const std::string& serverXml = {}) : dataDir_(makeTempDir("tessera-dstore-it")) {
        if (!serverXml.empty()) std::ofstream(dataDir_ / "server.xml") << serverXml;
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{}, dataDir_);
        token_ = server_->login();
    }
    ~StorageServer() {
        server_.reset();
        std::error_code ec;
        fs::remove_all(dataDir_, ec);
        fs::remove(dataDir_.parent_path() / (dataDir_.filename().string() + ".stderr"), ec);
    }

    ServerProcess& server() { return *server_; }
    std::uint16_t port() const { return server_->storagePort(); }
    fs::path storageRoot() const { return dataDir_ / "plugin-data" / "file" / "storage"; }

    tessera::test::HttpResult post(const std::string& pathAndQuery) {
        return server_->request("POST", pathAndQuery, token_);
    }

    // Index records of one SOP instance (their URIs), once the count reaches `expected` or
    // after ten seconds (C-STOREs are committed to the index within a second).
    std::vector<std::string> urisOf(const std::string& sopInstanceUid, std::size_t expected = 1) {
        std::vector<std::string> uris;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        do {
            uris.clear();
            auto response = server_->request(
                "GET", "/search?query=" + urlEncode("SOPInstanceUID:\"" + sopInstanceUid + "\"") + "&psize=100",
                token_);
            REQUIRE(response.status == 200);
            auto results = parseObject(response.body)->getArray("results");
            for (std::size_t i = 0; i < results->size(); ++i)
                uris.push_back(results->getObject(static_cast<unsigned>(i))->getValue<std::string>("uri"));
            if (uris.size() == expected) break;
            std::this_thread::sleep_for(200ms);
        } while (std::chrono::steady_clock::now() < deadline);
        return uris;
    }

    fs::path storedFile(const std::string& study, const std::string& series, const std::string& sop) const {
        return storageRoot() / study / series / (sop + ".dcm");
    }

    // The stored file of an acknowledged instance, once it is there: Success means durable in
    // the intake journal, and the file is written in the background right after.
    fs::path waitForStoredFile(const std::string& study, const std::string& series, const std::string& sop) const {
        const auto file = storedFile(study, series, sop);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
        return file;
    }

    // Every regular file under the storage root (temporary ones included).
    std::vector<fs::path> filesOnDisk() const {
        std::vector<fs::path> files;
        if (!fs::exists(storageRoot())) return files;
        for (const auto& entry : fs::recursive_directory_iterator(storageRoot()))
            if (entry.is_regular_file()) files.push_back(entry.path());
        return files;
    }

private:
    fs::path dataDir_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

fs::path samplePath(const ManifestRow& row) {
    return Manifest::samplesDir() / row.file();
}

// The corpus files storescu can send (MANIFEST column dcmtk_storescu = ok).
std::vector<const ManifestRow*> sendableRows() {
    std::vector<const ManifestRow*> rows;
    for (const auto& row : Manifest::samples().rows())
        if (row["dcmtk_storescu"] == "ok") rows.push_back(&row);
    return rows;
}

// A CT object with `pixelBytes` of pixel data and fresh UIDs, saved as Explicit VR LE.
fs::path makeLargeObject(const fs::path& dir, std::size_t pixelBytes, std::string& sopInstanceUid) {
    char uid[100];
    DcmFileFormat file;
    DcmDataset* data = file.getDataset();
    sopInstanceUid = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    data->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    data->putAndInsertString(DCM_SOPInstanceUID, sopInstanceUid.c_str());
    data->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
    data->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
    data->putAndInsertString(DCM_PatientName, "Dropped^Transfer");
    data->putAndInsertString(DCM_PatientID, "DROP-1");
    data->putAndInsertString(DCM_Modality, "CT");
    const Uint16 side = 1024;
    data->putAndInsertUint16(DCM_Rows, side);
    data->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(pixelBytes / 2 / side));
    data->putAndInsertUint16(DCM_BitsAllocated, 16);
    data->putAndInsertUint16(DCM_BitsStored, 16);
    data->putAndInsertUint16(DCM_HighBit, 15);
    data->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    data->putAndInsertUint16(DCM_PixelRepresentation, 0);
    data->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    std::vector<Uint16> pixels(pixelBytes / 2, 0x1234);
    data->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    const fs::path path = dir / (sopInstanceUid + ".dcm");
    REQUIRE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    return path;
}

// A C-STORE client that dies (process exit, no A-ABORT) after sending `afterBytes` bytes.
class DyingScu : public DcmSCU {
public:
    explicit DyingScu(unsigned long afterBytes) : afterBytes_(afterBytes) {}
    void notifySENDProgress(const unsigned long byteCount) override {
        if (byteCount >= afterBytes_) ::_exit(42);
    }

private:
    unsigned long afterBytes_;
};

}  // namespace

TEST_CASE("C-ECHO on the storage and the query port, a wrong called AE title is rejected", "[dicom][storage]") {
    StorageServer s;
    REQUIRE(s.port() != 0);
    REQUIRE(s.server().queryPort() != 0);
    CHECK(echoscu(s.server().queryPort()).ok());
    CHECK(echoscu(s.port()).ok());
    CHECK_FALSE(echoscu(s.port(), "NOT-OURS").ok());
    CHECK(echoscu(s.port()).ok());
}

TEST_CASE("storescu of every sendable sample: stored as received, indexed once", "[dicom][storage]") {
    StorageServer s;
    // One association per transfer-syntax family, each proposing the files' own syntax.
    std::map<std::vector<std::string>, std::vector<const ManifestRow*>> groups;
    for (const auto* row : sendableRows()) groups[proposalFlags((*row)["transfer_syntax_uid"])].push_back(row);
    for (const auto& [flags, rows] : groups) {
        std::vector<fs::path> files;
        for (const auto* row : rows) files.push_back(samplePath(*row));
        const auto result = storescu(s.port(), files, flags);
        INFO(result.output);
        CHECK(result.ok());
    }

    std::set<std::string> sopInstances;
    for (const auto* row : sendableRows()) {
        const auto& sop = (*row)["SOPInstanceUID"];
        INFO(row->file());
        if (!sopInstances.insert(sop).second) continue;  // ts-variants share UIDs with no sample
        const auto file = s.waitForStoredFile((*row)["StudyInstanceUID"], (*row)["SeriesInstanceUID"], sop);
        REQUIRE(fs::exists(file));
        // Stored in the transfer syntax it was sent in, with the AE titles in the meta header.
        const auto stored = tessera::core::readDicomFile(file);
        REQUIRE(stored.status == tessera::core::DicomReadStatus::Ok);
        CHECK(stored.object->get("SOPInstanceUID") == sop);
        CHECK(stored.object->get("ReceivingApplicationEntityTitle") == "DICOOGLE-STORAGE");
        CHECK(stored.object->get("SendingApplicationEntityTitle") == "STORESCU");
    }
    // Every instance in the index exactly once (several samples share a SOP Instance UID: the
    // last one sent replaced the others).
    for (const auto& sop : sopInstances) {
        INFO(sop);
        CHECK(s.urisOf(sop).size() == 1);
    }
    for (const auto& file : s.filesOnDisk()) CHECK(file.extension() == ".dcm");  // no temporary left
}

TEST_CASE("a sample's transfer syntax and SOP class are kept byte for byte in its data set", "[dicom][storage]") {
    StorageServer s;
    const auto& row = Manifest::samples().byFile("images/SC_rgb_jpeg_baseline_rgb.dcm");
    REQUIRE(storescu(s.port(), {samplePath(row)}, proposalFlags(row["transfer_syntax_uid"])).ok());
    const auto file = s.waitForStoredFile(row["StudyInstanceUID"], row["SeriesInstanceUID"], row["SOPInstanceUID"]);
    REQUIRE(fs::exists(file));
    DcmFileFormat original;
    DcmFileFormat stored;
    REQUIRE(original.loadFile(samplePath(row).c_str()).good());
    REQUIRE(stored.loadFile(file.c_str()).good());
    OFString ts;
    stored.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
    CHECK(std::string(ts.c_str()) == row["transfer_syntax_uid"]);
    // The encapsulated pixel data went through untouched.
    DcmElement* before = nullptr;
    DcmElement* after = nullptr;
    REQUIRE(original.getDataset()->findAndGetElement(DCM_PixelData, before).good());
    REQUIRE(stored.getDataset()->findAndGetElement(DCM_PixelData, after).good());
    CHECK(before->compare(*after) == 0);
}

TEST_CASE("transfer settings decide what is accepted, at once and without a restart", "[dicom][storage]") {
    StorageServer s;
    const auto& ct = Manifest::samples().byFile("images/CT_small.dcm");
    const auto& jpeg = Manifest::samples().byFile("images/SC_rgb_jpeg_baseline_rgb.dcm");

    // Refuse the CT SOP class entirely: storescu finds no presentation context.
    for (const auto& option :
         {"ImplicitVRLittleEndian", "ExplicitVRLittleEndian", "DeflatedExplicitVRLittleEndian", "ExplicitVRBigEndian",
          "JPEGLossless", "JPEGLSLossless", "JPEGLosslessNonHierarchical14", "JPEG2000LosslessOnly", "JPEGBaseline1",
          "JPEGExtended24", "JPEGLSLossyNearLossless", "JPEG2000", "RLELossless", "MPEG2"})
        REQUIRE(
            s.post("/management/settings/transfer?uid=" + ct["sop_class_uid"] + "&option=" + option + "&value=false")
                .status == 200);
    auto refused = storescu(s.port(), {samplePath(ct)});
    INFO(refused.output);
    CHECK_FALSE(refused.ok());
    CHECK(s.filesOnDisk().empty());

    // Refuse only JPEG Baseline for Secondary Capture: the JPEG file is refused, …
    REQUIRE(s.post("/management/settings/transfer?uid=" + jpeg["sop_class_uid"] + "&option=JPEGBaseline1&value=false")
                .status == 200);
    CHECK_FALSE(storescu(s.port(), {samplePath(jpeg)}, {"-xy"}).ok());
    CHECK(s.filesOnDisk().empty());
    // … and accepted again as soon as it is turned back on.
    REQUIRE(s.post("/management/settings/transfer?uid=" + jpeg["sop_class_uid"] + "&option=JPEGBaseline1&value=true")
                .status == 200);
    CHECK(storescu(s.port(), {samplePath(jpeg)}, {"-xy"}).ok());
    CHECK(s.urisOf(jpeg["SOPInstanceUID"]).size() == 1);
    REQUIRE(
        s.post("/management/settings/transfer?uid=" + ct["sop_class_uid"] + "&option=ExplicitVRLittleEndian&value=true")
            .status == 200);
    CHECK(storescu(s.port(), {samplePath(ct)}).ok());
    CHECK(s.urisOf(ct["SOPInstanceUID"]).size() == 1);
}

TEST_CASE("a calling AE title not on the allow-list is rejected", "[dicom][storage]") {
    StorageServer s(R"(<?xml version="1.0" encoding="UTF-8"?>
<config><dicom-services><allowed-aetitles>GOODSCU</allowed-aetitles><allowed-aetitles>OTHERSCU</allowed-aetitles></dicom-services></config>
)");
    const auto& ct = Manifest::samples().byFile("images/CT_small.dcm");
    auto refused = storescu(s.port(), {samplePath(ct)}, {}, "DICOOGLE-STORAGE", "BADSCU");
    INFO(refused.output);
    CHECK_FALSE(refused.ok());
    CHECK(refused.output.find("Rejected") != std::string::npos);
    CHECK_FALSE(echoscu(s.port(), "DICOOGLE-STORAGE", "BADSCU").ok());
    CHECK(s.filesOnDisk().empty());
    CHECK(storescu(s.port(), {samplePath(ct)}, {}, "DICOOGLE-STORAGE", "GOODSCU").ok());
    CHECK(s.urisOf(ct["SOPInstanceUID"]).size() == 1);
}

TEST_CASE("8 parallel storescu associations: everything stored and indexed once", "[dicom][storage]") {
    StorageServer s;
    std::vector<const ManifestRow*> uncompressed;
    std::set<std::string> seen;
    for (const auto* row : sendableRows())
        if (proposalFlags((*row)["transfer_syntax_uid"]).empty() && seen.insert((*row)["SOPInstanceUID"]).second)
            uncompressed.push_back(row);
    REQUIRE(uncompressed.size() >= 16);
    constexpr int kAssociations = 8;
    std::vector<std::vector<fs::path>> parts(kAssociations);
    for (std::size_t i = 0; i < uncompressed.size(); ++i)
        parts[i % kAssociations].push_back(samplePath(*uncompressed[i]));
    // The same file in every association too: concurrent stores of one instance end as one.
    const auto& shared = Manifest::samples().byFile("images/CT_small.dcm");
    for (auto& part : parts) part.push_back(samplePath(shared));

    std::vector<std::future<tessera::test::ToolResult>> runs;
    for (const auto& part : parts)
        runs.push_back(std::async(std::launch::async, [&s, part] { return storescu(s.port(), part); }));
    for (auto& run : runs) {
        const auto result = run.get();
        INFO(result.output);
        CHECK(result.ok());
    }
    for (const auto* row : uncompressed) {
        INFO(row->file());
        CHECK(s.urisOf((*row)["SOPInstanceUID"]).size() == 1);
    }
    CHECK(s.urisOf(shared["SOPInstanceUID"]).size() == 1);
    CHECK(s.filesOnDisk().size() == uncompressed.size());
}

TEST_CASE("the same SOP Instance UID sent again replaces the earlier copy", "[dicom][storage]") {
    StorageServer s;
    const auto& ct = Manifest::samples().byFile("images/CT_small.dcm");
    REQUIRE(storescu(s.port(), {samplePath(ct)}).ok());
    REQUIRE(storescu(s.port(), {samplePath(ct)}).ok());
    CHECK(s.urisOf(ct["SOPInstanceUID"]).size() == 1);

    // The same instance moved to another study: the old record goes, the new one stays.
    const auto dir = makeTempDir("tessera-dstore-moved");
    DcmFileFormat file;
    REQUIRE(file.loadFile(samplePath(ct).c_str()).good());
    const std::string otherStudy = "1.2.826.0.1.3680043.2.1143.777";
    file.getDataset()->putAndInsertString(DCM_StudyInstanceUID, otherStudy.c_str());
    const auto moved = dir / "moved.dcm";
    REQUIRE(file.saveFile(moved.c_str()).good());
    REQUIRE(storescu(s.port(), {moved}).ok());
    std::this_thread::sleep_for(1500ms);  // let the index commit
    const auto uris = s.urisOf(ct["SOPInstanceUID"]);
    REQUIRE(uris.size() == 1);
    CHECK(uris.front().find(otherStudy) != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("a client that drops the association mid-transfer leaves nothing stored", "[dicom][storage]") {
    StorageServer s;
    const auto dir = makeTempDir("tessera-dstore-drop");
    std::string sop;
    const auto big = makeLargeObject(dir, 16 * 1024 * 1024, sop);

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        DyingScu scu(2 * 1024 * 1024);
        scu.setAETitle("DYINGSCU");
        scu.setPeerAETitle("DICOOGLE-STORAGE");
        scu.setPeerHostName("127.0.0.1");
        scu.setPeerPort(s.port());
        OFList<OFString> syntaxes;
        syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
        scu.addPresentationContext(UID_CTImageStorage, syntaxes);
        if (scu.initNetwork().bad() || scu.negotiateAssociation().bad()) ::_exit(2);
        Uint16 status = 0;
        scu.sendSTORERequest(0, big.c_str(), nullptr, status);
        ::_exit(3);  // the whole object went through: the test must fail
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 42);

    std::this_thread::sleep_for(1500ms);
    CHECK(s.filesOnDisk().empty());
    CHECK(s.urisOf(sop, 0).empty());
    // The server goes on serving.
    CHECK(echoscu(s.port()).ok());
    CHECK(storescu(s.port(), {big}).ok());
    CHECK(s.urisOf(sop).size() == 1);
    fs::remove_all(dir);
}
