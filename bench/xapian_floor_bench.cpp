// bench_xapian_floor: what indexing one file can cost at least, on the same real files, so that
// the xapian plugin's cost can be put beside its floors and the DCMTK ceiling (issue 3 item 8).
// One program, one measured function per mode, all named measured*() so that
//   valgrind --tool=callgrind --toggle-collect='*measured*' bench_xapian_floor ...
// counts only the measured part (instructions / N = per file). Without valgrind it prints the
// CPU µs (getrusage, user + system) per file of the measured part, per run and the median.
//
// Modes (--mode):
//   dcmtk   bare DCMTK header parse up to PixelData (as bench_dcmtk_header_parse: the ceiling)
//   reader  tessera::core::readDicomFile to a DicomObjectView (parse + UTF-8 view), view freed
//   today   the plugin's XapianIndex (as bench_xapian_write): views read up front, not measured
//   floor   raw Xapian on views read up front; --parts says what each document gets:
//             id        the unique-id term Q<uri> (replace_document needs it)
//             whole     one whole-value term X<id>#<value> per value (lower-cased, `\` split,
//                       dates/times normalised): exact, case-insensitive matching
//             data      the stored attributes in value slot 0, encoded as the plugin does
//             slots     range keys (numbers, dates, times) in value slots, as the plugin does
//             words     word terms W<id>#<word> as the plugin writes them (positional when a
//                       value has several words)
//             fieldset  the one field-set term S<hex> (FieldCatalogue::fieldSetTerm)
//           parts empty = an empty document. --add uses add_document instead of
//           replace_document; --no-termlist opens the database with DB_NO_TERMLIST (implies
//           --add; such an index cannot replace or delete documents: reference only).
// Field ids come from a FieldCatalogue in every floor, as in the plugin (the catalogue's
// metadata is not written: a few hundred bytes per index).
//
// Usage: bench_xapian_floor --corpus DIR --manifest TSV --mode M [--parts a,b] [--add]
//        [--no-termlist] [--n N] [--runs R] [--batch B]
// After the last run of an indexing mode it prints, from the finished index, terms per document
// by kind (Q, S, X, W positional, W boolean), value slots per document and index bytes per doc.

#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "bench_support.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/plugins/xapian/document_codec.hpp"
#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/sdk/index_provider.hpp"

namespace {

namespace fs = std::filesystem;
namespace tx = tessera::plugins::xapian;

struct Parts {
    bool id = false, whole = false, data = false, slots = false, words = false, fieldset = false;
};

struct Options {
    fs::path corpus, manifest;
    std::string mode;
    Parts parts;
    bool add = false, noTermlist = false;
    std::size_t n = 1000, runs = 1, batch = 256;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_xapian_floor: " << why
              << "\nusage: bench_xapian_floor --corpus DIR --manifest TSV --mode dcmtk|reader|today|floor "
                 "[--parts id,whole,data,slots,words,fieldset] [--add] [--no-termlist] [--n N] [--runs R] [--batch B]\n";
    std::exit(2);
}

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value after " + std::string(arg));
            return argv[++i];
        };
        if (arg == "--corpus") o.corpus = value();
        else if (arg == "--manifest") o.manifest = value();
        else if (arg == "--mode") o.mode = value();
        else if (arg == "--n") o.n = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--runs") o.runs = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--batch") o.batch = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--add") o.add = true;
        else if (arg == "--no-termlist") o.noTermlist = o.add = true;
        else if (arg == "--parts") {
            const std::string list = value();
            std::size_t start = 0;
            while (start <= list.size()) {
                const auto end = std::min(list.find(',', start), list.size());
                const std::string_view part = std::string_view(list).substr(start, end - start);
                if (part == "id") o.parts.id = true;
                else if (part == "whole") o.parts.whole = true;
                else if (part == "data") o.parts.data = true;
                else if (part == "slots") o.parts.slots = true;
                else if (part == "words") o.parts.words = true;
                else if (part == "fieldset") o.parts.fieldset = true;
                else if (!part.empty()) usage("unknown part " + std::string(part));
                start = end + 1;
            }
        } else usage("unknown option " + std::string(arg));
    }
    if (o.corpus.empty() || o.manifest.empty()) usage("--corpus and --manifest are required");
    if (o.mode != "dcmtk" && o.mode != "reader" && o.mode != "today" && o.mode != "floor") usage("bad --mode");
    if (o.n == 0 || o.runs == 0 || o.batch == 0) usage("values must be > 0");
    if (!o.add && o.mode == "floor") o.parts.id = true;  // replace_document finds the old one by it
    return o;
}

// ---- measured parts (noinline: callgrind's --toggle-collect names them) ----

[[gnu::noinline]] std::size_t measuredDcmtk(const std::vector<fs::path>& files) {
    std::size_t ok = 0;
    for (const auto& file : files) {
        DcmFileFormat dicom;
        ok += dicom
                  .loadFileUntilTag(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                    ERM_autoDetect, DCM_PixelData)
                  .good();
    }
    return ok;
}

[[gnu::noinline]] std::size_t measuredReader(const std::vector<fs::path>& files) {
    std::size_t ok = 0;
    for (const auto& file : files) ok += tessera::core::readDicomFile(file).status == tessera::core::DicomReadStatus::Ok;
    return ok;
}

[[gnu::noinline]] std::size_t measuredToday(const fs::path& dir, const std::vector<tessera::sdk::IndexItem>& items,
                                            std::size_t batch) {
    tx::XapianIndex index(dir, tx::XapianIndexOptions{});
    std::size_t indexed = 0;
    for (std::size_t from = 0; from < items.size(); from += batch)
        indexed += index.index(std::span(items).subspan(from, std::min(batch, items.size() - from))).indexed;
    index.commit();
    return indexed;
}

/// One floor document: only the parts asked for, built with the plugin's own term functions.
Xapian::Document buildFloor(const tessera::sdk::IndexItem& item, const Parts& parts, tx::FieldCatalogue& catalogue,
                            std::vector<std::pair<std::string, std::string>>& entries, std::string& idTermOut) {
    Xapian::Document doc;
    const std::string& uri = item.uri.str();
    if (parts.id) {
        idTermOut = tx::idTerm(uri);
        doc.add_boolean_term(idTermOut);
    }
    if (!(parts.whole || parts.data || parts.slots || parts.words || parts.fieldset)) return doc;
    std::optional<tx::DocumentEncoder> encoder;
    if (parts.data) encoder.emplace(uri);
    std::vector<std::pair<std::uint32_t, std::string>> keys;
    std::vector<std::uint32_t> fieldIds;
    std::string lowered, normalisedScratch, term, exactPrefix, wordPrefix;
    std::vector<std::string_view> words;
    Xapian::termpos position = 1;
    item.object->forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
        const auto info = catalogue.findOrAdd(a.keyword, a.vr, entries);
        if (!info) return;
        if (encoder) encoder->add(info->id, a.value);
        if (parts.fieldset) fieldIds.push_back(info->id);
        if (!(parts.whole || parts.slots || parts.words)) return;
        const std::string code = std::to_string(info->id);
        exactPrefix.assign(1, 'X').append(code).push_back('#');
        wordPrefix.assign(1, 'W').append(code).push_back('#');
        const bool normalises = info->kind == tx::FieldKind::Date || info->kind == tx::FieldKind::Time;
        const bool freeText = tx::isFreeTextVr(a.vr);
        tx::lowerCaseInto(a.value, lowered);
        tx::forEachValue(lowered, [&](std::string_view component) {
            std::string_view normalised = component;
            if (normalises) {
                normalisedScratch = tx::normaliseForTerm(info->kind, component);
                normalised = normalisedScratch;
            }
            if (parts.whole) doc.add_boolean_term(tx::makeTerm(exactPrefix, normalised, term));
            if (parts.slots && tx::hasSlot(info->kind))
                if (auto key = tx::sortableKey(info->kind, component)) keys.emplace_back(info->id, std::move(*key));
            if (!parts.words) return;
            tx::wordsInto(component, words);
            if (words.size() > 1) {
                for (std::size_t w = 0; w < words.size(); ++w)
                    doc.add_posting(tx::makeTerm(wordPrefix, words[w], term), position + static_cast<Xapian::termpos>(w), 0);
                position += static_cast<Xapian::termpos>(words.size()) + 8;
            } else if (words.size() == 1 && (words.front() != normalised || (freeText && normalises))) {
                doc.add_boolean_term(tx::makeTerm(wordPrefix, words.front(), term));
            }
        });
    });
    if (parts.fieldset) {
        std::sort(fieldIds.begin(), fieldIds.end());
        fieldIds.erase(std::unique(fieldIds.begin(), fieldIds.end()), fieldIds.end());
        doc.add_boolean_term(catalogue.fieldSetTerm(fieldIds, entries));
    }
    std::stable_sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (std::size_t i = 0; i < keys.size();) {
        std::size_t j = i + 1;
        while (j < keys.size() && keys[j].first == keys[i].first) ++j;
        if (j - i == 1) {
            doc.add_value(tx::singleSlot(keys[i].first), std::string(tx::slotKey(keys[i].second)));
        } else {
            std::string packed;
            for (std::size_t k = i; k < j; ++k) tx::appendSlotKey(packed, keys[k].second);
            doc.add_value(tx::multiSlot(keys[i].first), packed);
        }
        i = j;
    }
    if (encoder) doc.add_value(tx::kDocumentSlot, encoder->data());
    return doc;
}

[[gnu::noinline]] std::size_t measuredFloor(const fs::path& dir, const std::vector<tessera::sdk::IndexItem>& items,
                                            const Options& o) {
    int flags = Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS;
    if (o.noTermlist) flags |= Xapian::DB_NO_TERMLIST;
    Xapian::WritableDatabase db(dir.string(), flags);
    tx::FieldCatalogue catalogue;
    std::vector<std::pair<std::string, std::string>> entries;
    std::string idTerm;
    // Built in batches and then written, as the plugin does (build outside the writer's lock).
    std::vector<std::pair<std::string, Xapian::Document>> built;
    for (std::size_t from = 0; from < items.size(); from += o.batch) {
        built.clear();
        for (std::size_t i = from; i < std::min(items.size(), from + o.batch); ++i) {
            Xapian::Document doc = buildFloor(items[i], o.parts, catalogue, entries, idTerm);
            built.emplace_back(idTerm, std::move(doc));
        }
        for (auto& [term, doc] : built) {
            if (o.add) db.add_document(doc);
            else db.replace_document(term, doc);
        }
    }
    db.commit();
    return db.get_doccount();
}

void printIndexStats(const fs::path& dir) {
    Xapian::Database db(dir.string());
    const double docs = static_cast<double>(db.get_doccount());
    double q = 0, s = 0, x = 0, wPos = 0, wBool = 0, other = 0, values = 0;
    try {
        for (auto d = db.postlist_begin(""); d != db.postlist_end(""); ++d) {
            values += static_cast<double>(db.get_document(*d).values_count());
            for (auto t = db.termlist_begin(*d); t != db.termlist_end(*d); ++t) {
                const std::string term = *t;
                const char kind = term.empty() ? '?' : term[0];
                if (kind == 'Q') ++q;
                else if (kind == 'S') ++s;
                else if (kind == 'X') ++x;
                else if (kind == 'W') ++(t.positionlist_count() != 0 ? wPos : wBool);
                else ++other;
            }
        }
    } catch (const Xapian::Error& e) {
        std::printf("termlist: %s\n", e.get_msg().c_str());  // DB_NO_TERMLIST has none
    }
    const std::uintmax_t bytes = tessera::bench::directoryBytes(dir);
    std::printf("documents %.0f\nterms_per_doc Q %.2f S %.2f X %.2f W_positional %.2f W_boolean %.2f other %.2f "
                "total %.2f\nvalue_slots_per_doc %.2f\nindex_bytes_per_doc %.0f\n",
                docs, q / docs, s / docs, x / docs, wPos / docs, wBool / docs, other / docs,
                (q + s + x + wPos + wBool + other) / docs, values / docs, static_cast<double>(bytes) / docs);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parseOptions(argc, argv);
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    if (!dcmDataDict.isDictionaryLoaded()) usage("no DICOM data dictionary (set DCMDICTPATH)");
    const auto listed = tessera::bench::manifestFiles(o.corpus, o.manifest, o.n);
    if (!listed) usage("cannot read the manifest");
    const std::vector<fs::path>& files = *listed;
    if (files.empty()) usage("no files in the manifest");

    std::vector<std::unique_ptr<tessera::sdk::DicomObjectView>> views;
    std::vector<tessera::sdk::IndexItem> items;
    if (o.mode == "today" || o.mode == "floor") {
        for (const auto& file : files) {
            auto result = tessera::core::readDicomFile(file);
            if (result.status != tessera::core::DicomReadStatus::Ok) continue;
            views.push_back(std::move(result.object));
            items.push_back({tessera::sdk::Uri::parse("file:" + file.string()), views.back().get()});
        }
    }
    const fs::path dir = fs::temp_directory_path() / ("bench_xapian_floor." + std::to_string(getpid()));
    std::vector<double> perFile;
    std::size_t done = 0;
    for (std::size_t run = 0; run < o.runs; ++run) {
        fs::remove_all(dir);
        const double start = tessera::bench::processCpuSeconds();
        if (o.mode == "dcmtk") done = measuredDcmtk(files);
        else if (o.mode == "reader") done = measuredReader(files);
        else if (o.mode == "today") done = measuredToday(dir, items, o.batch);
        else done = measuredFloor(dir, items, o);
        const double cpu = tessera::bench::processCpuSeconds() - start;
        perFile.push_back(cpu * 1e6 / static_cast<double>(files.size()));
        std::printf("run %zu: files %zu ok %zu cpu_us_per_file %.1f\n", run + 1, files.size(), done, perFile.back());
    }
    std::sort(perFile.begin(), perFile.end());
    std::printf("median cpu_us_per_file %.1f\n", perFile[perFile.size() / 2]);
    if (o.mode == "today" || o.mode == "floor") printIndexStats(dir);
    fs::remove_all(dir);
    return 0;
}
