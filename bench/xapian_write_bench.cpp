// bench_xapian_write: the xapian plugin's write path alone, on real files. Reads the first N
// files of a corpus manifest with core's reader up front (not measured), then indexes them into
// one fresh XapianIndex on one thread in batches and commits. Prints CPU µs per document of the
// indexing part and, from the finished index, terms and positional terms per document and
// index bytes per document.
//
// Made for load-independent measures: run it under
//   valgrind --tool=callgrind --toggle-collect='*indexAll*' bench_xapian_write ...
// and divide the instructions by N (only the indexing and the commit are counted).
//
// Usage: bench_xapian_write --corpus DIR --manifest TSV [--n N] [--batch B] [--dir D] [--keep]
// The manifest's first column is the file path relative to DIR (bench/corpus.sh writes it).


#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "bench_support.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/sdk/index_provider.hpp"

namespace {

using tessera::plugins::xapian::XapianIndex;
using tessera::plugins::xapian::XapianIndexOptions;

struct Options {
    std::filesystem::path corpus;
    std::filesystem::path manifest;
    std::size_t n = 1000;
    std::size_t batch = 256;
    std::filesystem::path dir;
    bool keep = false;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "bench_xapian_write: " << why
              << "\nusage: bench_xapian_write --corpus DIR --manifest TSV [--n N] [--batch B] [--dir D] [--keep]\n";
    std::exit(2);
}

Options parseOptions(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        if (arg == "--corpus")
            options.corpus = value();
        else if (arg == "--manifest")
            options.manifest = value();
        else if (arg == "--n")
            options.n = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--batch")
            options.batch = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--dir")
            options.dir = value();
        else if (arg == "--keep")
            options.keep = true;
        else
            usage("unknown option");
    }
    if (options.corpus.empty() || options.manifest.empty()) usage("--corpus and --manifest are required");
    if (options.n == 0 || options.batch == 0) usage("values must be > 0");
    if (options.dir.empty()) options.dir = std::filesystem::temp_directory_path() / ("bench_xapian_write." + std::to_string(getpid()));
    return options;
}

struct Loaded {
    std::vector<std::unique_ptr<tessera::sdk::DicomObjectView>> views;
    std::vector<tessera::sdk::IndexItem> items;
};

// Not inlined: callgrind's --toggle-collect names this function.
[[gnu::noinline]] std::size_t indexAll(XapianIndex& index, const Loaded& loaded, std::size_t batch) {
    std::size_t indexed = 0;
    for (std::size_t from = 0; from < loaded.items.size(); from += batch) {
        const std::size_t count = std::min(batch, loaded.items.size() - from);
        indexed += index.index(std::span(loaded.items).subspan(from, count)).indexed;
    }
    index.commit();
    return indexed;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parseOptions(argc, argv);
    Loaded loaded;
    {
        const auto files = tessera::bench::manifestFiles(options.corpus, options.manifest, options.n);
        if (!files) usage("cannot read the manifest");
        for (const auto& file : *files) {
            auto result = tessera::core::readDicomFile(file);
            if (result.status != tessera::core::DicomReadStatus::Ok) continue;
            loaded.views.push_back(std::move(result.object));
            loaded.items.push_back({tessera::sdk::Uri::parse("file:" + file.string()), loaded.views.back().get()});
        }
    }
    if (loaded.items.empty()) usage("no readable files");
    std::filesystem::remove_all(options.dir);
    std::size_t indexed = 0;
    double cpu = 0;
    {
        XapianIndex index(options.dir, XapianIndexOptions{});
        const double start = tessera::bench::processCpuSeconds();
        indexed = indexAll(index, loaded, options.batch);
        cpu = tessera::bench::processCpuSeconds() - start;
    }
    // What the index holds, per document.
    Xapian::Database db(options.dir.string());
    double terms = 0, positional = 0;
    for (auto doc = db.postlist_begin(""); doc != db.postlist_end(""); ++doc) {
        for (auto t = db.termlist_begin(*doc); t != db.termlist_end(*doc); ++t) {
            ++terms;
            if (t.positionlist_count() != 0) ++positional;
        }
    }
    const std::uintmax_t bytes = tessera::bench::directoryBytes(options.dir);
    const double docs = static_cast<double>(db.get_doccount());
    std::printf("documents %zu (indexed %zu)\ncpu_us_per_doc %.1f\nterms_per_doc %.1f\npositional_terms_per_doc %.1f\n"
                "index_bytes_per_doc %.0f\n",
                static_cast<std::size_t>(docs), indexed, cpu * 1e6 / static_cast<double>(indexed), terms / docs,
                positional / docs, static_cast<double>(bytes) / docs);
    db.close();
    if (!options.keep) std::filesystem::remove_all(options.dir);
    return 0;
}
