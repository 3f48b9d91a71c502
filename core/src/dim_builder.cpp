#include "tessera/core/dim_builder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_set>

#include "tessera/core/query_service.hpp"

namespace tessera::core {
namespace {

// More patients than this on one page are fetched by re-running the query and skipping the
// others, instead of one OR clause per patient (keeps the pinned query small).
constexpr std::size_t kMaxPinnedPatients = 256;

const std::string kEmpty;

const std::string& fieldOf(const std::map<std::string, std::string>& fields, const std::string& name) {
    auto it = fields.find(name);
    return it == fields.end() ? kEmpty : it->second;
}

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A whole trimmed string as a finite number.
std::optional<double> parseNumber(const std::string& text) {
    std::size_t begin = 0, end = text.size();
    while (begin < end && isSpace(text[begin])) ++begin;
    while (end > begin && isSpace(text[end - 1])) --end;
    if (begin == end) return std::nullopt;
    const std::string value = text.substr(begin, end - begin);
    char* stop = nullptr;
    const double number = std::strtod(value.c_str(), &stop);
    if (stop != value.c_str() + value.size() || !std::isfinite(number)) return std::nullopt;
    // strtod also reads hex floats, "inf" and "nan"; a DICOM IS/DS value is decimal.
    if (value.find_first_of("xXnN") != std::string::npos) return std::nullopt;
    return number;
}

int seriesNumber(const std::string& text) {
    const auto number = parseNumber(text);
    if (!number) return 0;
    const double truncated = std::trunc(*number);
    if (truncated > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
    if (truncated < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
    return static_cast<int>(truncated);
}

std::optional<long long> instanceNumber(const std::string& text) {
    const auto number = parseNumber(text);
    if (!number || std::trunc(*number) != *number || std::fabs(*number) > 9.0e15) return std::nullopt;
    return static_cast<long long>(*number);
}

std::string rawPathOf(const sdk::Uri& uri) {
    std::string_view rest = uri.schemeSpecificPart();
    if (rest.substr(0, 2) == "//") {
        rest.remove_prefix(2);
        const auto slash = rest.find('/');
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    }
    if (const auto end = rest.find_first_of("?#"); end != std::string_view::npos) rest = rest.substr(0, end);
    return std::string(rest);
}

std::string keyOf(const DimPatient& patient) {
    return patient.id.empty() ? patient.name : patient.id;
}

}  // namespace

std::optional<DimDepth> parseDimDepth(std::string_view text) {
    std::string lower(text);
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    if (lower == "none") return DimDepth::None;
    if (lower == "patient") return DimDepth::Patient;
    if (lower == "study") return DimDepth::Study;
    if (lower == "series") return DimDepth::Series;
    if (lower == "image") return DimDepth::Image;
    return std::nullopt;
}

DimBuilder::DimBuilder(DimDepth depth) : depth_(depth) {}

const std::vector<std::string>& DimBuilder::fields() {
    static const std::vector<std::string> kFields = {
        "PatientID",    "PatientName",       "PatientSex",      "PatientBirthDate", "StudyInstanceUID",
        "StudyDate",    "StudyDescription",  "InstitutionName", "Modality",         "SeriesInstanceUID",
        "SeriesNumber", "SeriesDescription", "SOPInstanceUID",  "InstanceNumber"};
    return kFields;
}

std::string DimBuilder::patientKey(const std::map<std::string, std::string>& fields) {
    const auto& id = fieldOf(fields, "PatientID");
    return id.empty() ? fieldOf(fields, "PatientName") : id;
}

bool DimBuilder::keyIsPatientId(const std::map<std::string, std::string>& fields) {
    return !fieldOf(fields, "PatientID").empty();
}

void DimBuilder::add(const sdk::SearchResult& result) {
    const auto& f = result.fields;
    const std::string key = patientKey(f);
    auto [patientIt, newPatient] = patientIndex_.try_emplace(key, patients_.size());
    if (newPatient) {
        DimPatient patient;
        patient.id = fieldOf(f, "PatientID");
        patient.name = fieldOf(f, "PatientName");
        patient.gender = fieldOf(f, "PatientSex");
        patient.birthdate = fieldOf(f, "PatientBirthDate");
        patients_.push_back(std::move(patient));
    }
    DimPatient& patient = patients_[patientIt->second];

    const auto& studyUid = fieldOf(f, "StudyInstanceUID");
    const std::string studyKey = std::to_string(patientIt->second) + '\n' + studyUid;
    auto [studyIt, newStudy] = studyIndex_.try_emplace(studyKey, patient.studies.size());
    if (newStudy) {
        DimStudy study;
        study.instanceUid = studyUid;
        study.date = fieldOf(f, "StudyDate");
        study.institutionName = fieldOf(f, "InstitutionName");
        patient.studies.push_back(std::move(study));
    }
    DimStudy& study = patient.studies[studyIt->second];
    if (const auto& description = fieldOf(f, "StudyDescription"); !description.empty() || newStudy)
        study.description = description;
    if (depth_ < DimDepth::Study) return;

    const auto& modality = fieldOf(f, "Modality");
    if (!modality.empty() &&
        std::find(study.modalities.begin(), study.modalities.end(), modality) == study.modalities.end())
        study.modalities.push_back(modality);
    if (depth_ < DimDepth::Series) return;

    const auto& seriesUid = fieldOf(f, "SeriesInstanceUID");
    auto [seriesIt, newSeries] = seriesIndex_.try_emplace(studyKey + '\n' + seriesUid, study.series.size());
    if (newSeries) {
        DimSeries series;
        series.number = seriesNumber(fieldOf(f, "SeriesNumber"));
        series.instanceUid = seriesUid;
        series.description = fieldOf(f, "SeriesDescription");
        series.modality = modality;
        study.series.push_back(std::move(series));
    }
    if (depth_ < DimDepth::Image) return;

    DimImage image;
    const auto& sop = fieldOf(f, "SOPInstanceUID");
    image.sopInstanceUid = sop.empty() ? "no uid" : sop;
    image.uri = result.uri.str();
    image.rawPath = rawPathOf(result.uri);
    const auto slash = image.rawPath.rfind('/');
    image.filename = slash == std::string::npos ? image.rawPath : image.rawPath.substr(slash + 1);
    image.number = instanceNumber(fieldOf(f, "InstanceNumber"));
    study.series[seriesIt->second].images.push_back(std::move(image));
}

std::vector<DimPatient> DimBuilder::takePatients() {
    patientIndex_.clear();
    studyIndex_.clear();
    seriesIndex_.clear();
    return std::move(patients_);
}

DimPage searchDim(const QueryService& service, const sdk::QueryNode& query, const std::string& text,
                  const DimSearchOptions& options) {
    const auto providers = service.resolveProviders(options.providers, true);
    DimPage page;

    // Pass 1: the patients, in first-appearance order, and which field each key came from.
    struct KeyInfo {
        std::size_t order = 0;
        bool fromId = false;
        bool fromName = false;
    };
    std::unordered_map<std::string, KeyInfo> keys;
    std::vector<const std::string*> order;
    service.forEach(query, text, providers, {"PatientID", "PatientName"}, [&](const sdk::SearchResult& result) {
        const std::string key = DimBuilder::patientKey(result.fields);
        auto [it, added] = keys.try_emplace(key, KeyInfo{order.size()});
        if (added) order.push_back(&it->first);  // node-based map: the key's address is stable
        (DimBuilder::keyIsPatientId(result.fields) ? it->second.fromId : it->second.fromName) = true;
        return true;
    });
    page.totalPatients = order.size();
    if (options.depth == DimDepth::None || options.offset >= order.size()) return page;
    const std::size_t first = options.offset;
    const std::size_t count = std::min(order.size() - first, options.limit.value_or(order.size()));
    if (count == 0) return page;

    std::unordered_set<std::string> wanted;
    for (std::size_t i = first; i < first + count; ++i) wanted.insert(*order[i]);
    const bool wholeSet = count == order.size();

    // Pass 2: the DIM fields of the page's patients.
    sdk::QueryNode secondQuery = query;
    const bool pinnable = !wholeSet && count <= kMaxPinnedPatients && wanted.count("") == 0;
    if (pinnable) {
        sdk::BooleanQuery anyPatient;
        for (const auto& key : wanted) {
            const auto& info = keys.at(key);
            if (info.fromId) anyPatient.clauses.push_back({sdk::Occur::Should, sdk::TermQuery{"PatientID", key}});
            if (info.fromName) anyPatient.clauses.push_back({sdk::Occur::Should, sdk::TermQuery{"PatientName", key}});
        }
        sdk::BooleanQuery both;
        both.clauses.push_back({sdk::Occur::Must, query});
        both.clauses.push_back({sdk::Occur::Must, std::move(anyPatient)});
        secondQuery = std::move(both);
    }
    DimBuilder builder(options.depth);
    service.forEach(secondQuery, text, providers, DimBuilder::fields(), [&](const sdk::SearchResult& result) {
        if (wholeSet || wanted.count(DimBuilder::patientKey(result.fields)) > 0) builder.add(result);
        return true;
    });

    // Present the page in pass 1's order; a patient that vanished in between is left out.
    auto built = builder.takePatients();
    std::stable_sort(built.begin(), built.end(), [&](const DimPatient& a, const DimPatient& b) {
        auto ia = keys.find(keyOf(a)), ib = keys.find(keyOf(b));
        const auto oa = ia == keys.end() ? order.size() : ia->second.order;
        const auto ob = ib == keys.end() ? order.size() : ib->second.order;
        return oa < ob;
    });
    page.patients = std::move(built);
    return page;
}

}  // namespace tessera::core
