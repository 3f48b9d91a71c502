// /dic2png, /wado (both modes) and /legacy/wado through the real server, over the sample
// corpus: images/ and multiframe/ indexed for the normal paths, malformed/ alone (its files
// share UIDs with core files) for the bad-input run through every image route.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/test/manifest.hpp"

using tessera::test::HttpResult;
using tessera::test::Manifest;
using tessera::test::ManifestRow;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;
namespace fs = std::filesystem;

namespace {

class ImageServer {
public:
    explicit ImageServer(const std::vector<std::string>& folders)
        : dataDir_(tessera::test::makeTempDir("tessera-images")) {
        std::ofstream(dataDir_ / "server.xml")
            << "<config><plugins><plugin name=\"file\"><setting key=\"roots\">" << Manifest::samplesDir().string()
            << "</setting></plugin></plugins></config>\n";
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{}, dataDir_);
        token_ = server_->login();
        for (const auto& folder : folders) {
            const auto started = get("/management/tasks/index?uri=" + urlEncode(uriOf(folder)), "POST");
            REQUIRE(started.status == 200);
        }
        // Wait until every task is complete.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (true) {
            const auto listed = get("/index/task");
            REQUIRE(listed.status == 200);
            const auto results = parseObject(listed.body)->getArray("results");
            std::size_t complete = 0;
            for (std::size_t i = 0; i < results->size(); ++i) {
                const auto task = results->getObject(static_cast<unsigned>(i));
                if (task->has("complete") && task->getValue<bool>("complete")) ++complete;
            }
            if (complete == folders.size()) break;
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ~ImageServer() {
        server_.reset();
        std::error_code ignored;
        fs::remove_all(dataDir_, ignored);
    }

    static std::string uriOf(const std::string& relative) {
        return "file:" + (Manifest::samplesDir() / relative).string();
    }

    HttpResult get(const std::string& pathAndQuery, const std::string& method = "GET") const {
        return server_->request(method, pathAndQuery, token_);
    }
    const ServerProcess& process() const { return *server_; }

private:
    fs::path dataDir_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

ImageServer& imagesServer() {
    static ImageServer server({"images", "multiframe"});
    return server;
}

std::uint32_t bigEndian32(const std::string& bytes, std::size_t at) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

bool isPng(const HttpResult& r) {
    return r.contentType == "image/png" && r.body.size() > 24 && r.body.substr(1, 3) == "PNG";
}
bool isJpeg(const HttpResult& r) {
    return r.contentType == "image/jpeg" && r.body.size() > 4 && static_cast<unsigned char>(r.body[0]) == 0xFF &&
           static_cast<unsigned char>(r.body[1]) == 0xD8;
}

std::string fileBytes(const std::string& relative) {
    std::ifstream in(Manifest::samplesDir() / relative, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string wadoQuery(const ManifestRow& row, const std::string& extra = {}) {
    return "/wado?requestType=WADO&studyUID=" + row["StudyInstanceUID"] + "&seriesUID=" + row["SeriesInstanceUID"] +
           "&objectUID=" + row["SOPInstanceUID"] + extra;
}

void checkJsonError(const HttpResult& r, int status) {
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(r.contentType.rfind("application/json", 0) == 0);
    CHECK(parseObject(r.body)->has("error"));
}

}  // namespace

TEST_CASE("/dic2png renders every indexed image by UID, as thumbnails and by uri", "[integration][images]") {
    auto& server = imagesServer();
    int rendered = 0;
    for (const auto& row : Manifest::samples().rows()) {
        const bool inFolders = row.file().rfind("images/", 0) == 0 || row.file().rfind("multiframe/", 0) == 0;
        if (!inFolders || row["pixel_data"] != "yes") continue;
        INFO(row.file());
        const auto png = server.get("/dic2png?SOPInstanceUID=" + row["SOPInstanceUID"]);
        REQUIRE(isPng(png));
        CHECK(bigEndian32(png.body, 16) == std::stoul(row["columns"]));
        CHECK(bigEndian32(png.body, 20) == std::stoul(row["rows"]));
        const auto thumbnail = server.get("/dic2png?thumbnail=true&SOPInstanceUID=" + row["SOPInstanceUID"]);
        REQUIRE(isPng(thumbnail));
        CHECK(std::max(bigEndian32(thumbnail.body, 16), bigEndian32(thumbnail.body, 20)) == 64);
        const auto frames = std::stoul(row["frames"]);
        CHECK(isPng(
            server.get("/dic2png?frame=" + std::to_string(frames - 1) + "&SOPInstanceUID=" + row["SOPInstanceUID"])));
        checkJsonError(
            server.get("/dic2png?frame=" + std::to_string(frames) + "&SOPInstanceUID=" + row["SOPInstanceUID"]), 400);
        CHECK(isPng(server.get("/dic2png?thumbnail&uri=" + urlEncode(ImageServer::uriOf(row.file())))));
        ++rendered;
    }
    CHECK(rendered == 31);
}

TEST_CASE("/dic2png refuses what it cannot serve", "[integration][images][bad-input]") {
    auto& server = imagesServer();
    const auto unknown = server.get("/dic2png?SOPInstanceUID=1.2.3.4.5.6.7.8.9");
    CHECK(unknown.status == 404);
    CHECK(unknown.body == "{\"error\":\"No image file for supplied SOP Instance UID\"}");
    checkJsonError(server.get("/dic2png"), 400);
    checkJsonError(server.get("/dic2png?SOPInstanceUID=" +
                              Manifest::samples().byFile("images/CT_small.dcm")["SOPInstanceUID"] + "&frame=-1"),
                   400);
    // uri must be served by a storage provider and lie inside its roots.
    CHECK(server.get("/dic2png?uri=" + urlEncode("file:/etc/passwd")).status == 403);
    CHECK(server.get("/dic2png?uri=" + urlEncode(ImageServer::uriOf("images/../../../../etc/passwd"))).status == 403);
    checkJsonError(server.get("/dic2png?uri=" + urlEncode("s3://bucket/x.dcm")), 404);
    checkJsonError(server.get("/dic2png?uri=" + urlEncode("not a uri")), 400);
    checkJsonError(server.get("/dic2png?uri=" + urlEncode(ImageServer::uriOf("README.md"))), 422);
    CHECK(server.get("/dic2png").status == 400);
    CHECK(server.process().request("GET", "/dic2png?SOPInstanceUID=1.2.3").status == 401);  // no token
}

TEST_CASE("/wado?uid= answers the URI as text, Dicoogle's way", "[integration][images][wado]") {
    auto& server = imagesServer();
    const auto& row = Manifest::samples().byFile("images/CT_small.dcm");
    const auto found = server.get("/wado?uid=" + row["SOPInstanceUID"]);
    CHECK(found.status == 200);
    CHECK(found.contentType.rfind("text/plain", 0) == 0);
    CHECK(found.body == ImageServer::uriOf("images/CT_small.dcm"));
    CHECK(server.get("/wado?uid=1.2.3.4.5.6.7.8.9").body == "not");
    const auto missing = server.get("/wado");
    CHECK(missing.status == 400);
    CHECK(missing.body == "No uid supplied!\n/wado?uid=UID");
}

TEST_CASE("WADO-URI: images, the stored object, transcoding and the parameters", "[integration][images][wado]") {
    auto& server = imagesServer();
    const auto& ct = Manifest::samples().byFile("images/CT_jpeg_lossless_sv1.dcm");  // 512 × 400
    const auto& xa = Manifest::samples().byFile("multiframe/XA_96frames_jpeg_baseline.dcm");
    const auto& j2k = Manifest::samples().byFile("images/NM_JPEG2000.dcm");

    CHECK(isJpeg(server.get(wadoQuery(ct))));  // image/jpeg is the default
    CHECK(isJpeg(server.get(wadoQuery(ct, "&contentType=image%2Fjpeg&imageQuality=50"))));
    CHECK(isJpeg(server.get(wadoQuery(xa, "&contentType=image%2F*&frameNumber=96"))));
    const auto png = server.get(wadoQuery(ct, "&contentType=image%2Fpng&rows=64&columns=64"));
    REQUIRE(isPng(png));
    CHECK(bigEndian32(png.body, 16) == 64);
    CHECK(bigEndian32(png.body, 20) == 50);
    const auto region =
        server.get(wadoQuery(ct, "&contentType=image%2Fpng&region=0,0,0.5,0.5&windowCenter=40&windowWidth=400"));
    REQUIRE(isPng(region));
    CHECK(bigEndian32(region.body, 16) == 256);
    CHECK(isPng(server.get(wadoQuery(j2k, "&contentType=image%2Fpng"))));

    const auto dicom = server.get(wadoQuery(ct, "&contentType=application%2Fdicom"));
    CHECK(dicom.status == 200);
    CHECK(dicom.contentType == "application/dicom");
    CHECK(dicom.body == fileBytes(ct.file()));
    CHECK(server.get(wadoQuery(ct, "&contentType=application%2Fdicom&transferSyntax=1.2.840.10008.1.2.4.70")).body ==
          dicom.body);
    const auto native =
        server.get(wadoQuery(ct, "&contentType=application%2Fdicom&transferSyntax=1.2.840.10008.1.2.1"));
    CHECK(native.status == 200);
    CHECK(native.body.substr(128, 4) == "DICM");
    CHECK(native.body.size() > 512 * 400 * 2);  // decompressed
    checkJsonError(server.get(wadoQuery(ct, "&contentType=application%2Fdicom&transferSyntax=1.2.840.10008.1.2.4.50")),
                   400);
    checkJsonError(server.get(wadoQuery(j2k, "&contentType=application%2Fdicom&transferSyntax=1.2.840.10008.1.2.1")),
                   400);
    checkJsonError(server.get(wadoQuery(ct, "&contentType=application%2Fdicom&rows=10")), 400);

    // Wrong or missing UIDs, unsupported requests, bad parameters.
    checkJsonError(server.get("/wado?requestType=WADO&studyUID=1.2.3&seriesUID=" + ct["SeriesInstanceUID"] +
                              "&objectUID=" + ct["SOPInstanceUID"]),
                   404);
    checkJsonError(server.get("/wado?requestType=WADO&studyUID=1.2.3&seriesUID=1.2.3&objectUID=1.2.3.4.5.6.7.8.9"),
                   404);
    checkJsonError(server.get("/wado?requestType=WADO&studyUID=1.2.3&seriesUID=1.2.3"), 400);
    checkJsonError(server.get("/wado?requestType=WADO&studyUID=x&seriesUID=1.2.3&objectUID=1.2.3"), 400);
    checkJsonError(server.get("/wado?requestType=WADOX&studyUID=1.2&seriesUID=1.2.3&objectUID=1.2.3"), 400);
    checkJsonError(server.get(wadoQuery(ct, "&anonymize=yes")), 400);
    checkJsonError(server.get(wadoQuery(ct, "&contentType=image%2Fgif")), 406);
    checkJsonError(server.get(wadoQuery(xa, "&frameNumber=97")), 400);
    checkJsonError(server.get(wadoQuery(xa, "&frameNumber=0")), 400);
    checkJsonError(server.get(wadoQuery(ct, "&rows=100000")), 413);
    checkJsonError(server.get(wadoQuery(ct, "&rows=8000&columns=8000")), 413);
    checkJsonError(server.get(wadoQuery(ct, "&windowCenter=40")), 400);
    checkJsonError(server.get(wadoQuery(ct, "&windowCenter=40&windowWidth=abc")), 400);
    checkJsonError(server.get(wadoQuery(ct, "&region=0.5,0.5,0.2,1")), 400);
    checkJsonError(server.get(wadoQuery(ct, "&imageQuality=101")), 400);
}

TEST_CASE("/legacy/wado downloads the stored file", "[integration][images][wado]") {
    auto& server = imagesServer();
    const auto& row = Manifest::samples().byFile("images/CT_small.dcm");
    const auto file =
        server.get("/legacy/wado?requestType=WADO&objectUID=" + row["SOPInstanceUID"] + "&contentType=image%2Fjpeg");
    CHECK(file.status == 200);
    CHECK(file.contentType == "application/dicom");
    CHECK(file.headers.at("content-disposition") == "attachment; filename=\"CT_small.dcm\"");
    CHECK(file.body == fileBytes(row.file()));
    checkJsonError(server.get("/legacy/wado?requestType=WADO"), 400);
    checkJsonError(server.get("/legacy/wado?objectUID=" + row["SOPInstanceUID"]), 400);
    checkJsonError(server.get("/legacy/wado?requestType=WADO&objectUID=1.2.3.4.5.6.7.8.9"), 404);
}

TEST_CASE("malformed samples through every image route: a 4xx with a message or a picture",
          "[integration][images][bad-input]") {
    ImageServer server({"malformed"});
    int run = 0;
    for (const auto& row : Manifest::samples().rows()) {
        if (row.group() != "malformed") continue;
        INFO(row.file());
        std::vector<std::string> requests = {
            "/dic2png?uri=" + urlEncode(ImageServer::uriOf(row.file())),
            "/dic2png?thumbnail=true&uri=" + urlEncode(ImageServer::uriOf(row.file()))};
        const bool indexed =
            tessera::test::malformedSampleOutcomes().at(row.file()) == tessera::test::SampleReadOutcome::Ok;
        if (indexed) {
            requests.push_back("/dic2png?SOPInstanceUID=" + row["SOPInstanceUID"]);
            for (const char* type : {"image%2Fjpeg", "image%2Fpng", "application%2Fdicom"})
                requests.push_back(wadoQuery(row, std::string("&contentType=") + type));
            requests.push_back(wadoQuery(row, "&contentType=application%2Fdicom&transferSyntax=1.2.840.10008.1.2"));
            requests.push_back("/wado?uid=" + row["SOPInstanceUID"]);
            requests.push_back("/legacy/wado?requestType=WADO&objectUID=" + row["SOPInstanceUID"]);
        }
        for (const auto& request : requests) {
            INFO(request);
            const auto answer = server.get(request);
            INFO(answer.body.substr(0, 300));
            CHECK(answer.status < 500);
            if (answer.status >= 400) CHECK(parseObject(answer.body)->has("error"));
        }
        ++run;
    }
    CHECK(run == 9);
    // The damaged pixels are named as such, and the server is still up.
    checkJsonError(server.get("/dic2png?uri=" + urlEncode(ImageServer::uriOf("malformed/MR_truncated_pixeldata.dcm"))),
                   422);
    checkJsonError(
        server.get("/dic2png?uri=" + urlEncode(ImageServer::uriOf("malformed/NM_J2K_corrupt_codestream.dcm"))), 422);
    CHECK(server.get("/dic2png?uri=" + urlEncode(ImageServer::uriOf("images/CT_small.dcm"))).status == 200);
}
