// The query semantics of the xapian provider over a hand-built corpus of 20 instances, queries
// written as clients write them and parsed by the host's parser.

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using tessera::plugins::xapian::XapianProvider;
using tessera::sdk::ErrorCode;

namespace {

struct Fixture {
    TempDir dir;
    XapianProvider provider;
    std::vector<Instance> corpus = makeCorpus();

    // shards = 0: the default count (sharded on a multi-core machine).
    explicit Fixture(std::size_t shards = 0) {
        provider.open(dir.path() / "index", {}, shards);
        auto report = indexAll(provider, corpus);
        REQUIRE(report.indexed == corpus.size());
        REQUIRE(report.errors == 0);
    }
};

ErrorCode errorCodeOf(XapianProvider& provider, std::string_view text) {
    try {
        run(provider, text);
    } catch (const tessera::sdk::Error& e) {
        return e.code();
    }
    FAIL("no error for " << text);
    return ErrorCode::Internal;
}

}  // namespace

TEST_CASE("xapian query table over the corpus", "[xapian][query]") {
    Fixture f;
    REQUIRE(f.corpus.size() == 20);

    struct Row {
        const char* query;
        std::size_t expected;
    };
    const std::vector<Row> table = {
        // exact values, UIDs, identifiers, case-insensitivity
        {"SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.2", 1},
        {"StudyInstanceUID:1.2.826.0.1.3680043.10.543.1.1", 6},
        {"SeriesInstanceUID:1.2.826.0.1.3680043.10.543.3.1.6", 4},
        {"PatientID:1CT1", 9},
        {"PatientID:1ct1", 9},
        {"PatientID:P-0002", 3},
        {"PatientID:p-0002", 3},
        {"patientid:1CT1", 0},  // field names are case-sensitive
        {"Modality:ct", 10},
        {"Modality:CR", 2},
        // person names: words and the whole value, Unicode lower-casing
        {"PatientName:smith", 9},
        {"PatientName:JOHN", 9},
        {"PatientName:SMITH^JOHN", 9},
        {"PatientName:\"smith^john\"", 9},
        {"PatientName:müller", 3},
        {"PatientName:MÜLLER", 3},
        {"PatientName:MÜLLER^JÜRGEN", 3},
        {"PatientName:jane", 8},
        {"PatientName:\"jane dr\"", 8},      // adjacent words, in order
        {"PatientName:\"john smith\"", 0},   // the order matters in a phrase
        {"PatientName:smithe", 0},
        // multi-valued CS
        {"ImageType:primary", 11},
        {"ImageType:DERIVED", 9},
        // wildcards: trailing, leading, inner, ?, presence
        {"PatientName:smi*", 9},
        {"PatientName:SMITH^J*", 9},
        {"PatientName:*ller", 3},
        {"PatientName:*LLER*", 3},
        {"PatientName:m?ller", 3},
        {"PatientID:*CT*", 9},
        {"PatientID:P?T3", 8},
        {"PatientID:P??T3", 0},
        {"Modality:C?", 12},
        {"SeriesDescription:*FLAIR", 3},
        {"SOPInstanceUID:*.543.3.1.6.*", 4},
        {"StudyDate:2015*", 16},
        {"PatientName:*", 20},
        {"InstitutionName:*", 17},
        {"SliceThickness:*", 17},
        {"NoSuchField:*", 0},
        {"fract*", 1},
        {"*cture", 1},
        {"*", 20},
        // dates: inclusive, exclusive, open ends, legacy values
        {"StudyDate:20150310", 6},
        {"StudyDate:[20150101 TO 20151231]", 16},
        {"StudyDate:{20150101 TO 20151231}", 6},
        {"StudyDate:[20150101 TO 20151231}", 14},
        {"StudyDate:[20160101 TO *]", 3},
        {"StudyDate:[* TO 20141231]", 1},
        {"StudyDate:2016.01.05", 3},
        {"StudyDate:20160105", 3},
        {"StudyDate:[2016.01.01 TO 2016.12.31]", 3},
        {"PatientBirthDate:[19500101 TO 19701231]", 12},
        {"ContentSequence_Date:[20140601 TO 20140630]", 1},
        // times (legacy HH:MM:SS and short HHMM normalised)
        {"StudyTime:[140000 TO 150000]", 3},
        {"StudyTime:[1000 TO 1030]", 2},
        {"StudyTime:[* TO 0900]", 1},
        // numbers compare by value
        {"SeriesNumber:3", 3},
        {"SeriesNumber:[1 TO 3]", 11},
        {"SeriesNumber:[2 TO 10]", 14},
        {"SeriesNumber:{1 TO 10}", 13},
        {"SeriesNumber:[5 TO *]", 7},
        {"SliceThickness:5", 7},
        {"SliceThickness:5.0", 7},
        {"SliceThickness:\"5.000000\"", 7},
        {"SliceThickness:10", 4},
        {"SliceThickness:[2 TO 4]", 4},
        {"SliceThickness:{2.5 TO 4]", 2},
        {"ImagePositionPatient:[-36 TO -34]", 6},   // any value of a multi-valued DS
        {"ImagePositionPatient:[-126 TO -125]", 17},
        {"ImagerPixelSpacing:0.139", 2},
        // free text, including a CR and an SR (not only CT/MR)
        {"chest", 2},
        {"CHEST", 2},
        {"lateral", 2},
        {"erect", 2},
        {"postero", 1},
        {"\"postero anterior\"", 1},
        {"\"anterior postero\"", 0},
        {"smith", 9},
        {"1ct1", 9},
        {"müller", 3},
        {"fracture", 1},
        {"nothingsuch", 0},
        // sequence children, every item
        {"ViewCodeSequence_CodeValue:R-10206", 1},
        {"ViewCodeSequence_CodeValue:r-10214", 1},
        {"ViewCodeSequence_CodeValue:R-102C2", 2},  // second item
        {"ViewCodeSequence_CodeMeaning:erect", 2},
        {"ContentSequence_TextValue:fracture", 1},
        {"ContentSequence_TextValue:\"acute fracture\"", 1},
        // boolean combinations
        {"PatientID:1CT1 AND Modality:MR", 3},
        {"Modality:MR OR Modality:CR", 9},
        {"Modality:MR Modality:CR", 9},
        {"Modality:CT AND NOT PatientID:PAT3", 6},
        {"+Modality:CT -SeriesNumber:1", 6},
        {"+PatientID:PAT3 Modality:CT", 8},  // a Should beside a Must does not filter
        {"NOT Modality:CT", 10},
        {"-Modality:CT -Modality:MR", 3},
        {"(PatientName:smith OR PatientName:doe) AND StudyDate:[20150101 TO 20151231]", 14},
        {"PatientName:(smith doe)", 17},
        {"*:*", 20},
        {"*:* -PatientSex:M", 8},
        // unknown fields match nothing
        {"NoSuchField:x", 0},
        {"NoSuchField:[1 TO 2]", 0},
    };
    for (const auto& row : table) {
        INFO("query: " << row.query);
        CHECK(count(f.provider, row.query) == row.expected);
    }
}

TEST_CASE("xapian results: uris, requested fields, missing DIM fields", "[xapian][query]") {
    Fixture f;
    auto response = run(f.provider, "PatientID:P-0002 AND InstanceNumber:1 AND Modality:CR",
                        {"PatientName", "InstitutionName", "InstanceNumber", "NoSuchField", "ViewCodeSequence_CodeValue",
                         "StudyDate", "SeriesNumber", "uri", "StudyTime"});
    REQUIRE(response.total == 1);
    REQUIRE(response.results.size() == 1);
    const auto& r = response.results.front();
    CHECK(r.uri.str() == "file:/archive/P-0002/1/1/1.dcm");
    CHECK(r.fields.at("PatientName") == "Müller^Jürgen");  // as stored, not lower-cased
    CHECK(r.fields.at("InstitutionName") == "");           // DIM field missing from the object
    CHECK(r.fields.at("InstanceNumber") == "1");
    CHECK(r.fields.count("NoSuchField") == 0);  // non-DIM fields the object lacks are left out
    CHECK(r.fields.at("ViewCodeSequence_CodeValue") == "R-10206");  // first item
    CHECK(r.fields.at("StudyDate") == "20151231");
    CHECK(r.fields.at("SeriesNumber") == "1");
    CHECK(r.fields.at("StudyTime") == "1015");
    CHECK(r.fields.at("uri") == "file:/archive/P-0002/1/1/1.dcm");
    CHECK(r.fields.size() == 8);

    // No fields asked: none returned.
    auto bare = run(f.provider, "PatientID:PAT3");
    REQUIRE(bare.results.size() == 8);
    CHECK(bare.results.front().fields.empty());

    // A DIM field that no object has at all still comes back as "".
    auto dim = run(f.provider, "SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.1", {"AccessionNumber", "PatientAge"});
    REQUIRE(dim.results.size() == 1);
    CHECK(dim.results.front().fields.at("AccessionNumber") == "");
    CHECK(dim.results.front().fields.at("PatientAge") == "");
}

TEST_CASE("xapian paging: offset, limit, exact total, stable order", "[xapian][query]") {
    Fixture f(1);  // one shard: insertion order (several shards answer shard by shard)
    auto all = run(f.provider, "*:*");
    REQUIRE(all.total == 20);
    REQUIRE(all.results.size() == 20);
    for (std::size_t i = 0; i < 20; ++i) CHECK(all.results[i].uri.str() == f.corpus[i].uri);  // insertion order

    auto page = run(f.provider, "*:*", {}, 15, 10);
    CHECK(page.total == 20);
    REQUIRE(page.results.size() == 5);
    CHECK(page.results.front().uri.str() == f.corpus[15].uri);

    auto first = run(f.provider, "*:*", {}, 0, 3);
    CHECK(first.total == 20);
    CHECK(first.results.size() == 3);

    auto past = run(f.provider, "*:*", {}, 25, 10);
    CHECK(past.total == 20);
    CHECK(past.results.empty());

    auto countOnly = run(f.provider, "Modality:CT", {}, 0, 0);
    CHECK(countOnly.total == 10);
    CHECK(countOnly.results.empty());

    // offset without a limit returns the rest (Dicoogle's overflow bug is not reproduced)
    auto rest = run(f.provider, "Modality:CT", {}, 7);
    CHECK(rest.total == 10);
    CHECK(rest.results.size() == 3);

    // pages stitch together without gaps or repeats
    std::set<std::string> seen;
    for (std::size_t offset = 0; offset < 20; offset += 6)
        for (const auto& r : run(f.provider, "*:*", {}, offset, 6).results) seen.insert(r.uri.str());
    CHECK(seen.size() == 20);
}

TEST_CASE("xapian query errors are InvalidArgument", "[xapian][query]") {
    Fixture f;
    CHECK(errorCodeOf(f.provider, "SeriesNumber:[a TO 3]") == ErrorCode::InvalidArgument);
    CHECK(errorCodeOf(f.provider, "SliceThickness:{1 TO five}") == ErrorCode::InvalidArgument);

    // A hand-built tree (not from the parser) that is absurdly deep is refused, not recursed.
    tessera::sdk::QueryNode node = tessera::sdk::TermQuery{"Modality", "CT"};
    for (int i = 0; i < 1000; ++i) {
        tessera::sdk::BooleanQuery b;
        b.clauses.push_back({tessera::sdk::Occur::Must, std::move(node)});
        node = std::move(b);
    }
    tessera::sdk::QueryRequest request;
    request.query = std::move(node);
    try {
        f.provider.query(request);
        FAIL("deep tree accepted");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgument);
    }

    // An empty BooleanQuery matches nothing (and does not throw).
    tessera::sdk::QueryRequest empty;
    empty.query = tessera::sdk::BooleanQuery{};
    CHECK(f.provider.query(empty).total == 0);
}

TEST_CASE("xapian wildcard escapes are literal characters", "[xapian][query]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    std::vector<Instance> docs(3);
    docs[0].uri = "file:/w/0.dcm";
    docs[0].view.add(0x00081030, "StudyDescription", "LO", "WHAT?");
    docs[1].uri = "file:/w/1.dcm";
    docs[1].view.add(0x00081030, "StudyDescription", "LO", "WHAT*");
    docs[2].uri = "file:/w/2.dcm";
    docs[2].view.add(0x00081030, "StudyDescription", "LO", "WHATS");
    indexAll(provider, docs);
    CHECK(count(provider, "StudyDescription:what?") == 3);
    CHECK(count(provider, "StudyDescription:*\\?") == 1);
    CHECK(count(provider, "StudyDescription:*\\*") == 1);
    CHECK(count(provider, "StudyDescription:wh*\\?") == 1);
    CHECK(count(provider, "StudyDescription:wh?t\\*") == 1);
}

TEST_CASE("xapian OR of term clauses (compiled as one sorted term list) finds the union of its clauses", "[xapian][query]") {
    Fixture f;
    const auto urisOf = [&](const std::string& text) {
        std::set<std::string> uris;
        for (const auto& result : run(f.provider, text).results) uris.insert(result.uri.str());
        return uris;
    };
    // Clauses in unsorted order, with exact and word terms (UIDs are one word, names several),
    // repeated clauses, clauses of one field and of several, a clause matching nothing.
    const std::vector<std::vector<std::string>> lists = {
        {"StudyInstanceUID:1.2.826.0.1.3680043.10.543.1.1", "SeriesInstanceUID:1.2.826.0.1.3680043.10.543.3.1.6"},
        {"PatientName:müller", "PatientName:smith", "PatientName:müller"},
        {"Modality:CR", "PatientID:P-0002", "NoSuchField:x", "Modality:MR"},
        {"SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.2", "StudyInstanceUID:1.2.826.0.1.3680043.10.543.1.1"},
        // not all terms: a range and a wildcard beside terms keep their own postlists
        {"StudyDate:[20160101 TO *]", "PatientName:müller", "PatientID:*CT*"},
    };
    for (const auto& clauses : lists) {
        std::set<std::string> expected;
        std::string text;
        for (const auto& clause : clauses) {
            const auto uris = urisOf(clause);
            expected.insert(uris.begin(), uris.end());
            text += (text.empty() ? "" : " OR ") + clause;
        }
        INFO("query: " << text);
        CHECK_FALSE(expected.empty());
        CHECK(urisOf(text) == expected);
        CHECK(count(f.provider, text) == expected.size());
        // As a C-FIND's pass 2 asks: the clauses' documents outside another query.
        std::set<std::string> outside;
        const auto ct = urisOf("Modality:CT");
        std::set_difference(expected.begin(), expected.end(), ct.begin(), ct.end(), std::inserter(outside, outside.end()));
        CHECK(urisOf("(" + text + ") AND NOT Modality:CT") == outside);
    }
}
