#pragma once
// Shared helpers of the xapian plugin tests: an in-memory DicomObjectView, a temporary
// directory, and a realistic hand-built corpus (3 patients; CT, MR, CR, SR; PN with '^',
// legacy dates and times, DS/IS multi-values, sequences with several items).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/core/query/query_parser.hpp"
#include "tessera/plugins/xapian/xapian_provider.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/test/temp_dir.hpp"

namespace xapian_test {

using tessera::sdk::DicomAttribute;

/// A DicomObjectView over a list of attributes, in the order given (flattened sequence items
/// repeat their keyword, as the host's reader visits them).
class VectorView final : public tessera::sdk::DicomObjectView {
public:
    VectorView() = default;
    explicit VectorView(std::vector<DicomAttribute> attributes) : attributes_(std::move(attributes)) {}

    void add(std::uint32_t tag, std::string keyword, std::string vr, std::string value) {
        attributes_.push_back(DicomAttribute{tag, std::move(keyword), std::move(vr), std::move(value)});
    }

    std::optional<std::string> get(std::string_view keyword) const override {
        for (const auto& a : attributes_)
            if (a.keyword == keyword) return a.value;
        return std::nullopt;
    }

    void forEachAttribute(const std::function<void(const DicomAttribute&)>& visit) const override {
        for (const auto& a : attributes_) visit(a);
    }

private:
    std::vector<DicomAttribute> attributes_;
};

/// A fresh directory under the system temp dir, removed with everything in it.
using tessera::test::TempDir;

struct Instance {
    std::string uri;
    VectorView view;
};

struct SeriesSpec {
    std::string modality;
    std::string seriesNumber;
    std::string seriesDescription;
    std::string sliceThickness;  // "" = absent
    int images;
};

struct StudySpec {
    std::string date;
    std::string time;
    std::string description;
    std::vector<SeriesSpec> series;
};

struct PatientSpec {
    std::string id;
    std::string name;
    std::string sex;
    std::string birthDate;
    std::string institution;  // "" = absent (a missing DIM field)
    std::vector<StudySpec> studies;
};

/// The corpus: 20 instances. UIDs: 1.2.826.0.1.3680043.10.543.<p>.<s>[.<series>[.<image>]].
inline std::vector<Instance> makeCorpus() {
    const std::vector<PatientSpec> patients = {
        {"1CT1", "SMITH^JOHN", "M", "19700101", "Hospital São João",
         {{"20150310", "093000", "CT HEAD W/O CONTRAST",
           {{"CT", "1", "Axial 5mm", "5.000000", 4}, {"CT", "2", "Axial thin", "2.5", 2}}},
          {"2016.01.05", "14:20:00", "MR BRAIN", {{"MR", "3", "T2 FLAIR", "5", 3}}}}},
        {"P-0002", "Müller^Jürgen", "M", "19551224", "",
         {{"20151231", "1015", "Chest two views", {{"CR", "1", "PA and lateral", "", 2}}},
          {"20140601", "080000", "Report", {{"SR", "10", "Radiology report", "", 1}}}}},
        {"PAT3", "DOE^JANE^^DR", "F", "19801111", "General Clinic",
         {{"20150101", "120000", "MR KNEE LEFT",
           {{"MR", "4", "PD SAG", "1.25", 2}, {"MR", "5", "T1 COR", "3", 2}, {"CT", "6", "Scout", "10.0", 4}}}}},
    };
    std::vector<Instance> out;
    const std::string root = "1.2.826.0.1.3680043.10.543";
    int p = 0;
    for (const auto& patient : patients) {
        ++p;
        int s = 0;
        for (const auto& study : patient.studies) {
            ++s;
            const std::string studyUid = root + "." + std::to_string(p) + "." + std::to_string(s);
            for (const auto& series : study.series) {
                const std::string seriesUid = studyUid + "." + series.seriesNumber;
                for (int image = 1; image <= series.images; ++image) {
                    Instance inst;
                    const std::string sopUid = seriesUid + "." + std::to_string(image);
                    inst.uri = "file:/archive/" + patient.id + "/" + std::to_string(s) + "/" + series.seriesNumber + "/" +
                               std::to_string(image) + ".dcm";
                    auto& v = inst.view;
                    v.add(0x00080008, "ImageType", "CS", image % 2 ? "ORIGINAL\\PRIMARY\\AXIAL" : "DERIVED\\SECONDARY");
                    v.add(0x00080016, "SOPClassUID", "UI", "1.2.840.10008.5.1.4.1.1.2");
                    v.add(0x00080018, "SOPInstanceUID", "UI", sopUid);
                    v.add(0x00080020, "StudyDate", "DA", study.date);
                    v.add(0x00080030, "StudyTime", "TM", study.time);
                    v.add(0x00080060, "Modality", "CS", series.modality);
                    v.add(0x00080070, "Manufacturer", "LO", "ACME Medical");
                    if (!patient.institution.empty()) v.add(0x00080080, "InstitutionName", "LO", patient.institution);
                    v.add(0x00081030, "StudyDescription", "LO", study.description);
                    v.add(0x0008103E, "SeriesDescription", "LO", series.seriesDescription);
                    v.add(0x00100010, "PatientName", "PN", patient.name);
                    v.add(0x00100020, "PatientID", "LO", patient.id);
                    v.add(0x00100030, "PatientBirthDate", "DA", patient.birthDate);
                    v.add(0x00100040, "PatientSex", "CS", patient.sex);
                    if (!series.sliceThickness.empty()) v.add(0x00180050, "SliceThickness", "DS", series.sliceThickness);
                    v.add(0x0020000D, "StudyInstanceUID", "UI", studyUid);
                    v.add(0x0020000E, "SeriesInstanceUID", "UI", seriesUid);
                    v.add(0x00200011, "SeriesNumber", "IS", series.seriesNumber);
                    v.add(0x00200013, "InstanceNumber", "IS", std::to_string(image));
                    if (series.modality == "CT" || series.modality == "MR")
                        v.add(0x00200032, "ImagePositionPatient", "DS",
                              "-125.5\\-130\\" + std::to_string(image * 5 - 40) + ".25");
                    if (series.modality == "CR") {
                        v.add(0x00180015, "BodyPartExamined", "CS", "CHEST");
                        // Two items of one sequence: both flattened under the same keyword.
                        v.add(0x00080100, "ViewCodeSequence_CodeValue", "SH", image == 1 ? "R-10206" : "R-10214");
                        v.add(0x00080104, "ViewCodeSequence_CodeMeaning", "LO", image == 1 ? "postero-anterior" : "lateral");
                        v.add(0x00080100, "ViewCodeSequence_CodeValue", "SH", "R-102C2");
                        v.add(0x00080104, "ViewCodeSequence_CodeMeaning", "LO", "erect");
                        v.add(0x00181164, "ImagerPixelSpacing", "DS", "0.139\\0.139");
                    }
                    if (series.modality == "SR") {
                        v.add(0x0040A730, "ContentSequence_ValueType", "CS", "TEXT");
                        v.add(0x0040A160, "ContentSequence_TextValue", "UT", "Impression: no acute fracture.");
                        v.add(0x0040A730, "ContentSequence_ValueType", "CS", "DATE");
                        v.add(0x0040A121, "ContentSequence_Date", "DA", "20140603");
                    }
                    out.push_back(std::move(inst));
                }
            }
        }
    }
    return out;
}

/// Indexes instances through the provider in one batch and commits.
inline tessera::sdk::IndexReport indexAll(tessera::sdk::IndexProvider& provider, const std::vector<Instance>& instances) {
    std::vector<tessera::sdk::IndexItem> batch;
    for (const auto& inst : instances) batch.push_back({tessera::sdk::Uri::parse(inst.uri), &inst.view});
    auto report = provider.index(batch);
    provider.commit();
    return report;
}

/// Parses `text` with the host's parser and runs it.
inline tessera::sdk::QueryResponse run(tessera::sdk::QueryProvider& provider, std::string_view text,
                                       std::vector<std::string> fields = {}, std::size_t offset = 0,
                                       std::optional<std::size_t> limit = std::nullopt) {
    tessera::sdk::QueryRequest request;
    request.text = std::string(text);
    request.query = tessera::core::parseQuery(text);
    request.fields = std::move(fields);
    request.offset = offset;
    request.limit = limit;
    return provider.query(request);
}

inline std::size_t count(tessera::sdk::QueryProvider& provider, std::string_view text) {
    return run(provider, text).total;
}

}  // namespace xapian_test
