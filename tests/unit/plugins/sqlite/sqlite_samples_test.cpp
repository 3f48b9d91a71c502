// The sqlite and xapian providers over the real sample files (../shared/dicom-samples, read by
// the host's DICOM reader): several hundred queries derived from the indexed values themselves
// (exact values, words, phrases, prefix/leading/inner wildcards, ranges, free text, boolean
// mixes) must return the same URIs in the same order from both.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sqlite_test_support.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/test/manifest.hpp"

using namespace sqlite_test;
using tessera::plugins::sqlite::SqliteProvider;
using tessera::plugins::xapian::XapianProvider;

namespace {

/// Escapes query-syntax characters so a value reaches the provider as typed.
std::string escaped(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (std::string_view("\\+-!():^[]\"{}~*?|&/ \t").find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

bool plain(std::string_view value) {
    if (value.empty() || value.size() > 64) return false;
    for (char c : value)
        if (static_cast<unsigned char>(c) < 0x20) return false;
    return true;
}

}  // namespace

TEST_CASE("sqlite and xapian answer alike over the sample files", "[sqlite][samples][xapian]") {
    const auto samples = tessera::test::Manifest::samplesDir();
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(samples))
        if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());

    std::vector<std::unique_ptr<tessera::sdk::DicomObjectView>> views;
    std::vector<tessera::sdk::IndexItem> items;
    for (const auto& file : files) {
        auto read = tessera::core::readDicomFile(file);
        if (read.status != tessera::core::DicomReadStatus::Ok) continue;
        items.push_back({tessera::sdk::Uri::parse("file:" + file.string()), read.object.get()});
        views.push_back(std::move(read.object));
    }
    REQUIRE(items.size() >= 50);

    TempDir dir;
    SqliteProvider sqlite;
    sqlite.open(dir.path() / "index.sqlite");
    XapianProvider xapian;
    xapian.open(dir.path() / "xapian", {}, 1);  // one shard: the same order as sqlite
    const auto sqliteReport = sqlite.index(items);
    const auto xapianReport = xapian.index(items);
    sqlite.commit();
    xapian.commit();
    CHECK(sqliteReport.indexed == items.size());
    CHECK(sqliteReport.indexed == xapianReport.indexed);

    // Queries from the corpus's own values: every few attributes of every object.
    std::set<std::string> queries = {"*:*", "*", "NOT Modality:CT", "Modality:CT OR Modality:MR", "-Modality:MR -Modality:CT",
                                     "StudyDate:[19900101 TO 20001231]", "StudyDate:{* TO 20050101}", "StudyDate:[2010 TO *]",
                                     "SeriesNumber:[1 TO 5]", "InstanceNumber:{1 TO *]", "Rows:[256 TO 512]",
                                     "SliceThickness:[0.5 TO 5]", "PatientName:*", "AccessionNumber:*", "*son*", "a*",
                                     "PatientSex:F AND StudyDate:[* TO 20100101]", "BitsAllocated:16 -PhotometricInterpretation:MONOCHROME2"};
    std::map<std::string, int> perField;
    for (const auto& view : views) {
        view->forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
            if (!plain(a.value) || ++perField[a.keyword] > 6) return;
            const std::string field = a.keyword;
            queries.insert(field + ":" + escaped(a.value));
            const auto space = a.value.find_first_of(" ^");
            if (space != std::string::npos && space > 0) {
                queries.insert(field + ":" + escaped(a.value.substr(0, space)));
                queries.insert(escaped(a.value.substr(0, space)));  // free text
                queries.insert(field + ":\"" + a.value.substr(0, std::min<std::size_t>(a.value.size(), 20)) + "\"");
            }
            if (a.value.size() >= 3) {
                queries.insert(field + ":" + escaped(a.value.substr(0, 2)) + "*");
                queries.insert(field + ":*" + escaped(a.value.substr(a.value.size() - 2)));
                queries.insert(field + ":*" + escaped(a.value.substr(1, 1)) + "?" + escaped(a.value.substr(3, 1)) + "*");
            }
            if (a.vr == "DA" || a.vr == "TM" || a.vr == "IS" || a.vr == "DS" || a.vr == "US") {
                const auto first = a.value.substr(0, a.value.find('\\'));
                if (!first.empty() && first.find('"') == std::string::npos) {
                    queries.insert(field + ":[\"" + first + "\" TO *]");
                    queries.insert(field + ":{* TO \"" + first + "\"}");
                }
            }
        });
    }
    REQUIRE(queries.size() >= 300);
    std::size_t compared = 0, nonEmpty = 0, errorsAlike = 0;
    for (const auto& text : queries) {
        INFO("query: " << text);
        std::vector<std::string> fromSqlite, fromXapian;
        std::string sqliteError, xapianError;
        try {
            fromSqlite = uriList(sqlite, text);
        } catch (const std::exception& e) {
            sqliteError = e.what();
        }
        try {
            fromXapian = uriList(xapian, text);
        } catch (const std::exception& e) {
            xapianError = e.what();
        }
        CHECK(sqliteError.empty() == xapianError.empty());
        if (!sqliteError.empty()) {
            ++errorsAlike;
            continue;
        }
        CHECK(fromSqlite == fromXapian);
        ++compared;
        if (!fromSqlite.empty()) ++nonEmpty;
    }
    CHECK(compared > 250);
    CHECK(nonEmpty > 200);  // the comparison is not of empty answers
    WARN("compared " << compared << " queries (" << nonEmpty << " with matches, " << errorsAlike << " refused by both)");

    // Requested fields agree too.
    for (const char* text : {"*:*", "Modality:CT"}) {
        const auto a = run(sqlite, text, {"PatientName", "StudyDate", "Modality", "SeriesNumber", "AccessionNumber", "uri"});
        const auto b = run(xapian, text, {"PatientName", "StudyDate", "Modality", "SeriesNumber", "AccessionNumber", "uri"});
        REQUIRE(a.results.size() == b.results.size());
        for (std::size_t i = 0; i < a.results.size(); ++i) CHECK(a.results[i].fields == b.results[i].fields);
        const auto all = run(sqlite, text, {"*"});
        const auto allX = run(xapian, text, {"*"});
        REQUIRE(all.results.size() == allX.results.size());
        for (std::size_t i = 0; i < all.results.size(); ++i) CHECK(all.results[i].fields == allX.results[i].fields);
    }
}
