#pragma once
// The CSV format of Dicoogle's exporters (/export, /export/cvs, /exportFile), written row by row
// to a stream so that an export of any size never sits in memory.
//
//   header   "F1";"F2";            every field name quoted, each followed by ';'
//   row      "v1";;"v3";           a value quoted and followed by ';', an empty one a bare ';'
//   lines end with "\n" (Dicoogle uses the platform separator; we fix it to LF).
// Values: CR and LF removed, ';' replaced by ',', then trimmed (Java's trim: bytes <= ' ').
// A '"' inside a value is doubled (RFC 4180), so a CSV reader gets the value back; Dicoogle
// writes it bare and breaks the line's quoting.
//
// Thread-safety: a CsvWriter is used by one thread; csvValue is a pure function.

#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core {

/// A value as it appears in a cell, before quoting: CR/LF removed, ';' → ',', trimmed.
std::string csvValue(std::string_view value);

class CsvWriter {
public:
    /// Writes the header line at once.
    CsvWriter(std::ostream& out, std::vector<std::string> fields);

    /// One line: the writer's fields in order, looked up in `values` (missing = empty).
    void writeRow(const std::map<std::string, std::string>& values);

    const std::vector<std::string>& fields() const noexcept { return fields_; }
    std::size_t rows() const noexcept { return rows_; }

private:
    void writeCell(std::string_view value);

    std::ostream& out_;
    std::vector<std::string> fields_;
    std::size_t rows_ = 0;
    std::string line_;  // reused between rows
};

}  // namespace tessera::core
