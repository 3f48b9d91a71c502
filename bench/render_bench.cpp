// Rendering speed and memory, in process (no HTTP): what /dic2png?thumbnail and WADO image/jpeg
// cost per request beyond the lookup and the transfer.
//
//   bench_render <samples dir> [repeats]
//
// 1. Thumbnails (64 × 64 PNG, renderThumbnailPng) of every file of MANIFEST.tsv with pixel data
//    in the core group: ms per instance.
// 2. WADO image/jpeg at full size (renderFrame, Jpeg, quality 90): p50/p95 over the same files,
//    `repeats` rounds, and the same for the 512 × 512 CT (images/CT-MONO2-16-ankle.dcm).
// 3. The reference: `dcmj2pnm --write-jpeg` on the same CT (a process per image, as a CLI is
//    used), for a ratio.
// 4. Resident memory (VmRSS, VmHWM from /proc/self/status) while every frame of the 96-frame XA
//    is rendered one after another.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/core/imaging/image_renderer.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

long statusKb(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return -1;
}

// Files of the core group with pixel data, from MANIFEST.tsv (columns by header name).
std::vector<fs::path> imageFiles(const fs::path& samples) {
    std::ifstream in(samples / "MANIFEST.tsv");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    for (std::stringstream s(line); std::getline(s, line, '\t');) header.push_back(line);
    const auto column = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const auto fileCol = column("file"), groupCol = column("group"), pixelCol = column("pixel_data");
    std::vector<fs::path> files;
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        for (std::stringstream s(line); std::getline(s, line, '\t');) cells.push_back(line);
        if (cells.size() > pixelCol && cells[groupCol] == "core" && cells[pixelCol] == "yes")
            files.push_back(samples / cells[fileCol]);
    }
    return files;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: bench_render <samples dir> [repeats]\n";
        return 2;
    }
    const fs::path samples = argv[1];
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const auto files = imageFiles(samples);
    const fs::path ct = samples / "images/CT-MONO2-16-ankle.dcm";
    const fs::path xa = samples / "multiframe/XA_96frames_jpeg_baseline.dcm";
    tessera::core::renderThumbnailPng(ct, 64);  // codec registration, page cache

    auto start = Clock::now();
    for (int r = 0; r < repeats; ++r)
        for (const auto& file : files) tessera::core::renderThumbnailPng(file, 64);
    const double thumbMs = msSince(start) / (static_cast<double>(files.size()) * repeats);

    tessera::core::RenderOptions jpeg;
    jpeg.format = tessera::core::ImageFormat::Jpeg;
    std::vector<double> sampleTimes;
    for (int r = 0; r < repeats; ++r)
        for (const auto& file : files) {
            start = Clock::now();
            tessera::core::renderFrame(file, jpeg);
            sampleTimes.push_back(msSince(start));
        }
    std::vector<double> ctTimes;
    for (int r = 0; r < repeats * 20; ++r) {
        start = Clock::now();
        tessera::core::renderFrame(ct, jpeg);
        ctTimes.push_back(msSince(start));
    }

    const fs::path out = fs::temp_directory_path() / "tessera-bench-render.jpg";
    const std::string command = "dcmj2pnm --quiet --write-jpeg \"" + ct.string() + "\" \"" + out.string() + "\"";
    std::vector<double> cliTimes;
    for (int r = 0; r < repeats * 4; ++r) {
        start = Clock::now();
        if (std::system(command.c_str()) != 0) break;
        cliTimes.push_back(msSince(start));
    }
    std::error_code ignored;
    fs::remove(out, ignored);

    const long rssBefore = statusKb("VmRSS");
    long rssPeak = rssBefore;
    start = Clock::now();
    tessera::core::RenderOptions frame;
    frame.format = tessera::core::ImageFormat::Jpeg;
    for (unsigned f = 0; f < 96; ++f) {
        frame.frame = f;
        tessera::core::renderFrame(xa, frame);
        rssPeak = std::max(rssPeak, statusKb("VmRSS"));
    }
    const double xaMs = msSince(start);

    std::printf("files with pixel data (core)        %zu, %d rounds\n", files.size(), repeats);
    std::printf("thumbnail 64 PNG                    %.2f ms/instance\n", thumbMs);
    std::printf("WADO image/jpeg, sample set         p50 %.2f ms  p95 %.2f ms\n", percentile(sampleTimes, 0.5),
                percentile(sampleTimes, 0.95));
    std::printf("WADO image/jpeg, 512x512 CT         p50 %.2f ms  p95 %.2f ms\n", percentile(ctTimes, 0.5),
                percentile(ctTimes, 0.95));
    if (!cliTimes.empty())
        std::printf("dcmj2pnm --write-jpeg, same CT      p50 %.2f ms (process per image; ratio %.1fx)\n",
                    percentile(cliTimes, 0.5), percentile(cliTimes, 0.5) / percentile(ctTimes, 0.5));
    std::printf("XA 96 frames, every frame to JPEG   %.1f ms total, %.2f ms/frame\n", xaMs, xaMs / 96);
    std::printf("RSS rendering the XA                before %ld KiB, peak while rendering %ld KiB, VmHWM %ld KiB\n",
                rssBefore, rssPeak, statusKb("VmHWM"));
    return 0;
}
