// bench_dcmtk_header_parse: the indexing ceiling. Parses the header (up to PixelData) of every
// file under a directory with bare DCMTK in one process and one thread — the reference issue 3
// names — and, on the same files in the same process, with Tessera's own reader
// (tessera::core::readDicomFile) on one and on two threads, so a report shows how much of the
// indexing time is parsing, how much is our conversion to a DicomObjectView, and what the rest
// of the pipeline (enumeration, the index itself) costs. Bare DCMTK on two threads shows how far
// DCMTK itself scales (its data dictionary is shared behind a lock).
//
// Usage: bench_dcmtk_header_parse DIR [--runs R] [--tsv]
// Every run measures all three readers in turn (interleaved, so drift on a shared machine hits
// them alike); the medians over the runs are printed last. --tsv prints machine-readable lines:
//   run<TAB>reader<TAB>index<TAB>files<TAB>seconds<TAB>files_per_s<TAB>ok<TAB>failed<TAB>cpu_us_per_file
//   median<TAB>reader<TAB>files_per_s<TAB>cpu_us_per_file
// CPU time per file (process CPU time, all threads) does not depend on what else the machine is
// running, so it is the steadier figure on a shared machine.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tessera/core/dicom/dicom_dictionary.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
    fs::path dir;
    int runs = 3;
    bool tsv = false;
};

struct Tally {
    double seconds = 0;
    double cpuSeconds = 0;  // process CPU time, all threads: independent of other load on the machine
    std::size_t ok = 0;
    std::size_t failed = 0;
};

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr, "bench_dcmtk_header_parse: %s\nUsage: bench_dcmtk_header_parse DIR [--runs R] [--tsv]\n",
                 problem.c_str());
    std::exit(2);
}

Options parseOptions(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--tsv") {
            options.tsv = true;
        } else if (arg == "--runs") {
            if (i + 1 >= argc) usage("--runs needs a value");
            const std::string_view value = argv[++i];
            const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), options.runs);
            if (error != std::errc() || end != value.data() + value.size() || options.runs < 1 || options.runs > 100) {
                usage("--runs must be 1-100");
            }
        } else if (arg.starts_with("-")) {
            usage("unknown option " + std::string(arg));
        } else if (options.dir.empty()) {
            options.dir = arg;
        } else {
            usage("one directory only");
        }
    }
    if (options.dir.empty()) usage("no directory given");
    if (!fs::is_directory(options.dir)) usage(options.dir.string() + " is not a directory");
    return options;
}

// Sorted, so every reader walks the files in the same (on-disk creation) order.
std::vector<fs::path> listFiles(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// Reads every byte once so that the first measured reader does not pay for a cold page cache
// and the others do not get it for free.
std::uintmax_t warmPageCache(const std::vector<fs::path>& files) {
    std::vector<char> buffer(1 << 16);
    std::uintmax_t total = 0;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
            total += static_cast<std::uintmax_t>(in.gcount());
        }
    }
    return total;
}

double processCpuSeconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

bool parseWithDcmtk(const fs::path& file) {
    DcmFileFormat dicom;
    return dicom
        .loadFileUntilTag(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                          DCM_PixelData)
        .good();
}

bool readWithTessera(const fs::path& file) {
    return tessera::core::readDicomFile(file).status == tessera::core::DicomReadStatus::Ok;
}

// `threads` workers take files from one shared counter; the calling thread is one of them.
Tally readAll(const std::vector<fs::path>& files, unsigned threads, bool (*read)(const fs::path&)) {
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> ok{0};
    std::atomic<std::size_t> failed{0};
    auto work = [&] {
        std::size_t myOk = 0;
        std::size_t myFailed = 0;
        for (std::size_t i = next++; i < files.size(); i = next++) {
            ++(read(files[i]) ? myOk : myFailed);
        }
        ok += myOk;
        failed += myFailed;
    };
    const auto start = Clock::now();
    const double cpuStart = processCpuSeconds();
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& thread : pool) thread.join();
    Tally tally;
    tally.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    tally.cpuSeconds = processCpuSeconds() - cpuStart;
    tally.ok = ok;
    tally.failed = failed;
    return tally;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parseOptions(argc, argv);
    // DCMTK warns for every file it stops reading at PixelData (what we ask of it) and logs every
    // parse error; failures are counted instead.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    // Load the dictionary outside the timed region (DCMTK loads it lazily on first use).
    if (!tessera::core::dictionaryLoaded() || !dcmDataDict.isDictionaryLoaded()) {
        std::fprintf(stderr, "bench_dcmtk_header_parse: no DICOM data dictionary (set DCMDICTPATH)\n");
        return 1;
    }

    const auto listStart = Clock::now();
    const auto files = listFiles(options.dir);
    const double listSeconds = std::chrono::duration<double>(Clock::now() - listStart).count();
    if (files.empty()) {
        std::fprintf(stderr, "bench_dcmtk_header_parse: no files under %s\n", options.dir.c_str());
        return 1;
    }
    const auto bytes = warmPageCache(files);
    if (!options.tsv) {
        std::printf("%zu files, %.1f MB, listed in %.3f s\n", files.size(), static_cast<double>(bytes) / 1e6,
                    listSeconds);
    }

    struct Reader {
        std::string name;
        std::function<Tally()> run;
    };
    const std::vector<Reader> readers = {
        {"dcmtk-1t", [&] { return readAll(files, 1, parseWithDcmtk); }},
        {"dcmtk-2t", [&] { return readAll(files, 2, parseWithDcmtk); }},
        {"tessera-1t", [&] { return readAll(files, 1, readWithTessera); }},
        {"tessera-2t", [&] { return readAll(files, 2, readWithTessera); }},
    };
    std::map<std::string, std::vector<double>> rates;
    std::map<std::string, std::vector<double>> cpuPerFile;
    int exitCode = 0;
    for (int run = 1; run <= options.runs; ++run) {
        for (const auto& reader : readers) {
            const Tally tally = reader.run();
            const double rate = static_cast<double>(files.size()) / tally.seconds;
            const double cpuMicros = tally.cpuSeconds * 1e6 / static_cast<double>(files.size());
            rates[reader.name].push_back(rate);
            cpuPerFile[reader.name].push_back(cpuMicros);
            if (tally.failed > 0) exitCode = 3;  // the corpus should be all good files
            if (options.tsv) {
                std::printf("run\t%s\t%d\t%zu\t%.4f\t%.1f\t%zu\t%zu\t%.1f\n", reader.name.c_str(), run,
                            files.size(), tally.seconds, rate, tally.ok, tally.failed, cpuMicros);
            } else {
                std::printf("run %d  %-11s %8.3f s  %9.1f files/s  %7.1f us CPU/file  ok %zu  failed %zu\n", run,
                            reader.name.c_str(), tally.seconds, rate, cpuMicros, tally.ok, tally.failed);
            }
            std::fflush(stdout);
        }
    }
    for (const auto& reader : readers) {
        const double rate = median(rates[reader.name]);
        const double cpuMicros = median(cpuPerFile[reader.name]);
        if (options.tsv) {
            std::printf("median\t%s\t%.1f\t%.1f\n", reader.name.c_str(), rate, cpuMicros);
        } else {
            std::printf("median of %d  %-11s %9.1f files/s  %7.1f us CPU/file\n", options.runs, reader.name.c_str(),
                        rate, cpuMicros);
        }
    }
    return exitCode;
}
