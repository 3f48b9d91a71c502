#include "tessera/test/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace tessera::test {

namespace {

std::vector<std::string> splitTabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
        const auto end = line.find('\t', start);
        fields.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return fields;
        start = end + 1;
    }
}

bool isWordByte(unsigned char c) {
    return std::isalnum(c) || c == '_' || c >= 0x80;
}

}  // namespace

std::string ManifestRow::normalisedStudyDate() const {
    std::string date = (*this)["StudyDate"];
    date.erase(std::remove(date.begin(), date.end(), '.'), date.end());
    return date;
}

std::string ManifestRow::patientKey() const {
    const auto& id = (*this)["PatientID"];
    return id.empty() ? (*this)["PatientName"] : id;
}

Manifest::Manifest(const std::filesystem::path& tsvFile) : file_(tsvFile) {
    std::ifstream in(tsvFile);
    if (!in) throw std::runtime_error("cannot read " + tsvFile.string());
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error(tsvFile.string() + " is empty");
    columns_ = splitTabs(line);
    std::size_t lineNumber = 1;
    while (std::getline(in, line)) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const auto fields = splitTabs(line);
        if (fields.size() != columns_.size())
            throw std::runtime_error(tsvFile.string() + ":" + std::to_string(lineNumber) + ": " +
                                     std::to_string(fields.size()) + " columns, the header has " +
                                     std::to_string(columns_.size()));
        std::map<std::string, std::string> values;
        for (std::size_t i = 0; i < columns_.size(); ++i) values.emplace(columns_[i], fields[i]);
        rows_.emplace_back(std::move(values));
    }
    for (std::size_t i = 0; i < rows_.size(); ++i)
        if (!byFile_.emplace(rows_[i].file(), i).second)
            throw std::runtime_error(tsvFile.string() + " lists " + rows_[i].file() + " twice");
}

std::filesystem::path Manifest::samplesDir() {
    static const auto dir = std::filesystem::canonical(TESSERA_SAMPLES_DIR);
    return dir;
}

const Manifest& Manifest::samples() {
    static const Manifest manifest(samplesDir() / "MANIFEST.tsv");
    return manifest;
}

const ManifestRow& Manifest::byFile(const std::string& file) const {
    return rows_.at(byFile_.at(file));
}

RowSet Manifest::inGroups(std::initializer_list<std::string_view> groups) const {
    RowSet out;
    for (const auto& row : rows_)
        if (std::find(groups.begin(), groups.end(), row.group()) != groups.end()) out.push_back(&row);
    return out;
}

RowSet Manifest::select(const RowSet& from, const RowPredicate& predicate) {
    RowSet out;
    std::copy_if(from.begin(), from.end(), std::back_inserter(out),
                 [&](const ManifestRow* row) { return predicate(*row); });
    return out;
}

std::vector<std::string> Manifest::files(const RowSet& rows) {
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (const auto* row : rows) out.push_back(row->file());
    std::sort(out.begin(), out.end());
    return out;
}

std::set<std::string> Manifest::distinct(const RowSet& rows, const std::string& column) {
    std::set<std::string> out;
    for (const auto* row : rows)
        if (!(*row)[column].empty()) out.insert((*row)[column]);
    return out;
}

std::string asciiLower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::vector<std::string> valueWords(std::string_view value) {
    std::vector<std::string> out;
    std::string word;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        const bool dotInside =
            c == '.' && !word.empty() && i + 1 < value.size() && isWordByte(static_cast<unsigned char>(value[i + 1]));
        if (isWordByte(c) || dotInside) {
            word.push_back(static_cast<char>(c));
        } else if (!word.empty()) {
            out.push_back(asciiLower(word));
            word.clear();
        }
    }
    if (!word.empty()) out.push_back(asciiLower(word));
    return out;
}

bool globMatch(std::string_view pattern, std::string_view text) {
    // Iterative matcher with one back-tracking point for the last '*'.
    std::size_t p = 0, t = 0, starP = std::string_view::npos, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            starP = p++;
            starT = t;
        } else if (starP != std::string_view::npos) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

const std::vector<std::pair<std::string, std::string>>& manifestAttributeColumns() {
    static const std::vector<std::pair<std::string, std::string>> columns = {
        {"PatientName", "PatientName"},
        {"PatientID", "PatientID"},
        {"StudyInstanceUID", "StudyInstanceUID"},
        {"SeriesInstanceUID", "SeriesInstanceUID"},
        {"SOPInstanceUID", "SOPInstanceUID"},
        {"StudyDate", "StudyDate"},
        {"StudyTime", "StudyTime"},
        {"modality", "Modality"},
        {"AccessionNumber", "AccessionNumber"},
        {"StudyDescription", "StudyDescription"},
        {"SeriesDescription", "SeriesDescription"},
        {"SeriesNumber", "SeriesNumber"},
        {"InstanceNumber", "InstanceNumber"},
    };
    return columns;
}

const std::map<std::string, SampleReadOutcome>& malformedSampleOutcomes() {
    static const std::map<std::string, SampleReadOutcome> outcomes = {
        // Reading stops before PixelData, so a short PixelData does not matter.
        {"malformed/MR_truncated_pixeldata.dcm", SampleReadOutcome::Ok},
        {"malformed/CT_no_meta_leading_junk_byte.dcm", SampleReadOutcome::Error},
        {"malformed/meta_missing_transfer_syntax.dcm", SampleReadOutcome::Skipped},
        {"malformed/RTDOSE_bad_IS_value.dcm", SampleReadOutcome::Ok},
        {"malformed/NM_J2K_corrupt_codestream.dcm", SampleReadOutcome::Ok},
        {"malformed/MR_missing_uids.dcm", SampleReadOutcome::Skipped},
        {"malformed/MR_no_pixel_data_meta_uid_mismatch.dcm", SampleReadOutcome::Ok},
        {"malformed/RTIMAGE_meta_without_group_length.dcm", SampleReadOutcome::Skipped},
        {"malformed/UN_sequence_fragment.dcm", SampleReadOutcome::Skipped},
    };
    return outcomes;
}

}  // namespace tessera::test
