#include "tessera/plugins/xapian/document_summary.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace tessera::plugins::xapian {

namespace {

/// Sorted (binary search). Dicoogle's DIM fields (xapian_searcher.cpp's list: what DIM and the
/// C-FIND aggregation read) plus the keys C-FIND clients commonly ask for at study, series and
/// image level. Changing it means bumping kSummaryVersion.
constexpr std::array<std::string_view, 37> kSummaryFields = {
    "AccessionNumber",
    "BodyPartExamined",
    "ContentDate",
    "ContentTime",
    "InstanceNumber",
    "InstitutionDepartmentName",
    "InstitutionName",
    "IssuerOfPatientID",
    "Manufacturer",
    "ManufacturerModelName",
    "ModalitiesInStudy",
    "Modality",
    "NumberOfStudyRelatedInstances",
    "OperatorName",
    "PatientAge",
    "PatientBirthDate",
    "PatientID",
    "PatientName",
    "PatientSex",
    "PatientTelephoneNumbers",
    "PerformedLocation",
    "PerformingPhysicianName",
    "PregnancyStatus",
    "Priority",
    "ReferringPhysicianName",
    "SOPClassUID",
    "SOPInstanceUID",
    "SeriesDate",
    "SeriesDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesTime",
    "StudyDate",
    "StudyDescription",
    "StudyID",
    "StudyInstanceUID",
    "StudyTime",
};
static_assert(std::is_sorted(kSummaryFields.begin(), kSummaryFields.end()));
static_assert(std::all_of(kSummaryFields.begin(), kSummaryFields.end(), [](std::string_view f) {
    return f.size() < 64 && f[0] >= 'A' && f[0] <= 'Z';
}));

/// Bit n of [c] set when a summary field starts with letter c and is n bytes long: rejects
/// almost every other keyword without the binary search (asked for every attribute).
constexpr std::array<std::uint64_t, 26> kFirstLetterLengths = [] {
    std::array<std::uint64_t, 26> masks{};
    for (std::string_view field : kSummaryFields) masks[static_cast<std::size_t>(field[0] - 'A')] |= std::uint64_t{1} << field.size();
    return masks;
}();

}  // namespace

bool isSummaryField(std::string_view keyword) noexcept {
    if (keyword.empty() || keyword.size() > 63 || keyword[0] < 'A' || keyword[0] > 'Z' ||
        (kFirstLetterLengths[static_cast<std::size_t>(keyword[0] - 'A')] & (std::uint64_t{1} << keyword.size())) == 0)
        return false;
    return std::binary_search(kSummaryFields.begin(), kSummaryFields.end(), keyword);
}

SummaryBuilder::SummaryBuilder(std::string_view uri) : encoder_(uri) { seen_.reserve(kSummaryFields.size()); }

void SummaryBuilder::add(std::string_view keyword, std::uint32_t fieldId, std::string_view value) {
    if (!isSummaryField(keyword)) return;
    if (std::find(seen_.begin(), seen_.end(), fieldId) != seen_.end()) return;  // first occurrence wins
    seen_.push_back(fieldId);
    encoder_.add(fieldId, value);
}

void SummaryBuilder::addTo(Xapian::Document& doc) const {
    std::string value;
    value.reserve(encoder_.data().size() + 1);
    value.push_back(kSummaryVersion);
    value.append(encoder_.data());
    doc.add_value(kSummarySlot, value);
}

}  // namespace tessera::plugins::xapian
