#pragma once
// The sqlite index's schema: the patient -> study -> series -> instance hierarchy with the DIM
// fields as columns, and the attribute tables that answer queries on any attribute.
//
//   fields(id, keyword, kind)                 the field catalogue (field_catalogue.hpp)
//   patients(id, patient_id, <DIM columns>)   one row per PatientID
//   studies(id, patient, study_instance_uid, <DIM columns>)
//   series(id, study, series_instance_uid, <DIM columns>)
//   instances(id, uri, series, sop_instance_uid, instance_number)
//                                             one row per indexed URI; `id` is the result order
//   records(id, data)                         every attribute of the instance as stored (the
//                                             fields a search returns); apart from `instances`
//                                             so that scans of `instances` stay small
//   value_index(field, value, doc)            each value of each attribute, lower-cased,
//                                             dates/times normalised (`Field:value`, wildcards,
//                                             text ranges, `Field:*`)
//   word_index(field, word, doc)              words of values that have several words (or whose
//                                             one word differs from the value)
//   key_index(field, key, doc)                range keys: REAL for numbers, normalised TEXT for
//                                             dates and times
//   text_index(word, doc)                     free-text words of text attributes
//   phrase_index(doc, field, seq, free, words) the words of each several-word value in order,
//                                             " w1 w2 ... ", for phrases
//   meta(key, value)                          the layout version
//
// The hierarchy columns hold the values of the instance indexed last (DICOM says they agree
// across a study's instances); `<column>_lc` columns are lower-cased and indexed for study-level
// lookups. Queries match on the attribute tables, which hold every instance's own values, so
// that the sqlite and xapian providers answer every query alike.
//
// Thread-safety: constants and pure functions.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tessera::plugins::sqlite {

/// The layout version in `meta`; an index of another layout is refused, not misread.
inline constexpr std::string_view kLayoutVersion = "1";

enum class Level { Patient, Study, Series, Instance };

/// One DIM attribute kept as a column of its hierarchy level. Column names are fixed here and
/// never come from input.
struct DimColumn {
    std::string_view keyword;
    Level level;
    std::string_view column;
    bool lowerCaseIndex;  ///< also a `<column>_lc` column with an index
};

inline constexpr std::array<DimColumn, 30> kDimColumns = {{
    {"PatientID", Level::Patient, "patient_id", true},
    {"PatientName", Level::Patient, "patient_name", true},
    {"PatientSex", Level::Patient, "patient_sex", false},
    {"PatientBirthDate", Level::Patient, "patient_birth_date", false},
    {"PatientTelephoneNumbers", Level::Patient, "patient_telephone_numbers", false},
    {"StudyInstanceUID", Level::Study, "study_instance_uid", false},
    {"StudyID", Level::Study, "study_id", true},
    {"StudyDate", Level::Study, "study_date", true},
    {"StudyTime", Level::Study, "study_time", false},
    {"StudyDescription", Level::Study, "study_description", true},
    {"AccessionNumber", Level::Study, "accession_number", true},
    {"ModalitiesInStudy", Level::Study, "modalities_in_study", false},
    {"ReferringPhysicianName", Level::Study, "referring_physician_name", true},
    {"PatientAge", Level::Study, "patient_age", false},
    {"PregnancyStatus", Level::Study, "pregnancy_status", false},
    {"InstitutionName", Level::Study, "institution_name", true},
    {"InstitutionDepartmentName", Level::Study, "institution_department_name", false},
    {"NumberOfStudyRelatedInstances", Level::Study, "number_of_study_related_instances", false},
    {"Priority", Level::Study, "priority", false},
    {"SeriesInstanceUID", Level::Series, "series_instance_uid", false},
    {"Modality", Level::Series, "modality", true},
    {"SeriesNumber", Level::Series, "series_number", false},
    {"SeriesDescription", Level::Series, "series_description", true},
    {"PerformingPhysicianName", Level::Series, "performing_physician_name", false},
    {"OperatorName", Level::Series, "operator_name", false},
    {"PerformedLocation", Level::Series, "performed_location", false},
    {"Manufacturer", Level::Series, "manufacturer", false},
    {"ManufacturerModelName", Level::Series, "manufacturer_model_name", false},
    {"SOPInstanceUID", Level::Instance, "sop_instance_uid", false},
    {"InstanceNumber", Level::Instance, "instance_number", false},
}};

/// The hierarchy keys: the first column of each level above the instance.
inline constexpr std::size_t kPatientKeyColumn = 0;
inline constexpr std::size_t kStudyKeyColumn = 5;
inline constexpr std::size_t kSeriesKeyColumn = 19;

/// Index in kDimColumns of a keyword, or kDimColumns.size().
std::size_t dimColumnIndex(std::string_view keyword) noexcept;

/// Whether the keyword is one of Dicoogle's default DIM fields, which results always carry (""
/// when the object lacks them). InstanceNumber has a column but is not one of them.
bool isDimField(std::string_view keyword) noexcept;

/// The statements that create the schema (idempotent: IF NOT EXISTS).
std::string schemaSql();

}  // namespace tessera::plugins::sqlite
