#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tessera/core/imaging/dicom_transcoder.hpp"
#include "tessera/core/imaging/image_renderer.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"

using namespace tessera::core;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::test::Manifest;
using tessera::test::ManifestRow;
using tessera::test::TempDir;
namespace fs = std::filesystem;

namespace {

fs::path samplePath(const std::string& file) {
    return Manifest::samplesDir() / file;
}

bool rendersPixels(const ManifestRow& row) {
    return (row.group() == "core" || row.group() == "variant") && row["pixel_data"] == "yes";
}

// A decoded binary PGM/PPM: what our Pnm output and DCMTK's dcm2pnm tools write.
struct Pnm {
    unsigned columns = 0;
    unsigned rows = 0;
    unsigned channels = 0;
    std::vector<std::uint8_t> pixels;
};

std::optional<Pnm> parsePnm(const std::vector<std::uint8_t>& bytes) {
    Pnm out;
    std::size_t at = 0;
    auto token = [&]() -> std::string {
        while (at < bytes.size() && (std::isspace(bytes[at]) || bytes[at] == '#')) {
            if (bytes[at] == '#')
                while (at < bytes.size() && bytes[at] != '\n') ++at;
            else
                ++at;
        }
        std::string text;
        while (at < bytes.size() && !std::isspace(bytes[at])) text.push_back(static_cast<char>(bytes[at++]));
        return text;
    };
    const std::string magic = token();
    if (magic != "P5" && magic != "P6") return std::nullopt;
    out.channels = magic == "P6" ? 3 : 1;
    out.columns = static_cast<unsigned>(std::stoul(token()));
    out.rows = static_cast<unsigned>(std::stoul(token()));
    if (token() != "255") return std::nullopt;
    ++at;  // the one whitespace byte after maxval
    const std::size_t size = std::size_t{out.columns} * out.rows * out.channels;
    if (bytes.size() < at + size) return std::nullopt;
    out.pixels.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                      bytes.begin() + static_cast<std::ptrdiff_t>(at + size));
    return out;
}

std::vector<std::uint8_t> readBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Pnm renderPnm(const fs::path& file, RenderOptions options = {}) {
    options.format = ImageFormat::Pnm;
    const auto image = renderFrame(file, options);
    auto parsed = parsePnm(image.bytes);
    REQUIRE(parsed);
    REQUIRE(parsed->columns == image.columns);
    REQUIRE(parsed->rows == image.rows);
    return *parsed;
}

// Mean absolute difference per sample; both must have the same shape.
double meanAbsDiff(const Pnm& a, const Pnm& b) {
    REQUIRE(a.columns == b.columns);
    REQUIRE(a.rows == b.rows);
    REQUIRE(a.channels == b.channels);
    double sum = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int{a.pixels[i]} - int{b.pixels[i]});
    return a.pixels.empty() ? 0.0 : sum / static_cast<double>(a.pixels.size());
}

std::uint32_t bigEndian32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
}

ErrorCode errorOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).size() > 10);  // a message a client can read
        return e.code();
    }
    FAIL("no sdk::Error thrown");
    return ErrorCode::Internal;
}

// --- A tiny explicit VR little endian writer, for headers the samples do not have. ---
std::string u16(std::uint16_t v) {
    return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}
std::string u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v & 0xFFFF)) + u16(static_cast<std::uint16_t>(v >> 16));
}
std::string element(std::uint16_t group, std::uint16_t elem, const std::string& vr, std::string value) {
    if (value.size() % 2 == 1) value.push_back(vr == "UI" || vr == "OB" ? '\0' : ' ');
    const bool longForm = vr == "OB" || vr == "OW";
    return u16(group) + u16(elem) + vr +
           (longForm ? u16(0) + u32(static_cast<std::uint32_t>(value.size()))
                     : u16(static_cast<std::uint16_t>(value.size()))) +
           value;
}
// A monochrome 16-bit image whose header says `rows` × `columns` × `frames` but whose pixel data
// is only `pixelBytes` long.
std::string syntheticImage(std::uint16_t rows, std::uint16_t columns, const std::string& frames,
                           std::size_t pixelBytes) {
    std::string meta = element(0x0002, 0x0001, "OB", std::string("\0\1", 2)) +
                       element(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7") +
                       element(0x0002, 0x0003, "UI", "1.2.3.4.5") +
                       element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
    meta = element(0x0002, 0x0000, "UL", u32(static_cast<std::uint32_t>(meta.size()))) + meta;
    std::string data = element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7") +
                       element(0x0008, 0x0018, "UI", "1.2.3.4.5") + element(0x0028, 0x0002, "US", u16(1)) +
                       element(0x0028, 0x0004, "CS", "MONOCHROME2") +
                       (frames.empty() ? std::string() : element(0x0028, 0x0008, "IS", frames)) +
                       element(0x0028, 0x0010, "US", u16(rows)) + element(0x0028, 0x0011, "US", u16(columns)) +
                       element(0x0028, 0x0100, "US", u16(16)) + element(0x0028, 0x0101, "US", u16(16)) +
                       element(0x0028, 0x0102, "US", u16(15)) + element(0x0028, 0x0103, "US", u16(0)) +
                       element(0x7FE0, 0x0010, "OW", std::string(pixelBytes, '\x10'));
    return std::string(128, '\0') + "DICM" + meta + data;
}
std::span<const std::uint8_t> asBytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

bool toolAvailable(const std::string& tool) {
    return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("every sample with pixel data renders every frame's size as the MANIFEST says", "[imaging][samples]") {
    int rendered = 0;
    for (const auto& row : Manifest::samples().rows()) {
        if (!rendersPixels(row)) continue;
        INFO(row.file() << " " << row["transfer_syntax"] << " " << row["photometric_interpretation"]);
        const auto file = samplePath(row.file());
        const unsigned frames = static_cast<unsigned>(std::stoul(row["frames"]));
        CHECK(frameCount(file) == frames);
        for (unsigned frame : {0u, frames - 1}) {
            RenderOptions options;
            options.frame = frame;
            const auto png = renderFrame(file, options);
            CHECK(png.contentType == "image/png");
            CHECK(png.rows == std::stoul(row["rows"]));
            CHECK(png.columns == std::stoul(row["columns"]));
            CHECK(png.colour ==
                  (row["samples_per_pixel"] == "3" || row["photometric_interpretation"] == "PALETTE COLOR"));
            REQUIRE(png.bytes.size() > 33);
            CHECK(png.bytes[1] == 'P');
            CHECK(bigEndian32(png.bytes, 16) == png.columns);  // IHDR width, height
            CHECK(bigEndian32(png.bytes, 20) == png.rows);
            // Not flat under min-max VOI: every sample but one (all zeros) has structure to show.
            if (row.file() != "images/SC_simple_monochrome1.dcm") {
                options.minMaxWindow = true;
                const auto pnm = renderPnm(file, options);
                const auto [low, high] = std::minmax_element(pnm.pixels.begin(), pnm.pixels.end());
                CHECK(*high > *low);
            }
        }
        ++rendered;
    }
    CHECK(rendered == 110);
}

TEST_CASE("renderings match DCMTK's own command-line decode (dcmj2pnm / dcml2pnm)", "[imaging][samples][reference]") {
    if (!toolAvailable("dcmj2pnm") || !toolAvailable("dcml2pnm")) {
        WARN("dcmj2pnm/dcml2pnm not installed (Debian package dcmtk): reference comparison skipped");
        return;
    }
    TempDir temp("tessera-render-ref-");
    int compared = 0;
    for (const auto& row : Manifest::samples().rows()) {
        // DCMTK cannot decode JPEG 2000: those are compared with their lossless variants below.
        if (!rendersPixels(row) || row["dcmtk_render"] == "fail") continue;
        // DCMTK swaps big-endian 32-bit OW pixel data 16 bits at a time and shows nonsense; the
        // variant test below holds this file to its little-endian twin instead.
        if (row["transfer_syntax_uid"] == "1.2.840.10008.1.2.2" && row["bits_allocated"] == "32") continue;
        INFO(row.file() << " " << row["transfer_syntax"]);
        const auto file = samplePath(row.file());
        const fs::path out = temp.path() / ("ref-" + std::to_string(compared) + ".pnm");
        const std::string tool =
            row["transfer_syntax_uid"].rfind("1.2.840.10008.1.2.4.8", 0) == 0 ? "dcml2pnm" : "dcmj2pnm";
        // Min-max VOI on both sides, first frame, raw PNM.
        const std::string command =
            tool + " --quiet +Wm --write-raw-pnm \"" + file.string() + "\" \"" + out.string() + "\"";
        REQUIRE(std::system(command.c_str()) == 0);
        const auto reference = parsePnm(readBytes(out));
        REQUIRE(reference);
        RenderOptions options;
        options.minMaxWindow = true;
        const auto ours = renderPnm(file, options);
        CHECK(meanAbsDiff(ours, *reference) <= 1.0);
        ++compared;
    }
    CHECK(compared >= 95);
}

TEST_CASE("transfer-syntax variants render the same picture as their core file", "[imaging][samples][variants]") {
    std::map<std::string, const ManifestRow*> coreByUid;
    for (const auto& row : Manifest::samples().rows())
        if (row.group() == "core" && row["pixel_data"] == "yes") coreByUid[row["SOPInstanceUID"]] = &row;
    int compared = 0;
    for (const auto& row : Manifest::samples().rows()) {
        if (row.group() != "variant" || row["pixel_data"] != "yes") continue;
        const auto core = coreByUid.find(row["SOPInstanceUID"]);
        if (core == coreByUid.end()) continue;  // a variant of a variant (the RGB set has no core copy)
        INFO(row.file() << " vs " << core->second->file());
        const bool lossy = row["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.51" ||
                           row["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.50" ||
                           row["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.91";
        const unsigned frames = static_cast<unsigned>(std::stoul(row["frames"]));
        for (unsigned frame : {0u, frames - 1}) {
            RenderOptions options;
            options.frame = frame;
            const double diff = meanAbsDiff(renderPnm(samplePath(row.file()), options),
                                            renderPnm(samplePath(core->second->file()), options));
            CHECK(diff <= (lossy ? 6.0 : 0.5));
        }
        ++compared;
    }
    CHECK(compared >= 12);
}

TEST_CASE("the RGB variants agree with each other across RLE, JPEG lossless and J2K", "[imaging][samples][variants]") {
    const auto base = renderPnm(samplePath("ts-variants/SC_rgb/SC_rgb_rle.dcm"));
    CHECK(base.channels == 3);
    for (const char* file : {"ts-variants/SC_rgb/SC_rgb_rle_16bit.dcm", "ts-variants/SC_rgb/SC_rgb_rle_32bit.dcm",
                             "ts-variants/SC_rgb/SC_rgb_jpeg_lossless_gdcm.dcm", "images/SC_rgb_J2K_gdcm.dcm"}) {
        INFO(file);
        CHECK(meanAbsDiff(renderPnm(samplePath(file)), base) <= 1.0);
    }
}

TEST_CASE("malformed samples give a clear error or a picture, never a crash", "[imaging][samples][bad-input]") {
    // What each broken file is: a rendering is fine where the damage is outside the pixels.
    const std::map<std::string, std::optional<ErrorCode>> expected = {
        {"malformed/MR_truncated_pixeldata.dcm", ErrorCode::Corrupted},
        {"malformed/CT_no_meta_leading_junk_byte.dcm", ErrorCode::Corrupted},
        {"malformed/meta_missing_transfer_syntax.dcm", ErrorCode::Corrupted},
        {"malformed/RTDOSE_bad_IS_value.dcm", std::nullopt},
        {"malformed/NM_J2K_corrupt_codestream.dcm", ErrorCode::Corrupted},
        {"malformed/MR_missing_uids.dcm", std::nullopt},
        {"malformed/MR_no_pixel_data_meta_uid_mismatch.dcm", ErrorCode::Unsupported},
        {"malformed/RTIMAGE_meta_without_group_length.dcm", ErrorCode::Unsupported},
        {"malformed/UN_sequence_fragment.dcm", ErrorCode::Unsupported},
    };
    int seen = 0;
    for (const auto& row : Manifest::samples().rows()) {
        if (row.group() != "malformed") continue;
        INFO(row.file());
        REQUIRE(expected.count(row.file()) == 1);
        const auto& outcome = expected.at(row.file());
        const auto file = samplePath(row.file());
        if (outcome) {
            CHECK(errorOf([&] { renderFrame(file, {}); }) == *outcome);
            CHECK(errorOf([&] { renderThumbnailPng(file, 64); }) == *outcome);
            const auto bytes = readBytes(file);
            CHECK(errorOf([&] { renderFrame(std::span<const std::uint8_t>(bytes), {}); }) == *outcome);
        } else {
            CHECK(renderFrame(file, {}).rows == std::stoul(row["rows"]));
        }
        ++seen;
    }
    CHECK(seen == 9);
}

TEST_CASE("objects without pixel data are Unsupported and count zero frames", "[imaging][samples][bad-input]") {
    for (const char* file : {"non-image/SR_basic_text.dcm", "non-image/RTPLAN.dcm", "non-image/ECG_12lead.dcm",
                             "no-preamble/RTSTRUCT_no_meta_implicit.dcm"}) {
        INFO(file);
        CHECK(frameCount(samplePath(file)) == 0);
        CHECK(errorOf([&] { renderFrame(samplePath(file), {}); }) == ErrorCode::Unsupported);
    }
    CHECK(errorOf([&] { renderFrame(samplePath("no/such/file.dcm"), {}); }) == ErrorCode::NotFound);
    CHECK(errorOf([&] { renderFrame(std::span<const std::uint8_t>(), {}); }) == ErrorCode::Corrupted);
    const std::string junk(300, 'x');
    CHECK(errorOf([&] { renderFrame(asBytes(junk), {}); }) == ErrorCode::Corrupted);
}

TEST_CASE("declared sizes are checked before anything is decoded", "[imaging][bad-input]") {
    TempDir temp("tessera-render-");
    SECTION("65535 × 65535 × 2^31 frames overflows 64 bits: TooLarge") {
        const auto bytes = syntheticImage(65535, 65535, "2147483647", 64);
        CHECK(errorOf([&] { renderFrame(asBytes(bytes), {}); }) == ErrorCode::TooLarge);
    }
    SECTION("a frame over the memory limit: TooLarge, and the limit is adjustable") {
        const auto bytes = syntheticImage(65535, 65535, "", 64);  // 8.6 GB declared, 64 bytes present
        CHECK(errorOf([&] { renderFrame(asBytes(bytes), {}); }) == ErrorCode::TooLarge);
        const auto small = syntheticImage(64, 64, "", 64 * 64 * 2);
        RenderOptions options;
        options.maxFrameBytes = 1024;
        CHECK(errorOf([&] { renderFrame(asBytes(small), options); }) == ErrorCode::TooLarge);
        options.maxFrameBytes = 64 * 64 * 2;
        CHECK(renderFrame(asBytes(small), options).rows == 64);
    }
    SECTION("pixel data shorter than declared: Corrupted") {
        const auto bytes = syntheticImage(64, 64, "2", 64 * 64 * 2);  // one frame of two
        CHECK(errorOf([&] { renderFrame(asBytes(bytes), {}); }) == ErrorCode::Corrupted);
        const fs::path file = temp.path() / "short.dcm";
        std::ofstream(file, std::ios::binary) << bytes;
        CHECK(errorOf([&] { renderFrame(file, {}); }) == ErrorCode::Corrupted);
    }
    SECTION("zero rows: Corrupted") {
        const auto bytes = syntheticImage(0, 64, "", 64);
        CHECK(errorOf([&] { renderFrame(asBytes(bytes), {}); }) == ErrorCode::Corrupted);
    }
}

TEST_CASE("frames, sizes, windows and regions are checked and applied", "[imaging][options]") {
    const auto xa = samplePath("multiframe/XA_96frames_jpeg_baseline.dcm");
    const auto ct = samplePath("images/CT_jpeg_lossless_sv1.dcm");  // 512 columns × 400 rows
    SECTION("frame out of range") {
        RenderOptions options;
        options.frame = 96;
        CHECK(errorOf([&] { renderFrame(xa, options); }) == ErrorCode::InvalidArgument);
        options.frame = 95;
        CHECK(renderFrame(xa, options).rows == 512);
        options.frame = 1;
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::InvalidArgument);
    }
    SECTION("different frames are different pictures") {
        RenderOptions first;
        RenderOptions later;
        later.frame = 50;
        CHECK(meanAbsDiff(renderPnm(xa, first), renderPnm(xa, later)) > 1.0);
    }
    SECTION("fit inside rows × columns, aspect kept, up or down") {
        RenderOptions options;
        options.rows = 64;
        options.columns = 64;
        auto image = renderFrame(ct, options);
        CHECK(image.columns == 64);
        CHECK(image.rows == 50);
        options.rows.reset();
        options.columns = 1024;
        image = renderFrame(ct, options);
        CHECK(image.columns == 1024);
        CHECK(image.rows == 800);
        options.columns.reset();
        options.rows = 100;
        image = renderFrame(ct, options);
        CHECK(image.columns == 128);
        CHECK(image.rows == 100);
        const auto thumbnail = renderThumbnailPng(samplePath("images/SC_simple_monochrome1.dcm"), 64);  // 5 × 10
        CHECK(bigEndian32(thumbnail, 16) == 32);
        CHECK(bigEndian32(thumbnail, 20) == 64);
    }
    SECTION("a huge or zero size request is refused") {
        RenderOptions options;
        options.rows = 100000;
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::TooLarge);
        options.rows = 8000;
        options.columns = 8000;
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::TooLarge);  // over 4096² pixels
        options.rows = 0;
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { renderThumbnailPng(ct, 0); }) == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { renderThumbnailPng(ct, 100000); }) == ErrorCode::InvalidArgument);
    }
    SECTION("windows") {
        const auto automatic = renderPnm(ct);
        RenderOptions narrow;
        narrow.windowCenter = 40;
        narrow.windowWidth = 80;
        CHECK(meanAbsDiff(renderPnm(ct, narrow), automatic) > 5.0);
        RenderOptions bad;
        bad.windowCenter = 40;
        bad.windowWidth = 0;
        CHECK(errorOf([&] { renderFrame(ct, bad); }) == ErrorCode::InvalidArgument);
        bad.windowWidth.reset();
        CHECK(errorOf([&] { renderFrame(ct, bad); }) == ErrorCode::InvalidArgument);
    }
    SECTION("MONOCHROME1 is shown inverted") {
        // Every pixel of this sample is 0, which MONOCHROME1 shows as white.
        const auto white = renderPnm(samplePath("images/SC_simple_monochrome1.dcm"));
        CHECK(white.channels == 1);
        CHECK(white.pixels == std::vector<std::uint8_t>(50, 255));
    }
    SECTION("regions") {
        RenderOptions options;
        options.region = ImageRegion{0.25, 0.5, 0.75, 1.0};
        auto image = renderFrame(ct, options);
        CHECK(image.columns == 256);
        CHECK(image.rows == 200);
        options.rows = 100;
        image = renderFrame(ct, options);
        CHECK(image.columns == 128);
        CHECK(image.rows == 100);
        options.region = ImageRegion{0.5, 0.5, 0.5, 1.0};
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::InvalidArgument);
        options.region = ImageRegion{-0.1, 0.0, 1.0, 1.0};
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::InvalidArgument);
    }
    SECTION("formats") {
        RenderOptions options;
        options.format = ImageFormat::Jpeg;
        const auto jpeg = renderFrame(samplePath("images/SC_rgb_implicit.dcm"), options);
        CHECK(jpeg.contentType == "image/jpeg");
        REQUIRE(jpeg.bytes.size() > 4);
        CHECK(jpeg.bytes[0] == 0xFF);
        CHECK(jpeg.bytes[1] == 0xD8);
        CHECK(jpeg.bytes[jpeg.bytes.size() - 2] == 0xFF);
        CHECK(jpeg.bytes[jpeg.bytes.size() - 1] == 0xD9);
        options.jpegQuality = 20;
        CHECK(renderFrame(samplePath("images/SC_rgb_implicit.dcm"), options).bytes.size() < jpeg.bytes.size());
        options.jpegQuality = 0;
        CHECK(errorOf([&] { renderFrame(ct, options); }) == ErrorCode::InvalidArgument);
    }
}

TEST_CASE("bytes in memory render as the file does, and renders run concurrently", "[imaging][concurrency]") {
    const std::vector<std::string> files = {"images/CT_small.dcm",
                                            "images/NM_JPEG2000.dcm",
                                            "multiframe/US_PAL_10frames_rle.dcm",
                                            "images/SC_rgb_jpeg_baseline_ybr_full.dcm",
                                            "ts-variants/MR_small/MR_small_jpeg_ls_lossless.dcm",
                                            "images/OT_deflate.dcm"};
    std::vector<std::vector<std::uint8_t>> expected;
    for (const auto& file : files) {
        expected.push_back(renderFrame(samplePath(file), {}).bytes);
        const auto bytes = readBytes(samplePath(file));
        CHECK(renderFrame(std::span<const std::uint8_t>(bytes), {}).bytes == expected.back());
        CHECK(frameCount(std::span<const std::uint8_t>(bytes)) == frameCount(samplePath(file)));
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < 3; ++round)
                for (std::size_t i = 0; i < files.size(); ++i) {
                    const std::size_t pick = (i + static_cast<std::size_t>(t)) % files.size();
                    if (renderFrame(samplePath(files[pick]), {}).bytes != expected[pick]) ++mismatches;
                }
        });
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == 0);
}

TEST_CASE("a scaled rendering keeps the window of the full-size one", "[imaging][options]") {
    // 512 × 512 CT with its own window: a 128 × 128 rendering is the full one averaged 4 × 4.
    const auto file = samplePath("images/CT-MONO2-16-ankle.dcm");
    const auto full = renderPnm(file);
    RenderOptions options;
    options.rows = 128;
    options.columns = 128;
    const auto small = renderPnm(file, options);
    REQUIRE(small.columns == 128);
    Pnm averaged{128, 128, 1, std::vector<std::uint8_t>(128 * 128)};
    for (unsigned y = 0; y < 128; ++y)
        for (unsigned x = 0; x < 128; ++x) {
            unsigned sum = 0;
            for (unsigned dy = 0; dy < 4; ++dy)
                for (unsigned dx = 0; dx < 4; ++dx) sum += full.pixels[(y * 4 + dy) * 512 + x * 4 + dx];
            averaged.pixels[y * 128 + x] = static_cast<std::uint8_t>(sum / 16);
        }
    CHECK(meanAbsDiff(small, averaged) <= 3.0);
}

TEST_CASE("transcoding to native transfer syntaxes keeps the picture", "[imaging][transcode]") {
    for (const char* file : {"images/CT_jpeg_lossless_sv1.dcm", "ts-variants/MR_small/MR_small_RLE.dcm",
                             "ts-variants/MR_small/MR_small_jpeg_ls_lossless.dcm", "images/OT_deflate.dcm"}) {
        INFO(file);
        const auto original = renderPnm(samplePath(file));
        for (const char* uid : {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"}) {
            INFO(uid);
            const auto bytes = transcodePart10(samplePath(file), uid);
            REQUIRE(bytes.size() > 132);
            CHECK(std::string(bytes.begin() + 128, bytes.begin() + 132) == "DICM");
            RenderOptions options;
            options.format = ImageFormat::Pnm;
            const auto again = parsePnm(renderFrame(std::span<const std::uint8_t>(bytes), options).bytes);
            REQUIRE(again);
            CHECK(meanAbsDiff(*again, original) == 0.0);
        }
    }
    CHECK(storedTransferSyntax(samplePath("images/CT_jpeg_lossless_sv1.dcm")) == "1.2.840.10008.1.2.4.70");
    CHECK(errorOf([] { transcodePart10(samplePath("images/NM_JPEG2000.dcm"), "1.2.840.10008.1.2.1"); }) ==
          ErrorCode::Unsupported);
    CHECK(errorOf([] { transcodePart10(samplePath("images/CT_small.dcm"), "1.2.840.10008.1.2.4.50"); }) ==
          ErrorCode::Unsupported);
    CHECK(errorOf([] { transcodePart10(samplePath("malformed/MR_truncated_pixeldata.dcm"), "1.2.840.10008.1.2.1"); }) ==
          ErrorCode::Corrupted);
}
