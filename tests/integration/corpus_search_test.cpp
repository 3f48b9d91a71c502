// Index and search against the real sample corpus (../shared/dicom-samples) through the REST API
// of the real binary, checking every answer against MANIFEST.tsv. Expected sets are computed
// from the manifest in the test, never typed in.
//
// The corpus is indexed once per process (a shared, read-only fixture): ctest runs each
// TEST_CASE in its own process, so each pays one start-up and one indexing run (~1-2 s); run
// the binary directly and all share one. Tests that change the index (unindex) use their own
// server.
//
// What indexing `file:<samples>` must count (one task, one document per URI):
//   nIndexed = every `core` and `variant` file (the ts-variants/ files share UIDs with core
//              files but are other URIs, so they are separate documents; the dicomdir/ member
//              files are core instances) + the `malformed` files the DICOM reader still
//              accepts (tessera::test::malformedSampleOutcomes(), shared with the reader's unit test).
//   nErrors  = the malformed files the reader rejects + every file the manifest does not list
//              (README.md, MANIFEST.tsv, LICENSES/*: not DICOM).
//   nSkipped (when reported) = DICOMDIR + `non-storable` + the malformed files the reader skips
//              (no SOP Class/Instance UID).
// So searches answer with URIs of "indexed rows" (indexedRows()), and a UID query finds every
// encoding of an instance: the expected set is all indexed rows with that UID.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "tessera/test/manifest.hpp"
#include "server_process.hpp"

using tessera::test::HttpResult;
using tessera::test::Manifest;
using tessera::test::ManifestRow;
using tessera::test::parseArray;
using tessera::test::parseObject;
using tessera::test::RowPredicate;
using tessera::test::RowSet;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;

namespace fs = std::filesystem;

namespace {

using ReadOutcome = tessera::test::SampleReadOutcome;

const Manifest& manifest() {
    return Manifest::samples();
}

ReadOutcome expectedOutcome(const ManifestRow& row) {
    if (row.group() == "core" || row.group() == "variant") return ReadOutcome::Ok;
    if (row.group() == "malformed") return tessera::test::malformedSampleOutcomes().at(row.file());
    return ReadOutcome::Skipped;  // dicomdir, non-storable
}

/// The rows that become documents when the whole corpus is indexed.
const RowSet& indexedRows() {
    static const RowSet rows =
        Manifest::select(manifest().inGroups({"core", "variant", "malformed"}),
                         [](const auto& row) { return expectedOutcome(row) == ReadOutcome::Ok; });
    return rows;
}

std::vector<std::string> expectFiles(const RowPredicate& predicate) {
    return Manifest::files(Manifest::select(indexedRows(), predicate));
}

std::vector<std::string> expectFiles(const RowSet& from, const RowPredicate& predicate) {
    return Manifest::files(Manifest::select(from, predicate));
}

std::string samplesUri(const std::string& relative = {}) {
    auto path = Manifest::samplesDir().string();
    if (!relative.empty()) path += "/" + relative;
    return "file:" + path;
}

/// file:/…/dicom-samples/images/x.dcm -> images/x.dcm; anything else is returned marked, so a
/// comparison with manifest names fails visibly.
std::string fileOfUri(const std::string& uri) {
    std::string decoded;
    for (std::size_t i = 0; i < uri.size(); ++i) {
        if (uri[i] == '%' && i + 2 < uri.size()) {
            decoded.push_back(static_cast<char>(std::stoi(uri.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            decoded.push_back(uri[i]);
        }
    }
    std::string path = decoded.rfind("file://", 0) == 0 ? decoded.substr(7)
                       : decoded.rfind("file:", 0) == 0 ? decoded.substr(5)
                                                        : "";
    const auto root = Manifest::samplesDir().string() + "/";
    if (path.rfind(root, 0) != 0) return "<not a sample URI> " + uri;
    return path.substr(root.size());
}

std::string serverXml(const std::string& roots) {
    return "<config><plugins><plugin name=\"file\"><setting key=\"roots\">" + roots +
           "</setting></plugin></plugins></config>\n";
}

long longValue(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    REQUIRE(object->has(key));
    return object->get(key).convert<long>();
}

std::string stringOr(const Poco::JSON::Object::Ptr& object, const std::string& key, const std::string& fallback = {}) {
    if (!object || !object->has(key) || object->isNull(key)) return fallback;
    return object->get(key).convert<std::string>();
}

template <typename F>
void forEachObject(const Poco::JSON::Array::Ptr& array, F&& visit) {
    REQUIRE(array);
    for (std::size_t i = 0; i < array->size(); ++i) visit(array->getObject(static_cast<unsigned>(i)));
}

/// A server whose file storage serves the samples directory, in a temp data directory that is
/// removed afterwards.
class SamplesServer {
public:
    SamplesServer() : dataDir_(tessera::test::makeTempDir("tessera-corpus")) {
        {
            std::ofstream out(dataDir_ / "server.xml");
            out << serverXml(Manifest::samplesDir().string());
        }
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{}, dataDir_);
        token_ = server_->login();
    }
    ~SamplesServer() {
        server_.reset();
        std::error_code ignored;
        fs::remove_all(dataDir_, ignored);
    }
    SamplesServer(const SamplesServer&) = delete;
    SamplesServer& operator=(const SamplesServer&) = delete;

    const ServerProcess& process() const { return *server_; }
    const std::string& token() const { return token_; }

    HttpResult get(const std::string& pathAndQuery) const { return server_->request("GET", pathAndQuery, token_); }
    HttpResult post(const std::string& pathAndQuery, const std::string& form = {}) const {
        return server_->request("POST", pathAndQuery, token_, form);
    }

    /// Starts one index task for `uri`, polls GET /index/task until it completes, checks the
    /// progress seen on the way, and returns the finished task entry.
    Poco::JSON::Object::Ptr indexAndWait(const std::string& uri) const {
        auto started = post("/management/tasks/index?uri=" + urlEncode(uri));
        INFO(started.body);
        REQUIRE(started.status == 200);
        auto tasks = parseObject(started.body)->getArray("tasks");
        REQUIRE(tasks);
        REQUIRE(tasks->size() == 1);  // one task per URI, feeding every indexer
        const auto task = tasks->getObject(0);
        const auto uid = task->getValue<std::string>("uid");
        CHECK(task->getValue<std::string>("name").find(uri) != std::string::npos);

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        double lastProgress = -1;
        while (std::chrono::steady_clock::now() < deadline) {
            auto listed = get("/index/task");
            REQUIRE(listed.status == 200);
            auto body = parseObject(listed.body);
            Poco::JSON::Object::Ptr entry;
            forEachObject(body->getArray("results"), [&](const Poco::JSON::Object::Ptr& candidate) {
                if (candidate->getValue<std::string>("taskUid") == uid) entry = candidate;
            });
            REQUIRE(entry);
            const double progress = entry->get("taskProgress").convert<double>();
            CHECK(progress <= 1.0);
            if (progress >= 0) {
                CHECK(progress >= lastProgress);  // progress never goes back
                lastProgress = progress;
            }
            REQUIRE_FALSE(entry->has("canceled"));
            if (entry->has("complete") && entry->getValue<bool>("complete")) {
                CHECK(progress == Approx(1.0));
                CHECK(longValue(body, "count") >= 0);
                return entry;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("the index task did not complete within 120 s");
        return {};
    }

private:
    fs::path dataDir_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

/// The whole corpus indexed once per process; read-only for every test that uses it.
struct IndexedCorpus {
    SamplesServer server;
    Poco::JSON::Object::Ptr task;
    IndexedCorpus() : task(server.indexAndWait(samplesUri())) {}
};

IndexedCorpus& corpus() {
    static IndexedCorpus instance;
    return instance;
}

struct SearchAnswer {
    Poco::JSON::Object::Ptr body;
    long numResults = -1;
    std::vector<Poco::JSON::Object::Ptr> results;
    std::vector<std::string> files;  // sorted
    std::vector<std::string> filesInOrder;
};

SearchAnswer search(const std::string& query, const std::string& extra = {}) {
    auto response = corpus().server.get("/search?query=" + urlEncode(query) + extra);
    INFO("query: " << query << extra << "\nanswer: " << response.body.substr(0, 2000));
    REQUIRE(response.status == 200);
    CHECK(response.contentType.rfind("application/json", 0) == 0);
    SearchAnswer answer;
    answer.body = parseObject(response.body);
    answer.numResults = longValue(answer.body, "numResults");
    CHECK(answer.body->has("elapsedTime"));
    forEachObject(answer.body->getArray("results"), [&](const Poco::JSON::Object::Ptr& result) {
        answer.results.push_back(result);
        answer.filesInOrder.push_back(fileOfUri(result->getValue<std::string>("uri")));
    });
    answer.files = answer.filesInOrder;
    std::sort(answer.files.begin(), answer.files.end());
    return answer;
}

/// The query must answer exactly the indexed rows for which `predicate` holds.
void checkQuery(const std::string& query, const RowPredicate& predicate, bool mayBeEmpty = false) {
    const auto expected = expectFiles(predicate);
    INFO("query: " << query);
    if (!mayBeEmpty) REQUIRE_FALSE(expected.empty());  // a test that can only pass on nothing is no test
    const auto answer = search(query);
    CHECK(answer.numResults == static_cast<long>(expected.size()));
    CHECK(answer.files == expected);
}

bool hasWord(const std::string& value, const std::string& word) {
    const auto words = tessera::test::valueWords(value);
    return std::find(words.begin(), words.end(), word) != words.end();
}

bool iequals(const std::string& a, const std::string& b) {
    return tessera::test::asciiLower(a) == tessera::test::asciiLower(b);
}

/// A value matches a wildcard pattern when the whole value or one of its words does.
bool wildcardMatches(const std::string& value, const std::string& pattern) {
    const auto lowered = tessera::test::asciiLower(pattern);
    if (tessera::test::globMatch(lowered, tessera::test::asciiLower(value))) return true;
    for (const auto& word : tessera::test::valueWords(value))
        if (tessera::test::globMatch(lowered, word)) return true;
    return false;
}

RowPredicate dateIn(const std::string& low, bool lowInclusive, const std::string& high, bool highInclusive) {
    return [=](const ManifestRow& row) {
        const auto date = row.normalisedStudyDate();
        if (date.empty()) return false;
        if (!low.empty() && (lowInclusive ? date < low : date <= low)) return false;
        if (!high.empty() && (highInclusive ? date > high : date >= high)) return false;
        return true;
    };
}

// ---- DIM ---------------------------------------------------------------------------------------

using SeriesTree = std::map<std::string, std::vector<std::string>>;  // series UID -> sorted files
using StudyTree = std::map<std::string, SeriesTree>;                 // study UID -> series
using PatientTree = std::map<std::string, StudyTree>;                // patient key -> studies

PatientTree expectedTree(const RowSet& rows) {
    PatientTree tree;
    for (const auto* row : rows)
        tree[row->patientKey()][(*row)["StudyInstanceUID"]][(*row)["SeriesInstanceUID"]].push_back(row->file());
    for (auto& [patient, studies] : tree)
        for (auto& [study, series] : studies)
            for (auto& [uid, files] : series) std::sort(files.begin(), files.end());
    return tree;
}

std::string patientKeyOf(const Poco::JSON::Object::Ptr& patient) {
    const auto id = stringOr(patient, "id");
    return id.empty() ? stringOr(patient, "name") : id;
}

/// Reads a depth=image /searchDIM answer into a tree, checking the shape on the way: no patient,
/// study or series twice, nStudies right, every image's uri/filename/rawPath consistent, and the
/// series and study modality fields agreeing with the manifest.
PatientTree answeredTree(const Poco::JSON::Object::Ptr& body) {
    PatientTree tree;
    forEachObject(body->getArray("results"), [&](const Poco::JSON::Object::Ptr& patient) {
        const auto key = patientKeyOf(patient);
        INFO("patient " << key);
        CHECK(tree.count(key) == 0);
        auto& studies = tree[key];
        auto studyArray = patient->getArray("studies");
        REQUIRE(studyArray);
        CHECK(longValue(patient, "nStudies") == static_cast<long>(studyArray->size()));
        for (const char* field : {"name", "gender", "birthdate"}) CHECK(patient->has(field));
        forEachObject(studyArray, [&](const Poco::JSON::Object::Ptr& study) {
            const auto studyUid = stringOr(study, "studyInstanceUID");
            INFO("study " << studyUid);
            CHECK(studies.count(studyUid) == 0);
            auto& series = studies[studyUid];
            std::set<std::string> seriesModalities;
            forEachObject(study->getArray("series"), [&](const Poco::JSON::Object::Ptr& serie) {
                const auto seriesUid = stringOr(serie, "serieInstanceUID");
                CHECK(series.count(seriesUid) == 0);
                auto& files = series[seriesUid];
                CHECK(serie->get("serieNumber").isInteger());
                const auto modality = stringOr(serie, "serieModality");
                seriesModalities.insert(modality);
                forEachObject(serie->getArray("images"), [&](const Poco::JSON::Object::Ptr& image) {
                    const auto uri = image->getValue<std::string>("uri");
                    const auto file = fileOfUri(uri);
                    files.push_back(file);
                    CHECK(stringOr(image, "filename") == file.substr(file.rfind('/') + 1));
                    CHECK_FALSE(stringOr(image, "rawPath").empty());
                    if (!manifest().lists(file)) return;
                    const auto& row = manifest().byFile(file);
                    CHECK(stringOr(image, "sopInstanceUID") == row["SOPInstanceUID"]);
                    CHECK(modality == row["modality"]);
                    CHECK(serie->get("serieNumber").convert<long>() ==
                          (row["SeriesNumber"].empty() ? 0 : static_cast<long>(std::stod(row["SeriesNumber"]))));
                    if (image->has("number") && !row["InstanceNumber"].empty())
                        CHECK(image->get("number").convert<long>() == std::stol(row["InstanceNumber"]));
                });
                std::sort(files.begin(), files.end());
            });
            // "CT,MR": the set of the series' modalities (checked when none is empty, where
            // joining an empty name is a matter of taste).
            if (seriesModalities.count("") == 0) {
                std::set<std::string> listed;
                std::stringstream text(stringOr(study, "modalities"));
                for (std::string item; std::getline(text, item, ',');) listed.insert(item);
                CHECK(listed == seriesModalities);
            }
        });
    });
    return tree;
}

std::size_t countStudies(const PatientTree& tree) {
    std::size_t n = 0;
    for (const auto& [patient, studies] : tree) n += studies.size();
    return n;
}

std::size_t countSeries(const PatientTree& tree) {
    std::size_t n = 0;
    for (const auto& [patient, studies] : tree)
        for (const auto& [study, series] : studies) n += series.size();
    return n;
}

std::size_t countImages(const PatientTree& tree) {
    std::size_t n = 0;
    for (const auto& [patient, studies] : tree)
        for (const auto& [study, series] : studies)
            for (const auto& [uid, files] : series) n += files.size();
    return n;
}

Poco::JSON::Object::Ptr searchDim(const std::string& query, const std::string& extra = {}) {
    auto response = corpus().server.get("/searchDIM?query=" + urlEncode(query) + extra);
    INFO("query: " << query << extra << "\nanswer: " << response.body.substr(0, 2000));
    REQUIRE(response.status == 200);
    CHECK(response.contentType.rfind("application/json", 0) == 0);
    return parseObject(response.body);
}

// ---- CSV ---------------------------------------------------------------------------------------

std::vector<std::string> csvLines(const std::string& body) {
    std::vector<std::string> lines;
    std::stringstream text(body);
    for (std::string line; std::getline(text, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

std::string csvLine(const std::vector<std::string>& values) {
    std::string line;
    for (const auto& value : values) line += value.empty() ? ";" : "\"" + value + "\";";
    return line;
}

std::vector<std::string> expectedCsvRows(const RowSet& rows, const std::vector<std::string>& columns) {
    std::vector<std::string> lines;
    for (const auto* row : rows) {
        std::vector<std::string> values;
        for (const auto& column : columns) values.push_back((*row)[column]);
        lines.push_back(csvLine(values));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

/// Header line plus the sorted data lines of a CSV answer.
std::pair<std::string, std::vector<std::string>> splitCsv(const std::string& body) {
    auto lines = csvLines(body);
    REQUIRE_FALSE(lines.empty());
    const auto header = lines.front();
    lines.erase(lines.begin());
    std::sort(lines.begin(), lines.end());
    return {header, lines};
}

}  // namespace

TEST_CASE("the manifest parser reads the corpus as its README describes it", "[corpus][manifest]") {
    const auto& rows = manifest().rows();
    CHECK(rows.size() == 132);
    const auto core = manifest().inGroups({"core"});
    CHECK(core.size() == 100);
    CHECK(manifest().inGroups({"variant"}).size() == 20);
    CHECK(manifest().inGroups({"malformed"}).size() == 9);
    CHECK(manifest().inGroups({"non-storable"}).size() == 2);
    CHECK(manifest().inGroups({"dicomdir"}).size() == 1);
    CHECK(Manifest::distinct(core, "SOPInstanceUID").size() == 100);
    CHECK(Manifest::distinct(core, "StudyInstanceUID").size() == 45);
    CHECK(Manifest::distinct(core, "SeriesInstanceUID").size() == 53);
    CHECK(manifest().byFile("charsets/chrRuss_ISO_IR_144.dcm")["PatientName"] == "Люкceмбypг");
    CHECK_THROWS(manifest().byFile("no/such.dcm"));
    CHECK_THROWS(manifest().byFile("images/CT_small.dcm")["NoSuchColumn"]);
    for (const auto& [file, outcome] : tessera::test::malformedSampleOutcomes()) CHECK(manifest().byFile(file).group() == "malformed");

    const auto broken = tessera::test::makeTempDir("tessera-manifest");
    {
        std::ofstream out(broken / "MANIFEST.tsv");
        out << "file\tgroup\na.dcm\tcore\textra\n";
    }
    CHECK_THROWS_AS(Manifest(broken / "MANIFEST.tsv"), std::runtime_error);
    CHECK_THROWS_AS(Manifest(broken / "missing.tsv"), std::runtime_error);
    fs::remove_all(broken);

    CHECK(tessera::test::valueWords("Doe^Peter") == std::vector<std::string>{"doe", "peter"});
    CHECK(tessera::test::valueWords("Last Name^First Name") ==
          std::vector<std::string>{"last", "name", "first", "name"});
    CHECK(tessera::test::valueWords("1.2.840.10008") == std::vector<std::string>{"1.2.840.10008"});
    CHECK(tessera::test::globMatch("*strade", "lestrade"));
    CHECK(tessera::test::globMatch("1ct?", "1ct1"));
    CHECK_FALSE(tessera::test::globMatch("1ct?", "1ct12"));
    CHECK_FALSE(tessera::test::globMatch("doe*x", "doe^peter"));
}

TEST_CASE("indexing the corpus through REST counts indexed files and errors by manifest group", "[corpus][index]") {
    const auto& task = corpus().task;
    std::size_t notListed = 0;
    for (const auto& entry : fs::recursive_directory_iterator(Manifest::samplesDir())) {
        if (!entry.is_regular_file()) continue;
        if (!manifest().lists(fs::relative(entry.path(), Manifest::samplesDir()).string())) ++notListed;
    }
    REQUIRE(notListed > 0);  // README.md, MANIFEST.tsv and the licence texts

    std::size_t ok = 0, skipped = 0, errors = notListed;
    for (const auto& row : manifest().rows()) {
        switch (expectedOutcome(row)) {
            case ReadOutcome::Ok:
                ++ok;
                break;
            case ReadOutcome::Skipped:
                ++skipped;
                break;
            case ReadOutcome::Error:
                ++errors;
                break;
        }
    }
    CHECK(ok == indexedRows().size());
    CHECK(longValue(task, "nIndexed") == static_cast<long>(ok));
    CHECK(longValue(task, "nErrors") == static_cast<long>(errors));
    if (task->has("nSkipped")) CHECK(longValue(task, "nSkipped") == static_cast<long>(skipped));
    CHECK(longValue(task, "elapsedTime") >= 0);
    CHECK(task->getValue<std::string>("taskName").find(samplesUri()) != std::string::npos);
    // Finished tasks stay listed (until closed) and do not count as unfinished.
    auto listed = parseObject(corpus().server.get("/index/task").body);
    CHECK(longValue(listed, "count") == 0);

    // Every indexed file is one document: *:* answers each indexed row exactly once.
    const auto all = search("*:*");
    CHECK(all.numResults == static_cast<long>(indexedRows().size()));
    CHECK(all.files == Manifest::files(indexedRows()));
}

TEST_CASE("search by PatientName: words, full values with ^, wildcards and case", "[corpus][search]") {
    auto nameHasWord = [](const std::string& word) {
        return [word](const ManifestRow& row) { return hasWord(row["PatientName"], word); };
    };
    checkQuery("PatientName:doe", nameHasWord("doe"));
    checkQuery("PatientName:DOE", nameHasWord("doe"));
    checkQuery("PatientName:Archibald", nameHasWord("archibald"));
    checkQuery("PatientName:lestrade", nameHasWord("lestrade"));

    auto nameIs = [](const std::string& value) {
        return [value](const ManifestRow& row) { return iequals(row["PatientName"], value); };
    };
    checkQuery("PatientName:Doe^Peter", nameIs("Doe^Peter"));
    checkQuery("PatientName:\"Doe^Peter\"", nameIs("Doe^Peter"));
    checkQuery("PatientName:\"doe^peter\"", nameIs("Doe^Peter"));
    checkQuery("PatientName:Doe\\^Archibald", nameIs("Doe^Archibald"));
    checkQuery("PatientName:CompressedSamples^MR1", nameIs("CompressedSamples^MR1"));
    // Both words must be present, not either.
    checkQuery(
        "PatientName:Doe^Lestrade", [](const ManifestRow&) { return false; }, true);

    auto nameLike = [](const std::string& pattern) {
        return [pattern](const ManifestRow& row) { return wildcardMatches(row["PatientName"], pattern); };
    };
    checkQuery("PatientName:lestr*", nameLike("lestr*"));
    checkQuery("PatientName:Compressed*", nameLike("compressed*"));
    checkQuery("PatientName:*strade", nameLike("*strade"));
    checkQuery("PatientName:*CHIBALD", nameLike("*chibald"));
    checkQuery("PatientName:d?e", nameLike("d?e"));
    checkQuery("PatientName:*ampleS^C*", nameLike("*samples^c*"));

    // Field names are DICOM keywords and case-sensitive: "patientname" is another (absent) field.
    checkQuery(
        "patientname:doe", [](const ManifestRow&) { return false; }, true);
}

TEST_CASE("search by PatientID, Modality and StudyDate (exact, wildcard, closed and open ranges)", "[corpus][search]") {
    auto idIs = [](const std::string& id) {
        return [id](const ManifestRow& row) { return iequals(row["PatientID"], id); };
    };
    for (const char* id : {"77654033", "98890234", "123565", "ID1", "4MR1", "1CT1", "phantom1-sid1", "2008-3"})
        checkQuery(std::string("PatientID:") + id, idIs(id));
    checkQuery("PatientID:id1", idIs("ID1"));
    checkQuery("PatientID:*234", [](const ManifestRow& row) { return wildcardMatches(row["PatientID"], "*234"); });
    checkQuery("PatientID:1CT?", [](const ManifestRow& row) { return wildcardMatches(row["PatientID"], "1ct?"); });
    checkQuery(
        "PatientID:nobody-has-this", [](const ManifestRow&) { return false; }, true);

    auto modalityIs = [](const std::string& m) {
        return [m](const ManifestRow& row) { return iequals(row["modality"], m); };
    };
    for (const char* modality :
         {"CT", "MR", "OT", "CR", "NM", "SR", "SEG", "RTDOSE", "RTPLAN", "XA", "US", "ECG", "RTSTRUCT"})
        checkQuery(std::string("Modality:") + modality, modalityIs(modality));
    checkQuery("Modality:ct", modalityIs("CT"));
    checkQuery("Modality:RT*", [](const ManifestRow& row) { return row["modality"].rfind("RT", 0) == 0; });

    checkQuery("StudyDate:20010101", [](const ManifestRow& row) { return row.normalisedStudyDate() == "20010101"; });
    // Legacy dotted dates (1993.04.30) are dates too.
    checkQuery("StudyDate:19930430", [](const ManifestRow& row) { return row.normalisedStudyDate() == "19930430"; });
    checkQuery("StudyDate:[20010101 TO 20031231]", dateIn("20010101", true, "20031231", true));
    checkQuery("StudyDate:{20010101 TO 20030505}", dateIn("20010101", false, "20030505", false));
    checkQuery("StudyDate:[20010101 TO 20030505}", dateIn("20010101", true, "20030505", false));
    checkQuery("StudyDate:[* TO 19951231]", dateIn("", true, "19951231", true));
    checkQuery("StudyDate:[20100101 TO *]", dateIn("20100101", true, "", true));
    checkQuery("StudyDate:{20170101 TO *]", dateIn("20170101", false, "", true));
    checkQuery("StudyDate:1995*",
               [](const ManifestRow& row) { return row.normalisedStudyDate().rfind("1995", 0) == 0; });
    checkQuery(
        "StudyDate:[20300101 TO 20391231]", [](const ManifestRow&) { return false; }, true);
}

TEST_CASE("search by every SOP, series and study UID of the corpus finds every file holding it",
          "[corpus][search][uid]") {
    for (const char* kind : {"SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"}) {
        const auto uids = Manifest::distinct(indexedRows(), kind);
        REQUIRE(uids.size() > 10);
        for (const auto& uid : uids) {
            const std::string column = kind;
            checkQuery(column + ":" + uid, [&](const ManifestRow& row) { return row[column] == uid; });
        }
    }
    // Quoted, and one that shares its SOP Instance UID with its encodings in ts-variants/.
    const auto& mr = manifest().byFile("images/MR_small.dcm");
    const auto sop = mr["SOPInstanceUID"];
    const auto sameSop = expectFiles([&](const ManifestRow& row) { return row["SOPInstanceUID"] == sop; });
    CHECK(sameSop.size() > 5);
    checkQuery("SOPInstanceUID:\"" + sop + "\"", [&](const ManifestRow& row) { return row["SOPInstanceUID"] == sop; });
    // A UID is one token: a prefix of it is no match.
    checkQuery(
        "SOPInstanceUID:" + sop.substr(0, sop.rfind('.')), [](const ManifestRow&) { return false; }, true);
}

TEST_CASE("free text and AND/OR/NOT combinations", "[corpus][search]") {
    auto nameHasWord = [](const std::string& word) {
        return [word](const ManifestRow& row) { return hasWord(row["PatientName"], word); };
    };
    checkQuery("archibald", nameHasWord("archibald"));
    checkQuery("LESTRADE", nameHasWord("lestrade"));
    checkQuery("Люкceмбypг", [](const ManifestRow& row) { return row["PatientName"] == "Люкceмбypг"; });
    checkQuery("люкceмбypг", [](const ManifestRow& row) { return row["PatientName"] == "Люкceмбypг"; });
    checkQuery("JXD191021006", [](const ManifestRow& row) { return row["PatientID"] == "JXD191021006"; });
    {
        const auto expanded = search("archibald", "&expand=true");
        CHECK(expanded.files == expectFiles(nameHasWord("archibald")));
        const auto withKeyword = search("PatientID:77654033", "&keyword=true");  // accepted, ignored
        CHECK(withKeyword.files == expectFiles([](const ManifestRow& row) { return row["PatientID"] == "77654033"; }));
    }

    checkQuery("PatientID:77654033 AND Modality:CT",
               [](const ManifestRow& row) { return row["PatientID"] == "77654033" && row["modality"] == "CT"; });
    checkQuery("PatientID:ID1 OR PatientID:4MR1",
               [](const ManifestRow& row) { return row["PatientID"] == "ID1" || row["PatientID"] == "4MR1"; });
    checkQuery("PatientID:98890234 AND NOT Modality:MR",
               [](const ManifestRow& row) { return row["PatientID"] == "98890234" && row["modality"] != "MR"; });
    checkQuery("Modality:CR -PatientID:77654033",
               [](const ManifestRow& row) { return row["modality"] == "CR" && row["PatientID"] != "77654033"; });
    checkQuery("+Modality:MR +PatientID:123565",
               [](const ManifestRow& row) { return row["modality"] == "MR" && row["PatientID"] == "123565"; });
    checkQuery("(Modality:CT OR Modality:NM) AND StudyDate:[20040101 TO 20041231]", [](const ManifestRow& row) {
        return (row["modality"] == "CT" || row["modality"] == "NM") && dateIn("20040101", true, "20041231", true)(row);
    });
    checkQuery("PatientName:doe AND (StudyDate:19950903 OR Modality:MR)", [&](const ManifestRow& row) {
        return hasWord(row["PatientName"], "doe") &&
               (row.normalisedStudyDate() == "19950903" || row["modality"] == "MR");
    });
    checkQuery("NOT Modality:MR", [](const ManifestRow& row) { return row["modality"] != "MR"; });
    checkQuery("*:* AND NOT Modality:MR AND NOT Modality:OT",
               [](const ManifestRow& row) { return row["modality"] != "MR" && row["modality"] != "OT"; });
}

TEST_CASE("search returns the requested fields with the manifest's values, and pages correctly",
          "[corpus][search][paging]") {
    // Default fields: values as stored.
    const auto all = search("*:*");
    REQUIRE(all.results.size() == indexedRows().size());
    for (std::size_t i = 0; i < all.results.size(); ++i) {
        const auto fields = all.results[i]->getObject("fields");
        REQUIRE(fields);
        if (!manifest().lists(all.filesInOrder[i])) continue;  // reported by the set comparison
        const auto& row = manifest().byFile(all.filesInOrder[i]);
        INFO(row.file());
        for (const char* column :
             {"SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "PatientID", "PatientName", "StudyDate",
              "StudyDescription", "SeriesDescription", "SeriesNumber", "InstanceNumber"})
            CHECK(stringOr(fields, column) == row[column]);
        CHECK(stringOr(fields, "Modality") == row["modality"]);
    }

    // Chosen fields only.
    const auto chosen = search("PatientID:77654033", "&field=PatientName&field=StudyDate&field=AccessionNumber");
    REQUIRE(chosen.results.size() == 7);
    for (std::size_t i = 0; i < chosen.results.size(); ++i) {
        const auto fields = chosen.results[i]->getObject("fields");
        const auto& row = manifest().byFile(chosen.filesInOrder[i]);
        CHECK(stringOr(fields, "PatientName") == row["PatientName"]);
        CHECK(stringOr(fields, "StudyDate") == row["StudyDate"]);
        CHECK_FALSE(fields->has("SOPInstanceUID"));
        CHECK_FALSE(fields->has("Modality"));
    }

    // The named provider gives the same answer; an unknown one is refused.
    CHECK(search("PatientID:98890234", "&provider=xapian").files ==
          expectFiles([](const ManifestRow& row) { return row["PatientID"] == "98890234"; }));
    auto unknown = corpus().server.get("/search?query=" + urlEncode("*:*") + "&provider=nonexistent");
    CHECK(unknown.status == 400);
    CHECK(parseObject(unknown.body)->has("error"));

    // Paging: numResults is the total, pages are slices of one stable order, offset alone works.
    std::vector<std::string> paged;
    for (std::size_t offset = 0; offset < all.filesInOrder.size(); offset += 25) {
        const auto page = search("*:*", "&psize=25&offset=" + std::to_string(offset));
        CHECK(page.numResults == static_cast<long>(all.filesInOrder.size()));
        CHECK(page.filesInOrder.size() == std::min<std::size_t>(25, all.filesInOrder.size() - offset));
        paged.insert(paged.end(), page.filesInOrder.begin(), page.filesInOrder.end());
    }
    CHECK(paged == all.filesInOrder);
    const auto tail = search("*:*", "&offset=120");
    CHECK(tail.numResults == static_cast<long>(all.filesInOrder.size()));
    CHECK(tail.filesInOrder == std::vector<std::string>(all.filesInOrder.begin() + 120, all.filesInOrder.end()));
    const auto beyond = search("*:*", "&psize=10&offset=100000");
    CHECK(beyond.numResults == static_cast<long>(all.filesInOrder.size()));
    CHECK(beyond.results.empty());
    const auto none = search("*:*", "&psize=0");
    CHECK(none.numResults == static_cast<long>(all.filesInOrder.size()));
    CHECK(none.results.empty());
}

TEST_CASE("bad search input is a 400 with an error, never a crash", "[corpus][search][errors]") {
    auto& server = corpus().server;
    for (const char* query : {"PatientName:(doe", "StudyDate:[2001 TO", "PatientName:doe~2", "AND", "\"unclosed"}) {
        INFO(query);
        auto response = server.get("/search?query=" + urlEncode(query));
        CHECK(response.status == 400);
        auto body = parseObject(response.body);
        CHECK(body->has("error"));
        CHECK(body->getArray("results")->size() == 0);
    }
    CHECK(server.get("/search").status == 400);
    CHECK(server.get("/search?query=").status == 400);
    CHECK(server.get("/search?query=*:*&psize=-1").status == 400);
    CHECK(server.get("/search?query=*:*&offset=abc").status == 400);
    CHECK(server.get("/search?query=*:*&depth=image").status == 400);
    CHECK(server.get("/searchDIM?query=*:*&depth=galaxy").status == 400);
    CHECK(server.process().request("GET", "/search?query=" + urlEncode("*:*")).status == 401);
    CHECK(server.get("/health").status == 200);
}

TEST_CASE("searchDIM groups patients, studies, series and images as the manifest does", "[corpus][dim]") {
    struct Case {
        std::string query;
        RowPredicate predicate;
    };
    const std::vector<Case> cases = {
        {"PatientID:98890234", [](const ManifestRow& row) { return row["PatientID"] == "98890234"; }},
        {"PatientName:doe", [](const ManifestRow& row) { return hasWord(row["PatientName"], "doe"); }},
        {"Modality:MR", [](const ManifestRow& row) { return row["modality"] == "MR"; }},
        {"StudyDate:[20010101 TO 20031231]", dateIn("20010101", true, "20031231", true)},
        {"*:*", [](const ManifestRow&) { return true; }},
    };
    for (const auto& [query, predicate] : cases) {
        INFO("query: " << query);
        const auto expected = expectedTree(Manifest::select(indexedRows(), predicate));
        const auto body = searchDim(query);
        const auto answered = answeredTree(body);
        CHECK(longValue(body, "numResults") == static_cast<long>(expected.size()));
        CHECK(answered.size() == expected.size());
        CHECK(countStudies(answered) == countStudies(expected));
        CHECK(countSeries(answered) == countSeries(expected));
        CHECK(countImages(answered) == countImages(expected));
        CHECK(answered == expected);
    }

    // The README's facts, as a cross-check of the manifest-computed grouping.
    const auto peter =
        expectedTree(Manifest::select(indexedRows(), [](const auto& row) { return row["PatientID"] == "98890234"; }));
    CHECK(countStudies(peter) == 4);
    CHECK(countSeries(peter) == 9);
    CHECK(countImages(peter) == 24);
    const auto body = searchDim("PatientID:98890234");
    const auto patient = body->getArray("results")->getObject(0);
    CHECK(stringOr(patient, "id") == "98890234");
    CHECK(stringOr(patient, "name") == "Doe^Peter");
    CHECK(longValue(patient, "nStudies") == 4);
}

TEST_CASE("searchDIM depth cuts the tree, and paging counts patients", "[corpus][dim][paging]") {
    const std::string query = "PatientName:doe";
    const auto expected = expectedTree(
        Manifest::select(indexedRows(), [](const auto& row) { return hasWord(row["PatientName"], "doe"); }));
    REQUIRE(expected.size() == 2);

    const auto none = searchDim(query, "&depth=none");
    CHECK(longValue(none, "numResults") == 2);
    CHECK_FALSE(none->has("results"));

    const auto patients = searchDim(query, "&depth=PATIENT");  // case-insensitive
    forEachObject(patients->getArray("results"), [&](const Poco::JSON::Object::Ptr& patient) {
        CHECK(expected.count(patientKeyOf(patient)) == 1);
        CHECK_FALSE(patient->has("studies"));
    });
    CHECK(patients->getArray("results")->size() == 2);

    const auto studies = searchDim(query, "&depth=study");
    std::size_t studyCount = 0;
    forEachObject(studies->getArray("results"), [&](const Poco::JSON::Object::Ptr& patient) {
        forEachObject(patient->getArray("studies"), [&](const Poco::JSON::Object::Ptr& study) {
            ++studyCount;
            CHECK(expected.at(patientKeyOf(patient)).count(stringOr(study, "studyInstanceUID")) == 1);
            CHECK_FALSE(study->has("series"));
        });
    });
    CHECK(studyCount == countStudies(expected));

    const auto series = searchDim(query, "&depth=series");
    std::size_t seriesCount = 0;
    forEachObject(series->getArray("results"), [&](const Poco::JSON::Object::Ptr& patient) {
        forEachObject(patient->getArray("studies"), [&](const Poco::JSON::Object::Ptr& study) {
            forEachObject(study->getArray("series"), [&](const Poco::JSON::Object::Ptr& serie) {
                ++seriesCount;
                CHECK_FALSE(serie->has("images"));
            });
        });
    });
    CHECK(seriesCount == countSeries(expected));

    CHECK(answeredTree(searchDim(query, "&depth=image")) == expected);
    CHECK(answeredTree(searchDim(query)) == expected);  // image is the default

    // Paging on patients over the whole corpus: pages are slices of one order of patients.
    const auto whole = searchDim("*:*", "&depth=patient");
    std::vector<std::string> order;
    forEachObject(whole->getArray("results"),
                  [&](const Poco::JSON::Object::Ptr& p) { order.push_back(patientKeyOf(p)); });
    const auto expectedPatients = expectedTree(indexedRows()).size();
    CHECK(order.size() == expectedPatients);
    CHECK(longValue(whole, "numResults") == static_cast<long>(expectedPatients));
    std::vector<std::string> paged;
    for (std::size_t offset = 0; offset < order.size(); offset += 4) {
        const auto page = searchDim("*:*", "&depth=patient&psize=4&offset=" + std::to_string(offset));
        CHECK(longValue(page, "numResults") == static_cast<long>(expectedPatients));
        const auto results = page->getArray("results");
        CHECK(results->size() == std::min<std::size_t>(4, order.size() - offset));
        forEachObject(results, [&](const Poco::JSON::Object::Ptr& p) { paged.push_back(patientKeyOf(p)); });
    }
    CHECK(paged == order);
    // A page of patients carries all of their studies, not a slice of the images.
    const auto pageTree = answeredTree(searchDim("PatientName:doe", "&psize=1&offset=1"));
    REQUIRE(pageTree.size() == 1);
    CHECK(pageTree.begin()->second == expected.at(pageTree.begin()->first));
}

TEST_CASE("dump returns every attribute with the manifest's values, non-Latin names included", "[corpus][dump]") {
    auto& server = corpus().server;
    // column -> attribute keyword: the shared identity columns, then the image description ones.
    auto columns = tessera::test::manifestAttributeColumns();
    columns.insert(columns.end(), {{"sop_class_uid", "SOPClassUID"},
                                   {"specific_character_set", "SpecificCharacterSet"},
                                   {"rows", "Rows"},
                                   {"columns", "Columns"},
                                   {"bits_allocated", "BitsAllocated"},
                                   {"bits_stored", "BitsStored"},
                                   {"samples_per_pixel", "SamplesPerPixel"},
                                   {"photometric_interpretation", "PhotometricInterpretation"}});
    std::map<std::string, std::string> dumpedNames;  // file -> PatientName
    for (const auto& sop : Manifest::distinct(indexedRows(), "SOPInstanceUID")) {
        auto response = server.get("/dump?uid=" + urlEncode(sop));
        INFO("uid " << sop << "\n" << response.body.substr(0, 1500));
        REQUIRE(response.status == 200);
        const auto body = parseObject(response.body);
        CHECK(body->has("elapsedTime"));
        const auto results = body->getObject("results");  // an object, not an array
        REQUIRE(results);
        const auto file = fileOfUri(stringOr(results, "uri"));
        const auto family = expectFiles([&](const ManifestRow& row) { return row["SOPInstanceUID"] == sop; });
        REQUIRE(std::find(family.begin(), family.end(), file) != family.end());
        const auto& row = manifest().byFile(file);
        const auto fields = results->getObject("fields");
        REQUIRE(fields);
        CHECK(fields->size() > columns.size() / 2);  // every attribute, not the default list
        for (const auto& [column, keyword] : columns) {
            INFO(file << " " << keyword);
            CHECK(stringOr(fields, keyword) == row[column]);
        }
        dumpedNames[file] = stringOr(fields, "PatientName");
    }
    // Names in non-Latin character sets, spelled out here as well as in the manifest.
    const std::map<std::string, std::string> names = {
        {"charsets/chrFren_ISO_IR_100.dcm", "Buc^Jérôme"},
        {"charsets/chrRuss_ISO_IR_144.dcm", "Люкceмбypг"},
        {"charsets/chrHbrw_ISO_IR_138.dcm", "שרון^דבורה"},
        {"charsets/chrX1_ISO_IR_192.dcm", "Wang^XiaoDong=王^小東="},
        {"charsets/chrX2_GB18030.dcm", "Wang^XiaoDong=王^小东="},
        {"charsets/chrH31_ISO2022_IR87.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
        {"charsets/chrI2_ISO2022_IR149.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},
        {"charsets/CR_chrKoreanMulti.dcm", "김희중"},
    };
    for (const auto& [file, name] : names) {
        INFO(file);
        REQUIRE(dumpedNames.count(file) == 1);
        CHECK(dumpedNames.at(file) == name);
    }
    // The dump has attributes beyond the manifest's columns (here the SR content tree).
    const auto& sr = manifest().byFile("non-image/SR_comprehensive.dcm");
    const auto srDump = parseObject(server.get("/dump?uid=" + urlEncode(sr["SOPInstanceUID"])).body);
    CHECK(srDump->getObject("results")->getObject("fields")->has("ContentSequence_RelationshipType"));

    // An unknown UID: Dicoogle's empty shape; no uid: 400.
    const auto missing = server.get("/dump?uid=1.2.3.4.5.6.7.8.9.0");
    REQUIRE(missing.status == 200);
    CHECK(parseObject(missing.body)->getObject("results")->getObject("fields")->size() == 0);
    CHECK(server.get("/dump").status == 400);
}

TEST_CASE("CSV export: /export/cvs, /export and POST /exportFile then GET /exportFile?UID=", "[corpus][export]") {
    auto& server = corpus().server;
    const std::vector<std::string> columns = {"SOPInstanceUID", "PatientName", "StudyDate", "AccessionNumber"};
    std::string fieldParams;
    for (const auto& c : columns) fieldParams += "&fields=" + c;
    const auto archibald =
        Manifest::select(indexedRows(), [](const auto& row) { return row["PatientID"] == "77654033"; });
    const auto expectedRows = expectedCsvRows(archibald, columns);
    const auto expectedHeader = "\"SOPInstanceUID\";\"PatientName\";\"StudyDate\";\"AccessionNumber\";";

    auto checkCsv = [&](const HttpResult& response, const std::vector<std::string>& rows) {
        INFO(response.body.substr(0, 1500));
        REQUIRE(response.status == 200);
        const auto [header, lines] = splitCsv(response.body);
        CHECK(header == expectedHeader);
        CHECK(lines == rows);
    };

    auto cvs = server.get("/export/cvs?query=" + urlEncode("PatientID:77654033") + fieldParams + "&keyword=true");
    checkCsv(cvs, expectedRows);
    CHECK(cvs.headers["content-disposition"].find("attachment") != std::string::npos);
    // Without keyword=true /export/cvs expands free text (Dicoogle's default there).
    checkCsv(server.get("/export/cvs?query=archibald" + fieldParams), expectedRows);
    checkCsv(server.get("/export?query=" + urlEncode("PatientID:77654033") + fieldParams), expectedRows);

    // Empty values are bare ';': the 20-slice series has no PatientName and no AccessionNumber.
    const auto series = Manifest::select(indexedRows(), [](const auto& row) { return row["PatientID"] == "123565"; });
    checkCsv(server.get("/export/cvs?query=" + urlEncode("PatientID:123565") + fieldParams + "&keyword=true"),
             expectedCsvRows(series, columns));

    // The web app's and dicoogle-client's way: POST, then download by UID.
    const auto fieldsJson = "[\"SOPInstanceUID\",\"PatientName\",\"StudyDate\",\"AccessionNumber\"]";
    auto issued =
        server.post("/exportFile?query=" + urlEncode("PatientID:77654033") + "&fields=" + urlEncode(fieldsJson));
    INFO(issued.body);
    REQUIRE(issued.status == 200);
    const auto uid = parseObject(issued.body)->getValue<std::string>("uid");
    REQUIRE_FALSE(uid.empty());
    const auto download = server.get("/exportFile?UID=" + urlEncode(uid));
    CHECK(download.contentType.rfind("application/csv", 0) == 0);
    checkCsv(download, expectedRows);
    // The same through a form body.
    auto issuedForm =
        server.post("/exportFile", "query=" + urlEncode("PatientID:123565") + "&fields=" + urlEncode(fieldsJson));
    REQUIRE(issuedForm.status == 200);
    checkCsv(server.get("/exportFile?UID=" + urlEncode(parseObject(issuedForm.body)->getValue<std::string>("uid"))),
             expectedCsvRows(series, columns));

    CHECK(server.get("/exportFile?UID=not-a-uuid").status == 400);
    CHECK(server.get("/exportFile?UID=0f8fad5b-d9cb-469f-a165-70867728950e").status == 404);
    CHECK(server.process().request("GET", "/exportFile?UID=" + urlEncode(uid)).status == 401);

    // The attribute list for export forms.
    const auto list = server.get("/export/list");
    REQUIRE(list.status == 200);
    std::set<std::string> keywords;
    const auto array = parseArray(list.body);
    for (std::size_t i = 0; i < array->size(); ++i)
        keywords.insert(array->getElement<std::string>(static_cast<unsigned>(i)));
    for (const char* keyword : {"PatientName", "PatientID", "StudyInstanceUID", "Modality", "StudyDate"})
        CHECK(keywords.count(keyword) == 1);
}

TEST_CASE("providers lists the xapian index and query provider and the file storage", "[corpus][providers]") {
    auto names = [](const std::string& query) {
        auto response = corpus().server.get("/providers" + query);
        REQUIRE(response.status == 200);
        std::set<std::string> result;
        const auto array = parseArray(response.body);
        for (std::size_t i = 0; i < array->size(); ++i)
            result.insert(array->getElement<std::string>(static_cast<unsigned>(i)));
        return result;
    };
    CHECK(names("").count("xapian") == 1);
    CHECK(names("?type=query").count("xapian") == 1);
    CHECK(names("?type=index").count("xapian") == 1);
    CHECK(names("?type=storage").count("file") == 1);
    CHECK(names("?type=storage").count("xapian") == 0);
}

TEST_CASE("unindex by StudyInstanceUID and by SeriesInstanceUID, then search again", "[corpus][unindex]") {
    // A server of its own: this test changes its index.
    SamplesServer server;
    const auto members = Manifest::select(manifest().inGroups({"core"}),
                                          [](const auto& row) { return row.file().rfind("dicomdir/", 0) == 0; });
    REQUIRE(members.size() == 31);
    const auto task = server.indexAndWait(samplesUri("dicomdir"));
    CHECK(longValue(task, "nIndexed") == 31);
    CHECK(longValue(task, "nErrors") == 0);
    if (task->has("nSkipped")) CHECK(longValue(task, "nSkipped") == 1);  // the DICOMDIR itself

    auto searchFiles = [&](const std::string& query) {
        auto response = server.get("/search?query=" + urlEncode(query) + "&field=SOPInstanceUID");
        REQUIRE(response.status == 200);
        const auto body = parseObject(response.body);
        std::vector<std::string> files;
        forEachObject(body->getArray("results"), [&](const Poco::JSON::Object::Ptr& r) {
            files.push_back(fileOfUri(r->getValue<std::string>("uri")));
        });
        std::sort(files.begin(), files.end());
        CHECK(longValue(body, "numResults") == static_cast<long>(files.size()));
        return files;
    };
    CHECK(searchFiles("*:*") == Manifest::files(members));

    // Doe^Peter's MR study of 20030505.
    const auto study = manifest().byFile("dicomdir/98892003/MR1/15820")["StudyInstanceUID"];
    const auto inStudy = Manifest::select(members, [&](const auto& row) { return row["StudyInstanceUID"] == study; });
    REQUIRE(inStudy.size() > 1);
    auto removed = server.post("/management/tasks/unindex?StudyInstanceUID=" + urlEncode(study));
    INFO(removed.body);
    REQUIRE(removed.status == 200);
    auto counts = parseObject(removed.body);
    CHECK(longValue(counts, "indexed") == static_cast<long>(inStudy.size()));
    CHECK(longValue(counts, "failed") == 0);
    CHECK(longValue(counts, "notFound") == 0);

    auto remaining = Manifest::select(members, [&](const auto& row) { return row["StudyInstanceUID"] != study; });
    CHECK(searchFiles("StudyInstanceUID:" + study).empty());
    CHECK(searchFiles("PatientID:98890234") ==
          expectFiles(remaining, [](const ManifestRow& row) { return row["PatientID"] == "98890234"; }));
    CHECK(searchFiles("*:*") == Manifest::files(remaining));
    auto dim = parseObject(server.get("/searchDIM?query=" + urlEncode("PatientID:98890234") + "&depth=study").body);
    CHECK(longValue(dim->getArray("results")->getObject(0), "nStudies") == 3);

    // Two series of Doe^Archibald in one form body.
    const auto ct = manifest().byFile("dicomdir/77654033/CT2/17106")["SeriesInstanceUID"];
    const auto cr = manifest().byFile("dicomdir/77654033/CR1/6154")["SeriesInstanceUID"];
    const auto inSeries = Manifest::select(
        remaining, [&](const auto& row) { return row["SeriesInstanceUID"] == ct || row["SeriesInstanceUID"] == cr; });
    REQUIRE(inSeries.size() > 2);
    auto bySeries = server.post("/management/tasks/unindex",
                                "SeriesInstanceUID=" + urlEncode(ct) + "&SeriesInstanceUID=" + urlEncode(cr));
    INFO(bySeries.body);
    REQUIRE(bySeries.status == 200);
    CHECK(longValue(parseObject(bySeries.body), "indexed") == static_cast<long>(inSeries.size()));
    remaining = Manifest::select(
        remaining, [&](const auto& row) { return row["SeriesInstanceUID"] != ct && row["SeriesInstanceUID"] != cr; });
    CHECK(searchFiles("*:*") == Manifest::files(remaining));

    // Unindexing it again finds nothing to remove: the UID matched nothing; bad input is refused.
    auto again = server.post("/management/tasks/unindex?StudyInstanceUID=" + urlEncode(study));
    REQUIRE(again.status == 200);
    CHECK(longValue(parseObject(again.body), "indexed") == 0);
    CHECK(longValue(parseObject(again.body), "notFound") == 1);
    CHECK(server.post("/management/tasks/unindex?StudyInstanceUID=not-a-uid").status == 400);
    CHECK(server.post("/management/tasks/unindex").status == 400);
    CHECK(server
              .post("/management/tasks/unindex?StudyInstanceUID=" + urlEncode(study) +
                    "&SeriesInstanceUID=" + urlEncode(ct))
              .status == 400);
    CHECK(searchFiles("*:*") == Manifest::files(remaining));

    // The finished index task is closed and gone from the list.
    auto closed = server.post("/index/task?uid=" + urlEncode(task->getValue<std::string>("taskUid")) +
                              "&type=close&action=delete");
    REQUIRE(closed.status == 200);
    CHECK(parseObject(closed.body)->getValue<bool>("removed"));
    auto listed = parseObject(server.get("/index/task").body);
    CHECK(listed->getArray("results")->size() == 0);
}
