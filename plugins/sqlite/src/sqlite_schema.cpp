#include "tessera/plugins/sqlite/sqlite_schema.hpp"

#include <algorithm>

namespace tessera::plugins::sqlite {

namespace {

/// Dicoogle's default DIM field list (behaviour reference §9), as the xapian provider has it.
constexpr std::array<std::string_view, 29> kDefaultDimFields = {
    "PatientID",        "PatientName",       "PatientSex",           "PatientBirthDate",
    "PatientAge",       "PatientTelephoneNumbers", "PregnancyStatus", "StudyInstanceUID",
    "StudyID",          "StudyDate",         "StudyTime",            "StudyDescription",
    "AccessionNumber",  "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "InstitutionName",
    "InstitutionDepartmentName", "ReferringPhysicianName", "PerformingPhysicianName", "OperatorName",
    "PerformedLocation", "Manufacturer",     "ManufacturerModelName", "Priority",
    "Modality",         "SeriesInstanceUID", "SeriesNumber",         "SeriesDescription",
    "SOPInstanceUID"};

std::string levelColumns(Level level) {
    std::string out;
    for (const auto& c : kDimColumns) {
        if (c.level != level) continue;
        out += ",\n  ";
        out += c.column;
        out += " TEXT";
        if (c.lowerCaseIndex) {
            out += ", ";
            out += c.column;
            out += "_lc TEXT";
        }
    }
    return out;
}

std::string levelIndexes(Level level, std::string_view table) {
    std::string out;
    for (const auto& c : kDimColumns) {
        if (c.level != level || !c.lowerCaseIndex) continue;
        out += "CREATE INDEX IF NOT EXISTS ";
        out += table;
        out += "_";
        out += c.column;
        out += "_lc ON ";
        out += table;
        out += "(";
        out += c.column;
        out += "_lc);\n";
    }
    return out;
}

}  // namespace

std::size_t dimColumnIndex(std::string_view keyword) noexcept {
    for (std::size_t i = 0; i < kDimColumns.size(); ++i)
        if (kDimColumns[i].keyword == keyword) return i;
    return kDimColumns.size();
}

bool isDimField(std::string_view keyword) noexcept {
    return std::find(kDefaultDimFields.begin(), kDefaultDimFields.end(), keyword) != kDefaultDimFields.end();
}

std::string schemaSql() {
    std::string sql;
    sql += "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;\n";
    sql += "CREATE TABLE IF NOT EXISTS fields(id INTEGER PRIMARY KEY, keyword TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);\n";
    sql += "CREATE TABLE IF NOT EXISTS patients(\n  id INTEGER PRIMARY KEY" + levelColumns(Level::Patient) + ");\n";
    sql += "CREATE UNIQUE INDEX IF NOT EXISTS patients_key ON patients(patient_id);\n";
    sql += levelIndexes(Level::Patient, "patients");
    sql += "CREATE TABLE IF NOT EXISTS studies(\n  id INTEGER PRIMARY KEY,\n  patient INTEGER NOT NULL" +
           levelColumns(Level::Study) + ");\n";
    sql += "CREATE UNIQUE INDEX IF NOT EXISTS studies_key ON studies(study_instance_uid);\n";
    sql += "CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient);\n";
    sql += levelIndexes(Level::Study, "studies");
    sql += "CREATE TABLE IF NOT EXISTS series(\n  id INTEGER PRIMARY KEY,\n  study INTEGER NOT NULL" +
           levelColumns(Level::Series) + ");\n";
    sql += "CREATE UNIQUE INDEX IF NOT EXISTS series_key ON series(series_instance_uid);\n";
    sql += "CREATE INDEX IF NOT EXISTS series_study ON series(study);\n";
    sql += levelIndexes(Level::Series, "series");
    sql += "CREATE TABLE IF NOT EXISTS instances(\n  id INTEGER PRIMARY KEY,\n  uri TEXT NOT NULL UNIQUE,\n"
           "  series INTEGER NOT NULL" + levelColumns(Level::Instance) + ");\n";
    sql += "CREATE INDEX IF NOT EXISTS instances_series ON instances(series);\n";
    sql += "CREATE INDEX IF NOT EXISTS instances_sop_instance_uid ON instances(sop_instance_uid);\n";
    sql += "CREATE TABLE IF NOT EXISTS records(id INTEGER PRIMARY KEY, data BLOB NOT NULL);\n";
    // Attribute tables: keyed for lookups by field and value; a record's rows are deleted by
    // recomputing them from its stored attributes, so no index by document is needed.
    sql += "CREATE TABLE IF NOT EXISTS value_index(field INTEGER NOT NULL, value TEXT NOT NULL, doc INTEGER NOT NULL,"
           " PRIMARY KEY(field, value, doc)) WITHOUT ROWID;\n";
    sql += "CREATE TABLE IF NOT EXISTS word_index(field INTEGER NOT NULL, word TEXT NOT NULL, doc INTEGER NOT NULL,"
           " PRIMARY KEY(field, word, doc)) WITHOUT ROWID;\n";
    // `key` has no declared type, so REAL keys stay REAL and TEXT keys TEXT (one type per field).
    sql += "CREATE TABLE IF NOT EXISTS key_index(field INTEGER NOT NULL, key NOT NULL, doc INTEGER NOT NULL,"
           " PRIMARY KEY(field, key, doc)) WITHOUT ROWID;\n";
    sql += "CREATE TABLE IF NOT EXISTS text_index(word TEXT NOT NULL, doc INTEGER NOT NULL,"
           " PRIMARY KEY(word, doc)) WITHOUT ROWID;\n";
    sql += "CREATE TABLE IF NOT EXISTS phrase_index(doc INTEGER NOT NULL, field INTEGER NOT NULL, seq INTEGER NOT NULL,"
           " free INTEGER NOT NULL, words TEXT NOT NULL, PRIMARY KEY(doc, field, seq)) WITHOUT ROWID;\n";
    return sql;
}

}  // namespace tessera::plugins::sqlite
