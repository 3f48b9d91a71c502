// Thumbnails made at index time (issue 6, item 4) through the real server: with
// archive.save-thumbnails on, indexing writes one PNG per image into <data>/thumbnails at
// archive.thumbnail-size; /dic2png?thumbnail=true serves it without reading the DICOM file again
// (shown by deleting the file first); unindexing removes it.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"

using tessera::test::Manifest;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::TempDir;
using tessera::test::urlEncode;
namespace fs = std::filesystem;

namespace {

std::size_t pngFilesIn(const fs::path& dir) {
    std::size_t count = 0;
    if (!fs::exists(dir)) return 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".png") ++count;
    return count;
}

// Width and height from a PNG's IHDR chunk (bytes 16-23, big endian).
std::pair<unsigned, unsigned> pngSize(const std::string& png) {
    REQUIRE(png.size() > 24);
    REQUIRE(png.compare(1, 3, "PNG") == 0);
    auto be32 = [&](std::size_t at) {
        unsigned value = 0;
        for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(png[at + i]);
        return value;
    };
    return {be32(16), be32(20)};
}

void waitForTasks(const ServerProcess& server, const std::string& token) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
        const auto listed = server.request("GET", "/index/task", token);
        REQUIRE(listed.status == 200);
        if (parseObject(listed.body)->getValue<int>("count") == 0) return;
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

TEST_CASE("thumbnails are made while indexing, served without the file, and removed on unindex", "[thumbnails]") {
    TempDir dataDir("tessera-thumbs-");
    TempDir corpus("tessera-thumbs-corpus-");
    // Two images with pixel data, one of them multi-frame and RLE-compressed.
    const std::vector<std::string> files{"images/CT_small.dcm", "multiframe/US_PAL_10frames_rle.dcm"};
    for (const auto& file : files) {
        REQUIRE(Manifest::samples().lists(file));
        fs::copy_file(Manifest::samplesDir() / file, corpus.path() / fs::path(file).filename());
    }
    std::ofstream(dataDir.path() / "server.xml")
        << "<config><archive><save-thumbnails>true</save-thumbnails><thumbnail-size>32</thumbnail-size></archive>"
           "<plugins><plugin name=\"file\"><setting key=\"roots\">"
        << corpus.path().string() << "</setting></plugin></plugins></config>\n";

    ServerProcess server({}, dataDir.path());
    const auto token = server.login();
    REQUIRE(server.request("POST", "/management/tasks/index?uri=" + urlEncode("file:" + corpus.path().string()), token)
                .status == 200);
    waitForTasks(server, token);
    const fs::path store = dataDir.path() / "thumbnails";
    CHECK(pngFilesIn(store) == files.size());

    const auto& ct = Manifest::samples().byFile(files[0]);
    const fs::path ctCopy = corpus.path() / fs::path(files[0]).filename();
    fs::remove(ctCopy);  // from now on only the stored thumbnail can answer

    const auto thumbnail =
        server.request("GET", "/dic2png?thumbnail=true&SOPInstanceUID=" + urlEncode(ct["SOPInstanceUID"]), token);
    REQUIRE(thumbnail.status == 200);
    const auto [width, height] = pngSize(thumbnail.body);
    CHECK(std::max(width, height) == 32u);
    // The full image needs the file, which is gone: the thumbnail above did not read it.
    CHECK(server.request("GET", "/dic2png?SOPInstanceUID=" + urlEncode(ct["SOPInstanceUID"]), token).status >= 400);

    const auto unindexed =
        server.request("POST", "/management/tasks/unindex?uri=" + urlEncode("file:" + ctCopy.string()), token);
    REQUIRE(unindexed.status == 200);
    CHECK(pngFilesIn(store) == files.size() - 1);
}
