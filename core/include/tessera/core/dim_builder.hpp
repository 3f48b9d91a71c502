#pragma once
// Dicoogle's DIM view of flat search results: patient → study → series → image, as /searchDIM
// answers it (behaviour reference §2).
//
// Grouping rules (kept for client compatibility):
//  - Patients are keyed by PatientID, or by PatientName when the ID is empty; studies by
//    StudyInstanceUID within a patient; series by SeriesInstanceUID within a study. Every level
//    is ordered by first appearance. Images are appended without de-duplication.
//  - The first record of a patient/study/series fills its fields, except that a later study
//    record with a non-empty StudyDescription overwrites it (Dicoogle overwrites even with an
//    empty one, which loses descriptions; we keep the last non-empty one).
//  - `modalities` of a study: the distinct Modality values of its records, first-appearance order.
//  - `serieNumber`: SeriesNumber as a number truncated to int, 0 when missing or not a number.
//  - `number` of an image: InstanceNumber when it is an integral number ("3", "3.0"), else absent.
//  - `rawPath`: the URI's path, undecoded, without `//authority`, query or fragment;
//    `filename`: what follows its last '/'. `sopInstanceUID` is "no uid" when missing.
//  - `birthdate` comes from PatientBirthDate, which DimBuilder::fields() asks for (Dicoogle
//    forgets to and always answers "").
//
// Depth cut-offs: below Image no images are kept, below Series no series (a study still collects
// its modalities), so building a shallow view holds only what it shows.
//
// Thread-safety: DimBuilder is a plain value, not synchronised; searchDim may run concurrently.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/sdk/query_ast.hpp"
#include "tessera/sdk/search_result.hpp"

namespace tessera::core {

class QueryService;

enum class DimDepth { None, Patient, Study, Series, Image };

/// none|patient|study|series|image, any case; nullopt otherwise.
std::optional<DimDepth> parseDimDepth(std::string_view text);

struct DimImage {
    std::string sopInstanceUid;
    std::string uri;
    std::string rawPath;
    std::string filename;
    std::optional<long long> number;
};

struct DimSeries {
    int number = 0;
    std::string instanceUid;
    std::string description;
    std::string modality;
    std::vector<DimImage> images;
};

struct DimStudy {
    std::string instanceUid;
    std::string date;
    std::string description;
    std::string institutionName;
    std::vector<std::string> modalities;
    std::vector<DimSeries> series;
};

struct DimPatient {
    std::string id;
    std::string name;
    std::string gender;
    std::string birthdate;
    std::vector<DimStudy> studies;
};

class DimBuilder {
public:
    explicit DimBuilder(DimDepth depth = DimDepth::Image);

    /// The fields add() reads; ask providers for exactly these.
    static const std::vector<std::string>& fields();
    /// PatientID, or PatientName when the ID is empty or missing.
    static std::string patientKey(const std::map<std::string, std::string>& fields);
    /// Whether the key comes from PatientID (false: from PatientName).
    static bool keyIsPatientId(const std::map<std::string, std::string>& fields);

    void add(const sdk::SearchResult& result);

    const std::vector<DimPatient>& patients() const noexcept { return patients_; }
    std::vector<DimPatient> takePatients();

private:
    DimDepth depth_;
    std::vector<DimPatient> patients_;
    std::unordered_map<std::string, std::size_t> patientIndex_;  // key → index
    std::unordered_map<std::string, std::size_t> studyIndex_;    // patient index + '\n' + study UID
    std::unordered_map<std::string, std::size_t> seriesIndex_;   // study key + '\n' + series UID
};

struct DimSearchOptions {
    std::vector<std::string> providers;  // requested names (resolved against the DIM providers)
    std::size_t offset = 0;              // in patients
    std::optional<std::size_t> limit;    // in patients; nullopt = all
    DimDepth depth = DimDepth::Image;
};

struct DimPage {
    std::size_t totalPatients = 0;  // before paging
    std::vector<DimPatient> patients;
};

/// Runs a query and builds its DIM view, paging on patients, without holding more than the
/// page: a first pass over the matches fetches only the patient key fields (to count patients
/// and pick the page, in first-appearance order); a second pass fetches the DIM fields of the
/// page's patients only — the query ANDed with their PatientID/PatientName terms when that is
/// possible, else the query again with every other patient skipped. Both passes stream in
/// chunks (QueryService::forEach). Throws what QueryService throws.
DimPage searchDim(const QueryService& service, const sdk::QueryNode& query, const std::string& text,
                  const DimSearchOptions& options);

}  // namespace tessera::core
