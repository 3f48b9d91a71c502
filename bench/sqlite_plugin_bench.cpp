// bench_sqlite_plugin: the sqlite plugin alone, in process. Builds N synthetic instances (about
// 30 attributes each: 2 studies per patient, 3 series per study, 5-15 instances per series),
// indexes them through SqliteProvider in batches, then times study-level exact and range
// queries and a few other kinds through SqliteProvider::query with the host's real parser.
//
// Prints indexing instances/s, index bytes per instance and p50/p95 per query kind. Not a test:
// the numbers depend on the machine. The full 100,000-instance benchmark belongs to
// bench/index_and_search.sh; this is the quick in-process check.
//
// Usage: bench_sqlite_plugin [N] [queries per kind]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tessera/core/query/query_parser.hpp"
#include "tessera/plugins/sqlite/sqlite_provider.hpp"
#include "tessera/sdk/dicom_object_view.hpp"

namespace {

using Clock = std::chrono::steady_clock;

class View final : public tessera::sdk::DicomObjectView {
public:
    void add(std::string keyword, std::string vr, std::string value) {
        attributes_.push_back({0, std::move(keyword), std::move(vr), std::move(value)});
    }
    std::optional<std::string> get(std::string_view keyword) const override {
        for (const auto& a : attributes_)
            if (a.keyword == keyword) return a.value;
        return std::nullopt;
    }
    void forEachAttribute(const std::function<void(const tessera::sdk::DicomAttribute&)>& visit) const override {
        for (const auto& a : attributes_) visit(a);
    }

private:
    std::vector<tessera::sdk::DicomAttribute> attributes_;
};

constexpr const char* kNames[] = {"SMITH", "JONES", "MÜLLER", "GARCIA", "TANAKA", "O'BRIEN", "NOWAK", "ROSSI"};
constexpr const char* kModalities[] = {"CT", "MR", "CR", "US"};

std::string studyUid(unsigned p, unsigned s) { return "2.25.77" + std::to_string(p) + "." + std::to_string(s); }
std::string studyDate(unsigned p, unsigned s) {
    const unsigned day = (p * 7 + s * 3) % 3650;  // ten years of dates
    const unsigned year = 2010 + day / 365, month = 1 + (day % 365) / 31 % 12, dom = 1 + day % 28;
    char text[16];
    std::snprintf(text, sizeof text, "%04u%02u%02u", year, month, dom);
    return text;
}

View instance(unsigned p, unsigned s, unsigned r, unsigned i) {
    View v;
    const std::string series = studyUid(p, s) + "." + std::to_string(r);
    v.add("SpecificCharacterSet", "CS", "ISO_IR 192");
    v.add("ImageType", "CS", i % 2 ? "ORIGINAL\\PRIMARY\\AXIAL" : "DERIVED\\SECONDARY");
    v.add("SOPClassUID", "UI", "1.2.840.10008.5.1.4.1.1.2");
    v.add("SOPInstanceUID", "UI", series + "." + std::to_string(i));
    v.add("StudyDate", "DA", studyDate(p, s));
    v.add("StudyTime", "TM", std::to_string(80000 + (p % 10) * 1000));
    v.add("AccessionNumber", "SH", "ACC" + std::to_string(p * 10 + s));
    v.add("Modality", "CS", kModalities[(p + r) % 4]);
    v.add("Manufacturer", "LO", "ACME Medical");
    v.add("InstitutionName", "LO", "General Hospital " + std::to_string(p % 20));
    v.add("ReferringPhysicianName", "PN", std::string(kNames[(p + 3) % 8]) + "^DOC");
    v.add("StudyDescription", "LO", "STUDY OF PATIENT " + std::to_string(p % 50));
    v.add("SeriesDescription", "LO", "SERIES " + std::to_string(r) + " AXIAL");
    v.add("PatientName", "PN", std::string(kNames[p % 8]) + "^GIVEN" + std::to_string(p % 97));
    v.add("PatientID", "LO", "PID" + std::to_string(p));
    v.add("PatientBirthDate", "DA", "19" + std::to_string(40 + p % 60) + "0101");
    v.add("PatientSex", "CS", p % 2 ? "M" : "F");
    v.add("SliceThickness", "DS", std::to_string(1 + r) + ".000000");
    v.add("KVP", "DS", "120");
    v.add("StudyInstanceUID", "UI", studyUid(p, s));
    v.add("SeriesInstanceUID", "UI", series);
    v.add("StudyID", "SH", std::to_string(s));
    v.add("SeriesNumber", "IS", std::to_string(r));
    v.add("InstanceNumber", "IS", std::to_string(i));
    v.add("ImagePositionPatient", "DS", "-125.5\\-130\\" + std::to_string(i * 5));
    v.add("ImageOrientationPatient", "DS", "1\\0\\0\\0\\1\\0");
    v.add("FrameOfReferenceUID", "UI", studyUid(p, s) + ".9");
    v.add("Rows", "US", "512");
    v.add("Columns", "US", "512");
    v.add("PixelSpacing", "DS", "0.488\\0.488");
    v.add("WindowCenter", "DS", "40");
    v.add("ReferencedImageSequence_ReferencedSOPInstanceUID", "UI", series + ".1");
    return v;
}

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
    const std::size_t perKind = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200;
    const auto dir = std::filesystem::temp_directory_path() / ("bench-sqlite-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "index.sqlite";

    struct Slot {
        unsigned p, s, r, i;
    };
    std::vector<Slot> slots;
    for (unsigned p = 1; slots.size() < n; ++p)
        for (unsigned s = 1; s <= 2 && slots.size() < n; ++s)
            for (unsigned r = 1; r <= 3 && slots.size() < n; ++r)
                for (unsigned i = 1; i <= 5 + (p * 3 + r) % 11 && slots.size() < n; ++i) slots.push_back({p, s, r, i});
    const unsigned patients = slots.back().p;

    tessera::plugins::sqlite::SqliteProvider provider;
    provider.open(file);
    const auto start = Clock::now();
    constexpr std::size_t kBatch = 256;
    for (std::size_t from = 0; from < slots.size(); from += kBatch) {
        std::vector<View> views;
        std::vector<tessera::sdk::IndexItem> items;
        const std::size_t to = std::min(slots.size(), from + kBatch);
        views.reserve(to - from);
        for (std::size_t k = from; k < to; ++k) {
            const auto& x = slots[k];
            views.push_back(instance(x.p, x.s, x.r, x.i));
            items.push_back({tessera::sdk::Uri::parse("file:/corpus/" + std::to_string(k) + ".dcm"), &views.back()});
        }
        provider.index(items);
    }
    provider.commit();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("indexed %zu instances in %.1f s: %.0f instances/s\n", slots.size(), seconds, static_cast<double>(slots.size()) / seconds);
    std::size_t bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) bytes += entry.file_size();
    std::printf("index size %.1f MB, %.0f bytes per instance\n", static_cast<double>(bytes) / 1e6, static_cast<double>(bytes) / static_cast<double>(slots.size()));

    struct Kind {
        const char* name;
        std::function<std::string(unsigned)> text;
    };
    const std::vector<Kind> kinds = {
        {"StudyInstanceUID exact", [&](unsigned k) { return "StudyInstanceUID:" + studyUid(1 + k % patients, 1 + k % 2); }},
        {"PatientID exact", [&](unsigned k) { return "PatientID:PID" + std::to_string(1 + (k * 7919) % patients); }},
        {"AccessionNumber exact", [&](unsigned k) { return "AccessionNumber:ACC" + std::to_string((1 + k % patients) * 10 + 1); }},
        {"StudyDate day", [&](unsigned k) { return "StudyDate:" + studyDate(1 + k % patients, 1); }},
        {"StudyDate range (1 week)",
         [&](unsigned k) { return "StudyDate:[" + studyDate(1 + k % patients, 1) + " TO " + studyDate(1 + k % patients, 1).substr(0, 6) + "07]"; }},
        {"StudyDate AND Modality",
         [&](unsigned k) { return "StudyDate:" + studyDate(1 + k % patients, 1) + " AND Modality:CT"; }},
        {"PatientName word", [&](unsigned k) { return std::string("PatientName:") + "given" + std::to_string(k % 97); }},
        {"PatientName prefix*", [&](unsigned k) { return std::string("PatientName:") + kNames[k % 8][0] + kNames[k % 8][1] + "*"; }},
        {"free text word", [&](unsigned k) { return "hospital AND " + std::to_string(k % 20); }},
    };
    std::printf("%-28s %10s %10s %10s\n", "query (page of 100)", "p50 ms", "p95 ms", "avg total");
    for (const auto& kind : kinds) {
        std::vector<double> ms;
        double totals = 0;
        for (unsigned k = 0; k < perKind; ++k) {
            tessera::sdk::QueryRequest request;
            request.text = kind.text(k);
            request.query = tessera::core::parseQuery(request.text);
            request.fields = {"PatientName", "StudyDate", "Modality", "SOPInstanceUID"};
            request.limit = 100;
            const auto t0 = Clock::now();
            const auto response = provider.query(request);
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            totals += static_cast<double>(response.total);
        }
        std::printf("%-28s %10.3f %10.3f %10.0f\n", kind.name, percentile(ms, 0.5), percentile(ms, 0.95), totals / static_cast<double>(perKind));
    }
    provider.close();
    std::filesystem::remove_all(dir);
    return 0;
}
