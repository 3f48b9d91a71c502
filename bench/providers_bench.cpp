// bench_providers: index/query providers side by side, in process, through the real plugin
// loader (issue 4, item 4). For each named plugin library (default: xapian and sqlite) it loads
// the set into a fresh data directory, indexes a corpus of DICOM files (read with Tessera's
// reader on --threads threads and handed over in batches, as the server's indexing pipeline
// does), commits, then times the study-level queries a study list makes:
//   patient-id      PatientID:<id>                      (exact)
//   name-wildcard   PatientName:<abc>*
//   date-range      StudyDate:[<yyyymm01> TO <yyyymm28>]
//   modalities      Modality:CT OR Modality:MR           (what ModalitiesInStudy=CT\MR asks)
// with the fields of a study row and a page of 100, --queries timed calls each after 20 warm-up
// calls. Values are taken from the corpus MANIFEST so every query has hits.
//
// Usage: bench_providers --plugin-dir DIR --corpus DIR --manifest TSV [--plugins xapian,sqlite]
//                        [--threads T] [--runs R] [--queries Q] [--work DIR]
// Prints one TSV line per figure (index <plugin> <files/s> ..., query <plugin> <kind> <hits>
// <p50 ms> <p95 ms>) and then a side-by-side table. Not a test.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/query/query_parser.hpp"
#include "tessera/sdk/error.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using tessera::core::PluginHost;

struct Options {
    fs::path pluginDir, corpus, manifest, work = fs::temp_directory_path() / "tessera-bench-providers";
    std::vector<std::string> plugins{"xapian", "sqlite"};
    unsigned threads = 2;
    unsigned runs = 3;
    std::size_t queries = 200;
};

struct QueryKind {
    std::string name, text;
};

struct ProviderFigures {
    std::vector<double> filesPerSecond;
    std::map<std::string, std::pair<std::size_t, std::vector<double>>> latency;  // kind → hits, p50s
    std::map<std::string, std::vector<double>> p95;
};

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5)];
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
    return parts;
}

std::vector<fs::path> corpusFiles(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink))
        if (entry.is_regular_file() && entry.path().extension() == ".dcm") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<QueryKind> queryKinds(const fs::path& manifest) {
    std::ifstream in(manifest);
    std::string line;
    std::getline(in, line);
    const auto header = split(line, '\t');
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) rows.push_back(split(line, '\t'));
    if (rows.empty()) throw std::runtime_error("empty manifest");
    const auto& row = rows[rows.size() / 2];
    auto column = [&](const std::string& name) {
        const auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) throw std::runtime_error("manifest has no column " + name);
        return row.at(static_cast<std::size_t>(it - header.begin()));
    };
    const std::string family = split(column("PatientName"), '^').front();
    const std::string month = column("StudyDate").substr(0, 6);
    return {{"patient-id", "PatientID:" + column("PatientID")},
            {"name-wildcard", "PatientName:" + family.substr(0, 3) + "*"},
            {"date-range", "StudyDate:[" + month + "01 TO " + month + "28]"},
            {"modalities", "Modality:CT OR Modality:MR"}};
}

// Parses the corpus on `threads` threads and indexes it in batches; returns files/s (wall).
double indexCorpus(tessera::sdk::IndexProvider& indexer, const std::vector<fs::path>& files, unsigned threads) {
    constexpr std::size_t kBatch = 256;
    std::atomic<std::size_t> next{0}, errors{0};
    const auto started = Clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            std::vector<std::unique_ptr<tessera::sdk::DicomObjectView>> views;
            std::vector<tessera::sdk::IndexItem> batch;
            auto flush = [&] {
                if (!batch.empty()) errors += indexer.index(batch).errors;
                batch.clear();
                views.clear();
            };
            for (std::size_t i; (i = next++) < files.size();) {
                auto read = tessera::core::readDicomFile(files[i]);
                if (read.status != tessera::core::DicomReadStatus::Ok) {
                    ++errors;
                    continue;
                }
                views.push_back(std::move(read.object));
                batch.push_back({tessera::sdk::Uri::parse("file:" + files[i].string()), views.back().get()});
                if (batch.size() == kBatch) flush();
            }
            flush();
        });
    }
    for (auto& worker : workers) worker.join();
    indexer.commit();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (errors != 0) std::cerr << errors << " files not indexed\n";
    return static_cast<double>(files.size()) / seconds;
}

void timeQueries(tessera::sdk::QueryProvider& provider, const std::vector<QueryKind>& kinds, std::size_t queries,
                 ProviderFigures& figures) {
    for (const auto& kind : kinds) {
        tessera::sdk::QueryRequest request;
        request.text = kind.text;
        request.query = tessera::core::parseQuery(kind.text);
        request.fields = {"PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "StudyDescription",
                          "Modality"};
        request.limit = 100;
        std::vector<double> times;
        std::size_t hits = 0;
        for (std::size_t i = 0; i < queries + 20; ++i) {
            const auto started = Clock::now();
            const auto response = provider.query(request);
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
            hits = response.total;
            if (i >= 20) times.push_back(ms);
        }
        auto& entry = figures.latency[kind.name];
        entry.first = hits;
        entry.second.push_back(percentile(times, 0.5));
        figures.p95[kind.name].push_back(percentile(times, 0.95));
    }
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) throw std::runtime_error("missing value for " + arg);
        const std::string value = argv[++i];
        if (arg == "--plugin-dir") options.pluginDir = value;
        else if (arg == "--corpus") options.corpus = value;
        else if (arg == "--manifest") options.manifest = value;
        else if (arg == "--work") options.work = value;
        else if (arg == "--plugins") options.plugins = split(value, ',');
        else if (arg == "--threads") options.threads = static_cast<unsigned>(std::stoul(value));
        else if (arg == "--runs") options.runs = static_cast<unsigned>(std::stoul(value));
        else if (arg == "--queries") options.queries = std::stoul(value);
        else throw std::runtime_error("unknown option " + arg);
    }
    if (options.pluginDir.empty() || options.corpus.empty() || options.manifest.empty())
        throw std::runtime_error("--plugin-dir, --corpus and --manifest are required");
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        const auto files = corpusFiles(options.corpus);
        const auto kinds = queryKinds(options.manifest);
        std::map<std::string, ProviderFigures> figures;
        for (unsigned run = 0; run < options.runs; ++run) {
            for (const auto& plugin : options.plugins) {
                const fs::path dataRoot = options.work / (plugin + "-" + std::to_string(run));
                fs::remove_all(dataRoot);
                PluginHost host({dataRoot, {}, [](tessera::sdk::LogLevel, const std::string& line) {
                                     std::cerr << line << "\n";
                                 },
                                 {}});
                host.loadLibrary(options.pluginDir / ("tessera-" + plugin + ".so"));
                auto* indexer = host.registry().index(plugin);
                auto* searcher = host.registry().query(plugin);
                if (indexer == nullptr || searcher == nullptr)
                    throw std::runtime_error("plugin " + plugin + " has no index and query provider named " + plugin);
                const double rate = indexCorpus(*indexer, files, options.threads);
                figures[plugin].filesPerSecond.push_back(rate);
                std::printf("index\t%s\t%.0f\n", plugin.c_str(), rate);
                timeQueries(*searcher, kinds, options.queries, figures[plugin]);
                host.shutdown();
                fs::remove_all(dataRoot);
            }
        }
        std::printf("\n%zu files, %u parser threads, medians of %u runs; queries: page of 100, %zu timed calls\n\n",
                    files.size(), options.threads, options.runs, options.queries);
        std::printf("| figure |");
        for (const auto& plugin : options.plugins) std::printf(" %s |", plugin.c_str());
        std::printf("\n|---|");
        for (std::size_t i = 0; i < options.plugins.size(); ++i) std::printf("---:|");
        std::printf("\n| index files/s (parse included) |");
        for (const auto& plugin : options.plugins) std::printf(" %.0f |", median(figures[plugin].filesPerSecond));
        std::printf("\n");
        for (const auto& kind : kinds) {
            std::printf("| %s `%s` hits |", kind.name.c_str(), kind.text.c_str());
            for (const auto& plugin : options.plugins) std::printf(" %zu |", figures[plugin].latency[kind.name].first);
            std::printf("\n| %s p50 / p95 ms |", kind.name.c_str());
            for (const auto& plugin : options.plugins)
                std::printf(" %.3f / %.3f |", median(figures[plugin].latency[kind.name].second),
                            median(figures[plugin].p95[kind.name]));
            std::printf("\n");
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_providers: " << e.what() << "\n";
        return 1;
    }
}
