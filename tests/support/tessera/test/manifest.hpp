#pragma once
// The sample corpus's MANIFEST.tsv (../shared/dicom-samples), parsed once, so that tests compute
// what a search must answer from the manifest instead of hard-coding counts.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::test {

/// One file of the corpus: the manifest's columns by header name.
class ManifestRow {
public:
    explicit ManifestRow(std::map<std::string, std::string> values) : values_(std::move(values)) {}

    /// The column's value; "" for an empty column. Throws std::out_of_range for a column the
    /// manifest does not have, so a typo in a test cannot pass as "empty".
    const std::string& operator[](const std::string& column) const { return values_.at(column); }
    /// The path relative to the samples directory ("images/CT_small.dcm").
    const std::string& file() const { return values_.at("file"); }
    const std::string& group() const { return values_.at("group"); }
    /// StudyDate with the legacy dots removed ("1993.04.30" -> "19930430").
    std::string normalisedStudyDate() const;
    /// How DIM grouping keys the patient: PatientID, or PatientName when the ID is empty.
    std::string patientKey() const;

private:
    std::map<std::string, std::string> values_;
};

using RowSet = std::vector<const ManifestRow*>;
using RowPredicate = std::function<bool(const ManifestRow&)>;

class Manifest {
public:
    /// Parses a MANIFEST.tsv; throws std::runtime_error on an unreadable file or a row whose
    /// column count differs from the header's.
    explicit Manifest(const std::filesystem::path& tsvFile);

    /// The corpus at TESSERA_SAMPLES_DIR, parsed on first use.
    static const Manifest& samples();
    /// The canonical samples directory (no "..", symlinks resolved).
    static std::filesystem::path samplesDir();

    const std::vector<ManifestRow>& rows() const { return rows_; }
    const std::vector<std::string>& columns() const { return columns_; }
    /// Throws std::out_of_range for a file the manifest does not list.
    const ManifestRow& byFile(const std::string& file) const;
    bool lists(const std::string& file) const { return byFile_.count(file) == 1; }

    /// Rows whose group is one of `groups`.
    RowSet inGroups(std::initializer_list<std::string_view> groups) const;
    /// Rows of `from` for which `predicate` holds.
    static RowSet select(const RowSet& from, const RowPredicate& predicate);
    /// The sorted file names of `rows` (duplicates kept, so a double answer shows).
    static std::vector<std::string> files(const RowSet& rows);
    /// The distinct non-empty values of `column` over `rows`.
    static std::set<std::string> distinct(const RowSet& rows, const std::string& column);

private:
    std::filesystem::path file_;
    std::vector<std::string> columns_;
    std::vector<ManifestRow> rows_;
    std::map<std::string, std::size_t> byFile_;
};

/// ASCII-and-UTF-8-safe lower-casing of ASCII letters only (enough for the Latin test words;
/// non-ASCII bytes are kept).
std::string asciiLower(std::string_view text);

/// The words of a value as the query language's word matching sees them: runs of letters,
/// digits, '_' and non-ASCII bytes; a '.' between two such characters stays inside the word
/// ("1.2.3" is one word); everything else ('^', '=', '\', spaces, '-') separates. Lower-cased
/// (ASCII). Tests use it on ASCII names, where this is unambiguous.
std::vector<std::string> valueWords(std::string_view value);

/// Glob match with '*' (any run) and '?' (one byte), case-sensitive: lower both sides first.
bool globMatch(std::string_view pattern, std::string_view text);

/// The MANIFEST columns that hold an attribute's value as the file has it (trimmed), with the
/// attribute's keyword: identity, study and series description, numbering, modality.
const std::vector<std::pair<std::string, std::string>>& manifestAttributeColumns();

/// What Tessera's DICOM reader makes of a sample it is not sure to accept: the one list every
/// suite counts with (the reader's own unit test pins it).
enum class SampleReadOutcome { Ok, Skipped, Error };

/// The outcome for every file of the `malformed` group, by manifest path.
const std::map<std::string, SampleReadOutcome>& malformedSampleOutcomes();

}  // namespace tessera::test
