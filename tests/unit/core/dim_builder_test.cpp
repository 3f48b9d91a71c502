// The DIM grouping (DimBuilder) on hand-made results, and searchDim's paging on patients through
// real query providers fed with real sample files.

#include "tessera/core/dim_builder.hpp"

#include <catch2/catch.hpp>

#include "search_test_support.hpp"
#include "tessera/core/query/query_parser.hpp"

using namespace search_test;
using tessera::core::DimBuilder;
using tessera::core::DimDepth;
using tessera::core::DimPatient;
using tessera::core::DimSearchOptions;
using tessera::core::parseDimDepth;
using tessera::core::parseQuery;
using tessera::core::searchDim;

namespace {

sdk::SearchResult record(const std::string& uri, std::map<std::string, std::string> fields) {
    sdk::SearchResult result;
    result.uri = sdk::Uri::parse(uri);
    result.fields = std::move(fields);
    return result;
}

sdk::SearchResult image(const std::string& patientId, const std::string& study, const std::string& series,
                        const std::string& sop, const std::string& modality = "CT") {
    return record("file:/archive/" + sop + ".dcm", {{"PatientID", patientId},
                                                    {"PatientName", "NAME^" + patientId},
                                                    {"StudyInstanceUID", study},
                                                    {"SeriesInstanceUID", series},
                                                    {"SOPInstanceUID", sop},
                                                    {"Modality", modality}});
}

std::vector<std::string> patientIds(const std::vector<DimPatient>& patients) {
    std::vector<std::string> out;
    for (const auto& p : patients) out.push_back(p.id.empty() ? "name:" + p.name : p.id);
    return out;
}

}  // namespace

TEST_CASE("parseDimDepth accepts the five depths in any case", "[dim]") {
    CHECK(parseDimDepth("none") == DimDepth::None);
    CHECK(parseDimDepth("Patient") == DimDepth::Patient);
    CHECK(parseDimDepth("STUDY") == DimDepth::Study);
    CHECK(parseDimDepth("series") == DimDepth::Series);
    CHECK(parseDimDepth("iMaGe") == DimDepth::Image);
    CHECK_FALSE(parseDimDepth(""));
    CHECK_FALSE(parseDimDepth("instance"));
    CHECK_FALSE(parseDimDepth("images"));
    CHECK_FALSE(parseDimDepth(" image"));
}

TEST_CASE("DimBuilder groups by patient, study and series in order of first appearance", "[dim]") {
    DimBuilder builder;
    builder.add(image("P2", "S2", "R2", "2.1", "MR"));
    builder.add(image("P1", "S1", "R1", "1.1"));
    builder.add(image("P2", "S2", "R3", "2.2", "CT"));
    builder.add(image("P2", "S3", "R4", "2.3", "MR"));
    builder.add(image("P2", "S2", "R2", "2.4", "MR"));
    builder.add(image("P1", "S1", "R1", "1.1"));  // the same image twice: kept twice

    const auto& patients = builder.patients();
    REQUIRE(patientIds(patients) == std::vector<std::string>{"P2", "P1"});
    const auto& p2 = patients[0];
    CHECK(p2.name == "NAME^P2");
    REQUIRE(p2.studies.size() == 2);
    CHECK(p2.studies[0].instanceUid == "S2");
    CHECK(p2.studies[0].modalities == std::vector<std::string>{"MR", "CT"});
    REQUIRE(p2.studies[0].series.size() == 2);
    CHECK(p2.studies[0].series[0].instanceUid == "R2");
    CHECK(p2.studies[0].series[0].modality == "MR");
    REQUIRE(p2.studies[0].series[0].images.size() == 2);
    CHECK(p2.studies[0].series[0].images[0].sopInstanceUid == "2.1");
    CHECK(p2.studies[0].series[0].images[1].sopInstanceUid == "2.4");
    CHECK(p2.studies[1].instanceUid == "S3");
    CHECK(patients[1].studies.at(0).series.at(0).images.size() == 2);
}

TEST_CASE("DimBuilder keys patients by PatientID, or PatientName when the ID is empty", "[dim]") {
    DimBuilder builder;
    builder.add(record("file:/a", {{"PatientID", ""}, {"PatientName", "DOE^JANE"}, {"StudyInstanceUID", "1"}}));
    builder.add(record("file:/b", {{"PatientName", "DOE^JANE"}, {"StudyInstanceUID", "2"}}));
    builder.add(record("file:/c", {{"PatientID", "X1"}, {"PatientName", "DOE^JANE"}, {"StudyInstanceUID", "3"}}));
    builder.add(record("file:/d", {{"PatientID", "X1"}, {"PatientName", "Other^Name"}, {"StudyInstanceUID", "3"}}));
    builder.add(record("file:/e", {}));
    const auto& patients = builder.patients();
    REQUIRE(patients.size() == 3);
    CHECK(patients[0].name == "DOE^JANE");
    CHECK(patients[0].studies.size() == 2);
    CHECK(patients[1].id == "X1");
    CHECK(patients[1].name == "DOE^JANE");  // the first record fills the patient
    CHECK(patients[1].studies.size() == 1);
    CHECK(patients[2].id.empty());
    CHECK(patients[2].name.empty());
    CHECK(DimBuilder::patientKey({{"PatientID", "7"}, {"PatientName", "N"}}) == "7");
    CHECK(DimBuilder::patientKey({{"PatientID", ""}, {"PatientName", "N"}}) == "N");
    CHECK_FALSE(DimBuilder::keyIsPatientId({{"PatientName", "N"}}));
}

TEST_CASE("DimBuilder fills every DIM field as Dicoogle does", "[dim]") {
    DimBuilder builder;
    builder.add(record("file:///archive/dir%20x/IM0001?x=1#f", {{"PatientID", "P"},
                                                                {"PatientName", "SMITH^J"},
                                                                {"PatientSex", "F"},
                                                                {"PatientBirthDate", "19700101"},
                                                                {"StudyInstanceUID", "S"},
                                                                {"StudyDate", "20200101"},
                                                                {"StudyDescription", "first"},
                                                                {"InstitutionName", "Clinic"},
                                                                {"SeriesInstanceUID", "R"},
                                                                {"SeriesNumber", "3.9"},
                                                                {"SeriesDescription", "axial"},
                                                                {"Modality", "MR"},
                                                                {"SOPInstanceUID", "I1"},
                                                                {"InstanceNumber", "7.0"}}));
    builder.add(record("file:/b/IM2", {{"PatientID", "P"},
                                       {"StudyInstanceUID", "S"},
                                       {"StudyDescription", "second"},
                                       {"SeriesInstanceUID", "R"},
                                       {"InstanceNumber", "two"}}));
    builder.add(record("file:/b/IM3", {{"PatientID", "P"},
                                       {"StudyInstanceUID", "S"},
                                       {"StudyDescription", ""},
                                       {"SeriesInstanceUID", "R2"},
                                       {"SeriesNumber", "-2"},
                                       {"InstanceNumber", "2.5"}}));
    builder.add(record("mem:opaque", {{"PatientID", "P"},
                                      {"StudyInstanceUID", "S"},
                                      {"SeriesInstanceUID", "R3"},
                                      {"SeriesNumber", "0x10"},
                                      {"InstanceNumber", " 12 "}}));
    const auto& patient = builder.patients().at(0);
    CHECK(patient.gender == "F");
    CHECK(patient.birthdate == "19700101");
    const auto& study = patient.studies.at(0);
    CHECK(study.date == "20200101");
    CHECK(study.institutionName == "Clinic");
    CHECK(study.description == "second");  // a later non-empty description wins, an empty one does not
    CHECK(study.modalities == std::vector<std::string>{"MR"});
    REQUIRE(study.series.size() == 3);
    CHECK(study.series[0].number == 3);
    CHECK(study.series[0].description == "axial");
    CHECK(study.series[1].number == -2);
    CHECK(study.series[2].number == 0);  // not a decimal number
    const auto& first = study.series[0].images.at(0);
    CHECK(first.uri == "file:///archive/dir%20x/IM0001?x=1#f");
    CHECK(first.rawPath == "/archive/dir%20x/IM0001");
    CHECK(first.filename == "IM0001");
    CHECK(first.number == 7);
    const auto& second = study.series[0].images.at(1);
    CHECK(second.sopInstanceUid == "no uid");
    CHECK_FALSE(second.number);
    CHECK_FALSE(study.series[1].images.at(0).number);  // 2.5 is not an instance number
    const auto& opaque = study.series[2].images.at(0);
    CHECK(opaque.rawPath == "opaque");
    CHECK(opaque.filename == "opaque");
    CHECK(opaque.number == 12);
}

TEST_CASE("DimBuilder keeps only what the depth shows", "[dim]") {
    for (auto depth : {DimDepth::Patient, DimDepth::Study, DimDepth::Series, DimDepth::Image}) {
        DimBuilder builder(depth);
        builder.add(image("P", "S1", "R1", "1", "CT"));
        builder.add(image("P", "S1", "R2", "2", "MR"));
        builder.add(image("P", "S2", "R3", "3", "CT"));
        const auto& patient = builder.patients().at(0);
        CHECK(patient.studies.size() == 2);  // nStudies at every depth
        const auto& study = patient.studies[0];
        CHECK(study.modalities.size() == (depth >= DimDepth::Study ? 2u : 0u));
        CHECK(study.series.size() == (depth >= DimDepth::Series ? 2u : 0u));
        if (depth >= DimDepth::Series) CHECK(study.series[0].images.size() == (depth == DimDepth::Image ? 1u : 0u));
    }
    CHECK(DimBuilder::fields().size() == 14);
    CHECK(std::count(DimBuilder::fields().begin(), DimBuilder::fields().end(), "PatientBirthDate") == 1);
}

TEST_CASE("searchDim pages on patients over real providers", "[dim]") {
    Harness h;
    h.index();
    const auto all = parseQuery("*:*");
    DimSearchOptions options;
    options.providers = {"xapian"};

    // Indexing order: 1CT1, 4MR1, 8NM1, "" (no ID, no name), 123565.
    const std::vector<std::string> order = {"1CT1", "4MR1", "8NM1", "name:", "123565"};
    auto page = searchDim(*h.service, all, "*:*", options);
    CHECK(page.totalPatients == 5);
    CHECK(patientIds(page.patients) == order);
    const auto& mrBrain = page.patients[4];
    REQUIRE(mrBrain.studies.size() == 1);
    REQUIRE(mrBrain.studies[0].series.size() == 1);
    const auto& images = mrBrain.studies[0].series[0].images;
    REQUIRE(images.size() == 5);
    CHECK(images[0].filename == "MR_brain_001.dcm");
    CHECK(images[4].number == 5);
    CHECK(mrBrain.studies[0].series[0].number == 2);
    CHECK(mrBrain.studies[0].modalities == std::vector<std::string>{"MR"});
    const auto& nm = page.patients[2];
    CHECK(nm.name == "CompressedSamples^NM1");
    CHECK(nm.studies.at(0).series.at(0).images.size() == 2);

    SECTION("every page, pinned to its patients or not, is the slice of the whole") {
        for (std::size_t offset = 0; offset <= 6; ++offset) {
            for (std::size_t limit = 0; limit <= 6; ++limit) {
                options.offset = offset;
                options.limit = limit;
                const auto slice = searchDim(*h.service, all, "*:*", options);
                INFO("offset " << offset << " limit " << limit);
                CHECK(slice.totalPatients == 5);
                const auto begin = std::min<std::size_t>(offset, 5), end = std::min<std::size_t>(5, begin + limit);
                CHECK(patientIds(slice.patients) == std::vector<std::string>(order.begin() + static_cast<long>(begin),
                                                                             order.begin() + static_cast<long>(end)));
                for (const auto& patient : slice.patients) {
                    const auto& whole = page.patients[static_cast<std::size_t>(
                        std::find(order.begin(), order.end(),
                                  patient.id.empty() ? "name:" + patient.name : patient.id) -
                        order.begin())];
                    CHECK(patient.studies.size() == whole.studies.size());
                    CHECK(patient.studies.at(0).series.at(0).images.size() ==
                          whole.studies.at(0).series.at(0).images.size());
                }
            }
        }
    }
    SECTION("offset without a limit") {
        options.offset = 3;
        CHECK(patientIds(searchDim(*h.service, all, "*:*", options).patients) ==
              std::vector<std::string>{"name:", "123565"});
    }
    SECTION("depth none counts patients only") {
        options.depth = DimDepth::None;
        const auto none = searchDim(*h.service, all, "*:*", options);
        CHECK(none.totalPatients == 5);
        CHECK(none.patients.empty());
    }
    SECTION("a narrower query, and one that matches nothing") {
        const auto mr = parseQuery("Modality:MR");
        const auto found = searchDim(*h.service, mr, "Modality:MR", options);
        CHECK(patientIds(found.patients) == std::vector<std::string>{"4MR1", "123565"});
        options.limit = 1;
        options.offset = 1;
        CHECK(patientIds(searchDim(*h.service, mr, "", options).patients) == std::vector<std::string>{"123565"});
        CHECK(searchDim(*h.service, parseQuery("PatientID:nobody"), "", options).totalPatients == 0);
    }
    SECTION("two providers: patients once, their images from both") {
        options.providers = {};
        const auto both = searchDim(*h.service, all, "*:*", options);
        CHECK(both.totalPatients == 5);
        for (const auto& patient : both.patients)
            if (patient.id == "123565") CHECK(patient.studies.at(0).series.at(0).images.size() == 10);
        options.offset = 4;
        options.limit = 1;
        const auto last = searchDim(*h.service, all, "*:*", options);
        REQUIRE(last.patients.size() == 1);
        CHECK(last.patients[0].studies.at(0).series.at(0).images.size() ==
              (last.patients[0].id == "123565" ? 10u : 2u));
    }
    SECTION("provider errors reach the caller") {
        options.providers = {"nope"};
        CHECK_THROWS_AS(searchDim(*h.service, all, "*:*", options), sdk::Error);
    }
}
