#include "tessera/core/dicom/find_query.hpp"

#include <catch2/catch.hpp>

using tessera::core::FindKey;
using tessera::core::FindQuery;
using tessera::core::QueryLevel;
namespace sdk = tessera::sdk;

namespace {

FindQuery one(const std::string& keyword, const std::string& vr, const std::string& value) {
    return FindQuery({FindKey{keyword, vr, value}});
}

bool matches(const FindQuery& query, const std::string& field, const std::string& stored) {
    return query.matches({{field, stored}});
}

}  // namespace

TEST_CASE("Query levels parse as the standard's code strings", "[find_query]") {
    CHECK(tessera::core::parseQueryLevel("STUDY") == QueryLevel::Study);
    CHECK(tessera::core::parseQueryLevel(" IMAGE ") == QueryLevel::Image);
    CHECK(tessera::core::parseQueryLevel("PATIENT") == QueryLevel::Patient);
    CHECK(tessera::core::parseQueryLevel("SERIES") == QueryLevel::Series);
    CHECK_FALSE(tessera::core::parseQueryLevel("study"));
    CHECK_FALSE(tessera::core::parseQueryLevel(""));
    CHECK_FALSE(tessera::core::parseQueryLevel("FRAME"));
    CHECK(tessera::core::toString(QueryLevel::Series) == "SERIES");
}

TEST_CASE("Universal matching: empty keys, lone stars and return-only keys add no condition", "[find_query]") {
    const FindQuery query({{"PatientName", "PN", ""},
                           {"StudyDate", "DA", ""},
                           {"PatientID", "LO", "*"},
                           {"AccessionNumber", "SH", "**"},
                           {"QueryRetrieveLevel", "CS", "STUDY"},
                           {"SpecificCharacterSet", "CS", "ISO_IR 100"},
                           {"NumberOfStudyRelatedInstances", "IS", "3"},
                           {"ReferencedStudySequence", "SQ", "x"},
                           {"StudyInstanceUID", "UI", "1.2\\"}});
    CHECK(query.universal());
    CHECK(query.query() == sdk::QueryNode(sdk::MatchAllQuery{}));
    CHECK(query.text() == "*:*");
    CHECK(query.matches({}));
    CHECK(query.fields().empty());
}

TEST_CASE("The identifier becomes the SDK tree directly", "[find_query]") {
    struct Row {
        FindKey key;
        sdk::QueryNode expected;
    };
    const std::vector<Row> rows = {
        {{"PatientID", "LO", "PAT001"}, sdk::TermQuery{"PatientID", "PAT001"}},
        {{"PatientID", "LO", "  PAT001  "}, sdk::TermQuery{"PatientID", "PAT001"}},
        {{"PatientName", "PN", "Smith^John^^^"}, sdk::TermQuery{"PatientName", "Smith^John"}},
        {{"PatientName", "PN", "Smi*"}, sdk::WildcardQuery{"PatientName", "Smi*"}},
        {{"PatientName", "PN", "?mith"}, sdk::WildcardQuery{"PatientName", "?mith"}},
        // Lucene syntax and DICOM separators stay literal: they are values of a Term, not text.
        {{"StudyDescription", "LO", "a:b OR (c) AND \"d\""},
         sdk::TermQuery{"StudyDescription", "a:b OR (c) AND \"d\""}},
        {{"InstitutionName", "LO", "St. Mary's / North"}, sdk::TermQuery{"InstitutionName", "St. Mary's / North"}},
        {{"StudyInstanceUID", "UI", "1.2.3\\1.2.4"},
         sdk::BooleanQuery{{{sdk::Occur::Should, sdk::TermQuery{"StudyInstanceUID", "1.2.3"}},
                            {sdk::Occur::Should, sdk::TermQuery{"StudyInstanceUID", "1.2.4"}}}}},
        // No wildcards on UIDs.
        {{"SOPInstanceUID", "UI", "1.2.*"}, sdk::TermQuery{"SOPInstanceUID", "1.2.*"}},
        {{"StudyDate", "DA", "20200101"}, sdk::TermQuery{"StudyDate", "20200101"}},
        {{"StudyDate", "DA", "2020.01.01"}, sdk::TermQuery{"StudyDate", "20200101"}},
        {{"StudyDate", "DA", "20200101-20201231"}, sdk::RangeQuery{"StudyDate", "20200101", "20201231", true, true}},
        {{"StudyDate", "DA", "20200101-"}, sdk::RangeQuery{"StudyDate", "20200101", std::nullopt, true, true}},
        {{"StudyDate", "DA", "-20201231"}, sdk::RangeQuery{"StudyDate", std::nullopt, "20201231", true, true}},
        {{"StudyTime", "TM", "08-12"}, sdk::RangeQuery{"StudyTime", "080000", "125959.999999", true, true}},
        {{"StudyTime", "TM", "-1200"}, sdk::RangeQuery{"StudyTime", std::nullopt, "120059.999999", true, true}},
        {{"StudyTime", "TM", "12:30"}, sdk::RangeQuery{"StudyTime", "123000", "123000", true, true}},
        {{"ModalitiesInStudy", "CS", "CT\\MR"},
         sdk::BooleanQuery{{{sdk::Occur::Should, sdk::TermQuery{"Modality", "CT"}},
                            {sdk::Occur::Should, sdk::TermQuery{"Modality", "MR"}}}}},
    };
    for (const auto& row : rows) {
        INFO(row.key.keyword << " = '" << row.key.value << "'");
        const FindQuery query({row.key});
        CHECK(query.query() == row.expected);
        CHECK_FALSE(query.universal());
    }
}

TEST_CASE("Several keys are ANDed", "[find_query]") {
    const FindQuery query({{"PatientID", "LO", "P1"}, {"Modality", "CS", "CT"}, {"StudyDate", "DA", ""}});
    const sdk::QueryNode expected = sdk::BooleanQuery{
        {{sdk::Occur::Must, sdk::TermQuery{"PatientID", "P1"}}, {sdk::Occur::Must, sdk::TermQuery{"Modality", "CT"}}}};
    CHECK(query.query() == expected);
    CHECK(query.text() == "PatientID:\"P1\" AND Modality:\"CT\"");
    CHECK(query.fields() == std::vector<std::string>{"PatientID", "Modality"});
    CHECK(query.matches({{"PatientID", "p1"}, {"Modality", "CT"}}));
    CHECK_FALSE(query.matches({{"PatientID", "P1"}, {"Modality", "MR"}}));
    CHECK_FALSE(query.matches({{"PatientID", "P1"}}));  // a missing attribute does not match
}

TEST_CASE("Records are matched by PS3.4 C.2.2.2 rules", "[find_query]") {
    struct Row {
        std::string keyword, vr, value, stored;
        bool expected;
    };
    const std::vector<Row> rows = {
        // single value: whole value, case-insensitive, spaces insignificant
        {"PatientID", "LO", "PAT001", "PAT001", true},
        {"PatientID", "LO", "pat001", "PAT001 ", true},
        {"PatientID", "LO", "PAT00", "PAT001", false},
        {"PatientID", "LO", "PAT001", "XPAT001", false},
        // PN: components must be equal, trailing empty components ignored
        {"PatientName", "PN", "Smith", "Smith^John", false},
        {"PatientName", "PN", "Smith^John", "SMITH^JOHN^^", true},
        {"PatientName", "PN", "Smith^John^^", "Smith^John", true},
        {"PatientName", "PN", "John^Smith", "Smith^John", false},
        // wildcards
        {"PatientName", "PN", "Smith*", "Smith^John", true},
        {"PatientName", "PN", "smi*", "Smith^John", true},
        {"PatientName", "PN", "*john", "Smith^John", true},
        {"PatientName", "PN", "*oh*", "Smith^John", true},
        {"PatientName", "PN", "Sm?th^John", "Smith^John", true},
        {"PatientName", "PN", "Sm?th", "Smith^John", false},
        {"PatientName", "PN", "Jo*", "Smith^John", false},
        {"PatientName", "PN", "?", "Ä", true},  // one character, not one byte
        {"PatientName", "PN", "M?ller*", "Müller^Hans", true},
        {"PatientName", "PN", "山田*", "山田^太郎", true},
        // characters that are syntax elsewhere are literal
        {"StudyDescription", "LO", "CT^HEAD/NECK", "CT^HEAD/NECK", true},
        {"StudyDescription", "LO", "CT HEAD", "CT HEAD NECK", false},
        {"StudyDescription", "LO", "a:b OR c", "a:b OR c", true},
        {"StudyDescription", "LO", "a:b OR c", "a", false},
        {"StudyDescription", "LO", "\"quoted\"", "\"quoted\"", true},
        {"StudyDescription", "LO", "(x)*", "(x) y", true},
        // UID lists
        {"StudyInstanceUID", "UI", "1.2.3\\1.2.4", "1.2.4", true},
        {"StudyInstanceUID", "UI", "1.2.3\\1.2.4", "1.2.5", false},
        {"StudyInstanceUID", "UI", "1.2.3", "1.2.3 ", true},
        {"SOPInstanceUID", "UI", "1.2.*", "1.2.3", false},
        // a stored multi-value matches when one value does
        {"ImageType", "CS", "PRIMARY", "ORIGINAL\\PRIMARY", true},
        {"ModalitiesInStudy", "CS", "CT\\MR", "MR", true},
        {"ModalitiesInStudy", "CS", "CT\\MR", "US", false},
        // numbers by value
        {"SeriesNumber", "IS", "3", " 3", true},
        {"SliceThickness", "DS", "5", "5.000000", true},
        {"SeriesNumber", "IS", "3", "30", false},
        // dates
        {"StudyDate", "DA", "20200115", "20200115", true},
        {"StudyDate", "DA", "20200115", "2020.01.15", true},
        {"StudyDate", "DA", "20200101-20200131", "20200115", true},
        {"StudyDate", "DA", "20200101-20200131", "20200131", true},
        {"StudyDate", "DA", "20200101-20200131", "20200201", false},
        {"StudyDate", "DA", "20200101-", "20991231", true},
        {"StudyDate", "DA", "20200101-", "20191231", false},
        {"StudyDate", "DA", "-20200101", "19700101", true},
        {"StudyDate", "DA", "-20200101", "20200102", false},
        {"StudyDate", "DA", "20200101-20200131", "", false},
        {"StudyDate", "DA", "2020*", "20200101", false},  // no wildcards on dates
        // times: a short upper bound covers what it is a prefix of
        {"StudyTime", "TM", "08-12", "125959", true},
        {"StudyTime", "TM", "08-12", "130000", false},
        {"StudyTime", "TM", "08-12", "0759", false},
        {"StudyTime", "TM", "0800-", "08:00:00", true},
        {"StudyTime", "TM", "-120000", "120000.5", true},
        {"StudyTime", "TM", "1230", "123000", true},
        {"StudyTime", "TM", "1230", "123001", false},
    };
    for (const auto& row : rows) {
        INFO(row.keyword << " = '" << row.value << "' against '" << row.stored << "'");
        const auto query = one(row.keyword, row.vr, row.value);
        const std::string field = row.keyword == "ModalitiesInStudy" ? "Modality" : row.keyword;
        CHECK(matches(query, field, row.stored) == row.expected);
    }
}

TEST_CASE("A key with a universal value in its list matches everything", "[find_query]") {
    const auto query = one("Modality", "CS", "CT\\*");
    CHECK(query.universal());
}

TEST_CASE("A dash in a text value is not a range", "[find_query]") {
    const auto query = one("PatientID", "LO", "A-B");
    CHECK(query.query() == sdk::QueryNode(sdk::TermQuery{"PatientID", "A-B"}));
    CHECK(matches(query, "PatientID", "a-b"));
}
