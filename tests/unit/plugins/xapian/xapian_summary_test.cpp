// Document summaries (value slot 1, document_summary.hpp): a search asking only summary fields
// reads them and answers exactly as the full records do (first occurrence of repeated
// attributes included); documents without a summary, or with one of another version, are read
// from their full record (an index written before summaries); a damaged summary is reported.

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_summary.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/plugins/xapian/xapian_provider.hpp"
#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using namespace tessera::plugins::xapian;
using tessera::sdk::ErrorCode;

namespace {

/// A field that is never in the summary: asking for it forces the full record.
const std::string kNotSummarised = "SliceThickness";

const std::vector<std::string> kQueries = {
    "*:*", "Modality:CT", "Modality:MR OR Modality:CR", "PatientName:DOE*", "StudyDate:[20150101 TO 20151231]",
    "StudyDescription:*", "ViewCodeSequence_CodeValue:R-102C2", "NOT Modality:CT"};

const std::vector<std::vector<std::string>> kFieldLists = {
    {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality", "PatientID", "PatientName"},
    {"PatientName", "StudyDate", "StudyTime", "StudyDescription", "ModalitiesInStudy", "uri", "NoSuchField"},
    {"SeriesNumber", "SeriesDescription", "InstanceNumber", "BodyPartExamined", "SOPClassUID", "InstitutionName"},
    {},
};

using Answer = std::vector<std::pair<std::string, std::map<std::string, std::string>>>;

Answer answer(XapianProvider& provider, const std::string& text, std::vector<std::string> fields, bool forceFull) {
    if (forceFull) fields.push_back(kNotSummarised);
    const auto response = run(provider, text, fields);
    Answer out;
    for (const auto& r : response.results) {
        auto values = r.fields;
        if (forceFull) values.erase(kNotSummarised);
        out.emplace_back(r.uri.str(), std::move(values));
    }
    return out;
}

void checkSameAnswers(XapianProvider& provider) {
    for (const auto& text : kQueries) {
        for (const auto& fields : kFieldLists) {
            INFO(text << " / " << fields.size() << " fields");
            const auto summarised = answer(provider, text, fields, false);
            const auto full = answer(provider, text, fields, true);
            CHECK_FALSE(full.empty());
            CHECK(summarised == full);
        }
    }
}

/// Rewrites the summary slot of every `every`-th document of the (single-shard) index at `path`.
void rewriteSummaries(const std::filesystem::path& path, int every, const std::optional<std::string>& value) {
    Xapian::WritableDatabase db(path.string(), Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS);
    int n = 0;
    for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
        if (n++ % every != 0) continue;
        Xapian::Document doc = db.get_document(*it);
        if (value)
            doc.add_value(kSummarySlot, *value);
        else
            doc.remove_value(kSummarySlot);
        db.replace_document(*it, doc);
    }
    db.commit();
}

}  // namespace

TEST_CASE("xapian summary fields: DIM and common C-FIND keys only", "[xapian][summary]") {
    for (const char* keyword : {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality", "PatientID",
                                "PatientName", "StudyDate", "StudyDescription", "NumberOfStudyRelatedInstances",
                                "SOPClassUID", "InstanceNumber"})
        CHECK(isSummaryField(keyword));
    for (const char* keyword : {"", "SliceThickness", "ImageType", "modality", "PixelData", "ViewCodeSequence_CodeValue",
                                "PatientSize", "StudyTim", "patientID", "1StudyDate",
                                "StudyInstanceUIDStudyInstanceUIDStudyInstanceUIDStudyInstanceUIDStudyInstanceUID"})
        CHECK_FALSE(isSummaryField(keyword));
    CHECK(summaryData(std::string(1, kSummaryVersion) + "x") == "x");
    CHECK(summaryData(std::string(1, static_cast<char>(kSummaryVersion + 1)) + "x").empty());
    CHECK(summaryData("").empty());
}

TEST_CASE("xapian summaries hold the first occurrence of each summary field, small", "[xapian][summary]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        XapianProvider provider;
        provider.open(path, {}, 1);
        Instance inst;
        inst.uri = "file:/summary/one.dcm";
        inst.view.add(0x00080060, "Modality", "CS", "CT");
        inst.view.add(0x00180050, "SliceThickness", "DS", "5");
        inst.view.add(0x00080060, "Modality", "CS", "SECOND");  // as a sequence item would repeat it
        inst.view.add(0x00100010, "PatientName", "PN", "DOE^JANE");
        REQUIRE(indexAll(provider, {inst}).indexed == 1);
        const auto r = run(provider, "*:*", {"Modality", "PatientName"});
        REQUIRE(r.results.size() == 1);
        CHECK(r.results[0].fields == std::map<std::string, std::string>{{"Modality", "CT"}, {"PatientName", "DOE^JANE"}});
    }
    Xapian::Database db(path.string());
    const auto summary = db.get_document(1).get_value(kSummarySlot);
    REQUIRE_FALSE(summaryData(summary).empty());
    CHECK(summary.find("SECOND") == std::string::npos);
    CHECK(summary.find("5") == std::string::npos);
    CHECK(summary.find("DOE^JANE") != std::string::npos);
    CHECK(summary.size() < db.get_document(1).get_value(kDocumentSlot).size());
}

TEST_CASE("xapian answers from summaries exactly as from full records", "[xapian][summary]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);
    REQUIRE(indexAll(provider, makeCorpus()).errors == 0);
    checkSameAnswers(provider);
    // Paged: the summary cursor starts mid-stream.
    CHECK(run(provider, "*:*", {"SOPInstanceUID"}, 5, 3).results.size() == 3);
    CHECK(answer(provider, "Modality:MR", {"SOPInstanceUID"}, false).size() ==
          answer(provider, "Modality:MR", {"SOPInstanceUID"}, true).size());
}

TEST_CASE("xapian reads the full record of documents without a summary of this version", "[xapian][summary]") {
    const auto corpus = makeCorpus();
    for (const std::optional<std::string>& replacement :
         {std::optional<std::string>(), std::optional<std::string>(std::string(1, static_cast<char>(kSummaryVersion + 1)) + "junk")}) {
        INFO((replacement ? "other version" : "no summary"));
        TempDir dir;
        const auto path = dir.path() / "index";
        {
            XapianProvider provider;
            provider.open(path, {}, 1);
            REQUIRE(indexAll(provider, corpus).errors == 0);
        }
        // Every other document as an index of before summaries (or of another summary version) has it.
        rewriteSummaries(path, 2, replacement);
        XapianProvider provider;
        provider.open(path, {}, 1);
        checkSameAnswers(provider);
        const auto all = run(provider, "*:*", {"SOPInstanceUID"});
        CHECK(all.results.size() == corpus.size());
        for (const auto& r : all.results) CHECK_FALSE(r.fields.at("SOPInstanceUID").empty());
    }
}

TEST_CASE("xapian reports a damaged summary", "[xapian][summary]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        XapianProvider provider;
        provider.open(path, {}, 1);
        REQUIRE(indexAll(provider, makeCorpus()).errors == 0);
    }
    // Right version, then a URI length running past the end.
    rewriteSummaries(path, 3, std::string(1, kSummaryVersion) + std::string(1, '\x01') + "\x7f" "short");
    XapianProvider provider;
    provider.open(path, {}, 1);
    try {
        run(provider, "*:*", {"SOPInstanceUID"});
        FAIL("no error for a damaged summary");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Corrupted);
    }
    // The full records are intact: a search that needs them answers.
    CHECK(run(provider, "*:*", {"SOPInstanceUID", kNotSummarised}).results.size() == makeCorpus().size());
}
