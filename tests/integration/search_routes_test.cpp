// /search, /searchDIM, /dump and the export routes through the real tessera-server binary.
// The data directory is prepared with a real xapian index of sample files (written with the
// xapian plugin's own library before the server starts, since indexing over REST is another
// route's business); the server's xapian plugin then answers from it. These tests check
// parameter validation and response shapes; the full corpus checks live elsewhere.
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/plugins/xapian/xapian_provider.hpp"

using tessera::test::parseArray;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;

namespace {

namespace fs = std::filesystem;

fs::path samples() {
    return fs::weakly_canonical(fs::path(TESSERA_SAMPLES_DIR));
}
std::string uriOf(const std::string& relative) {
    return "file:" + (samples() / relative).string();
}

// Patients: 1CT1, 4MR1, 8NM1 (2 images), "" (no ID or name), 123565 (5 images of one series).
const std::vector<std::string> kCorpus = {
    "images/CT_small.dcm",        "images/MR_small.dcm",     "images/NM_JPGExtended.dcm", "images/NM_JPEG2000.dcm",
    "images/SC_rgb_implicit.dcm", "series/MR_brain_001.dcm", "series/MR_brain_002.dcm",   "series/MR_brain_003.dcm",
    "series/MR_brain_004.dcm",    "series/MR_brain_005.dcm"};
const std::string kCtSop = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";

// A data directory whose xapian index holds kCorpus; removed with everything in it.
class IndexedDataDir {
public:
    IndexedDataDir() : path_(tessera::test::makeTempDir("tessera-search-it")) {
        tessera::plugins::xapian::XapianProvider provider;
        // One shard: results (and /searchDIM's patients) in insertion order, which the checks name.
        provider.open(path_ / "plugin-data" / "xapian" / "index", {}, 1);
        std::vector<std::unique_ptr<tessera::sdk::DicomObjectView>> views;
        std::vector<tessera::sdk::IndexItem> items;
        for (const auto& file : kCorpus) {
            auto read = tessera::core::readDicomFile(samples() / file);
            REQUIRE(read.status == tessera::core::DicomReadStatus::Ok);
            items.push_back({tessera::sdk::Uri::parse(uriOf(file)), read.object.get()});
            views.push_back(std::move(read.object));
        }
        REQUIRE(provider.index(items).indexed == kCorpus.size());
        provider.close();
    }
    ~IndexedDataDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
        fs::remove(path_.parent_path() / (path_.filename().string() + ".stderr"), ec);
    }
    IndexedDataDir(const IndexedDataDir&) = delete;
    IndexedDataDir& operator=(const IndexedDataDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

struct Fixture {
    IndexedDataDir data;
    ServerProcess server{{}, data.path()};
    std::string token = server.login();

    tessera::test::HttpResult get(const std::string& pathAndQuery) const {
        return server.request("GET", pathAndQuery, token);
    }
};

void checkSearchError(const tessera::test::HttpResult& response, int status, const std::string& message) {
    INFO(response.body);
    CHECK(response.status == status);
    CHECK(response.contentType.rfind("application/json", 0) == 0);
    const auto body = parseObject(response.body);
    REQUIRE(body->has("results"));
    CHECK(body->getArray("results")->size() == 0);
    CHECK(body->getValue<std::string>("error") == message);
}

std::vector<std::string> resultUris(const Poco::JSON::Object::Ptr& body) {
    std::vector<std::string> out;
    const auto results = body->getArray("results");
    for (std::size_t i = 0; i < results->size(); ++i)
        out.push_back(results->getObject(static_cast<unsigned>(i))->getValue<std::string>("uri"));
    return out;
}

}  // namespace

TEST_CASE("/search validates its parameters with Dicoogle's messages", "[search]") {
    Fixture f;
    checkSearchError(f.get("/search"), 400, "No query supplied!");
    checkSearchError(f.get("/search?query="), 400, "No query supplied!");
    checkSearchError(f.get("/search?query=%20%20"), 400, "No query supplied!");
    checkSearchError(f.get("/search?query=*:*&depth=image"), 400,
                     "Parameter depth is only applicable to /searchDIM endpoint");
    for (const char* bad : {"-1", "abc", "", "1.5", "99999999999999999999999"})
        checkSearchError(f.get("/search?query=*:*&psize=" + urlEncode(bad)), 400,
                         "Invalid parameter psize: must be a non-negative integer");
    checkSearchError(f.get("/search?query=*:*&offset=x"), 400,
                     "Invalid parameter offset: must be a non-negative integer");
    checkSearchError(f.get("/search?query=*:*&provider=lucene"), 400, "lucene is not a valid query provider");

    const auto syntax = f.get("/search?query=" + urlEncode("PatientID:(1CT1"));
    CHECK(syntax.status == 400);
    const auto body = parseObject(syntax.body);
    CHECK(body->getArray("results")->size() == 0);
    CHECK(body->getValue<std::string>("error").find("position") != std::string::npos);

    CHECK(f.server.request("GET", "/search?query=*:*").status == 401);
}

TEST_CASE("/search answers {results, elapsedTime, numResults} and pages the results", "[search]") {
    Fixture f;
    auto response = f.get("/search?query=" + urlEncode("PatientID:1CT1") + "&keyword=true&provider=XAPIAN");
    REQUIRE(response.status == 200);
    CHECK(response.contentType.rfind("application/json", 0) == 0);
    auto body = parseObject(response.body);
    CHECK(body->getValue<int>("numResults") == 1);
    CHECK(body->getValue<long>("elapsedTime") >= 0);
    auto result = body->getArray("results")->getObject(0);
    CHECK(result->getValue<std::string>("uri") == uriOf("images/CT_small.dcm"));
    auto fields = result->getObject("fields");
    CHECK(fields->getValue<std::string>("SOPInstanceUID") == kCtSop);
    CHECK(fields->getValue<std::string>("PatientName") == "CompressedSamples^CT1");
    CHECK(fields->getValue<std::string>("Modality") == "CT");
    for (const char* defaultField : {"StudyInstanceUID", "SeriesInstanceUID", "PatientID", "PatientSex", "StudyDate",
                                     "StudyDescription", "SeriesNumber", "InstanceNumber"})
        CHECK(fields->has(defaultField));
    CHECK_FALSE(fields->has("uri"));
    CHECK_FALSE(fields->has("PatientBirthDate"));

    // Fields of choice only.
    body = parseObject(f.get("/search?query=" + urlEncode("PatientID:1CT1") + "&field=Modality&field=PatientID").body);
    fields = body->getArray("results")->getObject(0)->getObject("fields");
    CHECK(fields->size() == 2);
    CHECK(fields->getValue<std::string>("PatientID") == "1CT1");

    // Paging: numResults is the total, results the page; offset without psize works.
    const auto all = parseObject(f.get("/search?query=*:*&field=SOPInstanceUID").body);
    CHECK(all->getValue<std::size_t>("numResults") == kCorpus.size());
    const auto everything = resultUris(all);
    REQUIRE(everything.size() == kCorpus.size());
    const auto page = parseObject(f.get("/search?query=*:*&psize=2&offset=3").body);
    CHECK(page->getValue<std::size_t>("numResults") == kCorpus.size());
    CHECK(resultUris(page) == std::vector<std::string>(everything.begin() + 3, everything.begin() + 5));
    const auto tail = parseObject(f.get("/search?query=*:*&offset=8").body);
    CHECK(resultUris(tail) == std::vector<std::string>(everything.begin() + 8, everything.end()));
    CHECK(parseObject(f.get("/search?query=*:*&offset=100").body)->getArray("results")->size() == 0);
    CHECK(parseObject(f.get("/search?query=*:*&psize=0").body)->getValue<std::size_t>("numResults") == kCorpus.size());
}

TEST_CASE("/search expand turns the text into required free-text words", "[search]") {
    Fixture f;
    CHECK(parseObject(f.get("/search?query=compressedsamples&expand").body)->getValue<int>("numResults") == 4);
    CHECK(parseObject(f.get("/search?query=" + urlEncode("CompressedSamples^MR1") + "&expand=true").body)
              ->getValue<int>("numResults") == 1);
    // Expanded text is not query syntax: no syntax error, just no match.
    const auto expanded = f.get("/search?query=" + urlEncode("PatientID:(x") + "&expand=TRUE");
    CHECK(expanded.status == 200);
    CHECK(parseObject(expanded.body)->getValue<int>("numResults") == 0);
    CHECK(f.get("/search?query=" + urlEncode("PatientID:(x") + "&expand=false").status == 400);
}

TEST_CASE("/searchDIM groups patients, pages on them and cuts at the depth asked", "[search]") {
    Fixture f;
    auto response = f.get("/searchDIM?query=*:*&keyword=true");
    REQUIRE(response.status == 200);
    CHECK(response.contentType.rfind("application/json", 0) == 0);
    auto body = parseObject(response.body);
    CHECK(body->getValue<int>("numResults") == 5);
    CHECK(body->has("elapsedTime"));
    auto patients = body->getArray("results");
    REQUIRE(patients->size() == 5);
    auto ct = patients->getObject(0);
    CHECK(ct->getValue<std::string>("id") == "1CT1");
    CHECK(ct->getValue<std::string>("name") == "CompressedSamples^CT1");
    CHECK(ct->has("gender"));
    CHECK(ct->has("birthdate"));
    CHECK(ct->getValue<int>("nStudies") == 1);
    auto study = ct->getArray("studies")->getObject(0);
    CHECK(study->getValue<std::string>("studyInstanceUID") == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322");
    CHECK(study->getValue<std::string>("studyDate") == "20040119");
    CHECK(study->getValue<std::string>("modalities") == "CT");
    for (const char* key : {"studyDescription", "institutionName"}) CHECK(study->has(key));
    auto series = study->getArray("series")->getObject(0);
    CHECK(series->get("serieNumber").isInteger());
    CHECK(series->getValue<std::string>("serieModality") == "CT");
    for (const char* key : {"serieInstanceUID", "serieDescription"}) CHECK(series->has(key));
    auto image = series->getArray("images")->getObject(0);
    CHECK(image->getValue<std::string>("sopInstanceUID") == kCtSop);
    CHECK(image->getValue<std::string>("uri") == uriOf("images/CT_small.dcm"));
    CHECK(image->getValue<std::string>("rawPath") == (samples() / "images/CT_small.dcm").string());
    CHECK(image->getValue<std::string>("filename") == "CT_small.dcm");
    CHECK(image->getValue<int>("number") == 1);

    auto brain = patients->getObject(4);
    CHECK(brain->getValue<std::string>("id") == "123565");
    auto brainImages = brain->getArray("studies")->getObject(0)->getArray("series")->getObject(0)->getArray("images");
    CHECK(brainImages->size() == 5);

    // Paging counts patients.
    body = parseObject(f.get("/searchDIM?query=*:*&psize=2&offset=1").body);
    CHECK(body->getValue<int>("numResults") == 5);
    patients = body->getArray("results");
    REQUIRE(patients->size() == 2);
    CHECK(patients->getObject(0)->getValue<std::string>("id") == "4MR1");
    CHECK(patients->getObject(1)->getValue<std::string>("id") == "8NM1");

    // Depth cut-offs.
    body = parseObject(f.get("/searchDIM?query=*:*&depth=none").body);
    CHECK(body->getValue<int>("numResults") == 5);
    CHECK_FALSE(body->has("results"));
    auto patient = parseObject(f.get("/searchDIM?query=*:*&depth=PATIENT").body)->getArray("results")->getObject(0);
    CHECK(patient->getValue<int>("nStudies") == 1);
    CHECK_FALSE(patient->has("studies"));
    study = parseObject(f.get("/searchDIM?query=*:*&depth=Study").body)
                ->getArray("results")
                ->getObject(0)
                ->getArray("studies")
                ->getObject(0);
    CHECK(study->getValue<std::string>("modalities") == "CT");
    CHECK_FALSE(study->has("series"));
    series = parseObject(f.get("/searchDIM?query=*:*&depth=series").body)
                 ->getArray("results")
                 ->getObject(0)
                 ->getArray("studies")
                 ->getObject(0)
                 ->getArray("series")
                 ->getObject(0);
    CHECK(series->has("serieNumber"));
    CHECK_FALSE(series->has("images"));

    checkSearchError(f.get("/searchDIM?query=*:*&depth=instance"), 400,
                     "Invalid parameter depth: must be one of none, patient, study, series, image");
    checkSearchError(f.get("/searchDIM"), 400, "No query supplied!");
    checkSearchError(f.get("/searchDIM?query=*:*&psize=-2"), 400,
                     "Invalid parameter psize: must be a non-negative integer");
    checkSearchError(f.get("/searchDIM?query=*:*&provider=nope"), 400, "nope is not a valid query provider");
}

TEST_CASE("/dump answers one object or Dicoogle's empty shape", "[search]") {
    Fixture f;
    auto response = f.get("/dump?uid=" + kCtSop);
    REQUIRE(response.status == 200);
    auto body = parseObject(response.body);
    auto results = body->getObject("results");
    CHECK(results->getValue<std::string>("uri") == uriOf("images/CT_small.dcm"));
    REQUIRE(results->getObject("fields"));
    CHECK(body->has("elapsedTime"));

    body = parseObject(f.get("/dump?uid=1.2.3.4.5.6.7.8.9").body);
    CHECK_FALSE(body->getObject("results")->has("uri"));
    CHECK(body->getObject("results")->getObject("fields")->size() == 0);

    response = f.get("/dump");
    CHECK(response.status == 400);
    CHECK(parseObject(response.body)->getValue<std::string>("error") == "No uid supplied!");
    response = f.get("/dump?uid=" + kCtSop + "&provider=nope");
    CHECK(response.status == 400);
    CHECK(parseObject(response.body)->getValue<std::string>("error") == "nope is not a valid query provider");
}

TEST_CASE("/exportFile writes a CSV file that GET /exportFile downloads", "[export]") {
    Fixture f;
    const std::string fields = urlEncode(R"(["PatientName","Modality","NoSuchField"])");
    auto posted = f.server.request(
        "POST",
        "/exportFile?query=" + urlEncode("PatientID:1CT1") + "&fields=" + fields + "&keyword=true&providers=xapian",
        f.token);
    REQUIRE(posted.status == 200);
    CHECK(posted.contentType.rfind("application/json", 0) == 0);
    const auto uid = parseObject(posted.body)->getValue<std::string>("uid");
    CHECK(uid.size() == 36);
    CHECK(fs::exists(f.data.path() / "exports" / (uid + ".csv")));

    auto download = f.get("/exportFile?UID=" + uid);
    REQUIRE(download.status == 200);
    CHECK(download.contentType == "application/csv");
    CHECK(download.headers["content-disposition"].find("attachment") != std::string::npos);
    CHECK(download.body == "\"PatientName\";\"Modality\";\"NoSuchField\";\n\"CompressedSamples^CT1\";\"CT\";;\n");

    // expand: free text over every word.
    posted = f.server.request(
        "POST", "/exportFile?query=compressedsamples&expand&fields=" + urlEncode(R"(["PatientID"])"), f.token);
    const auto expanded = f.get("/exportFile?UID=" + parseObject(posted.body)->getValue<std::string>("uid"));
    CHECK(std::count(expanded.body.begin(), expanded.body.end(), '\n') == 5);

    for (const auto& bad : {std::string("not-a-uuid"), std::string(""), uid + "0", std::string("../../etc/passwd")}) {
        const auto refused = f.get("/exportFile?UID=" + urlEncode(bad));
        CHECK(refused.status == 400);
        CHECK(parseObject(refused.body)->has("error"));
    }
    const auto unknown = f.get("/exportFile?UID=123e4567-e89b-42d3-a456-426614174000");
    CHECK(unknown.status == 404);
    CHECK(parseObject(unknown.body)->has("error"));

    CHECK(f.server.request("POST", "/exportFile?fields=" + fields, f.token).status == 400);
    CHECK(f.server.request("POST", "/exportFile?query=*:*", f.token).status == 400);
    CHECK(f.server.request("POST", "/exportFile?query=*:*&fields=" + urlEncode("[\"a\""), f.token).status == 400);
    CHECK(f.server.request("POST", "/exportFile?query=*:*&fields=" + urlEncode("[1,2]"), f.token).status == 400);
    CHECK(f.server.request("POST", "/exportFile?query=*:*&fields=" + fields + "&providers=nope", f.token).status ==
          400);

    // Expired exports (and abandoned partial files) are swept.
    const auto old = f.data.path() / "exports" / "123e4567-e89b-42d3-a456-426614174000.csv";
    std::ofstream(old) << "\"A\";\n";
    fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::hours(2));
    CHECK(f.get("/exportFile?UID=123e4567-e89b-42d3-a456-426614174000").status == 404);
    CHECK_FALSE(fs::exists(old));
    CHECK(fs::exists(f.data.path() / "exports" / (uid + ".csv")));
}

TEST_CASE("/export/cvs, GET and POST /export stream CSV attachments", "[export]") {
    Fixture f;
    const std::string expected = "\"PatientID\";\"Modality\";\n\"1CT1\";\"CT\";\n";

    // /export/cvs expands the query unless keyword=true.
    auto response = f.get("/export/cvs?query=1ct1&fields=PatientID&fields=Modality");
    REQUIRE(response.status == 200);
    CHECK(response.contentType.rfind("text/csv", 0) == 0);
    CHECK(response.headers["content-disposition"] == "attachment; filename=\"QueryResultsExport.csv\"");
    CHECK(response.body == expected);
    CHECK(f.get("/export/cvs?query=" + urlEncode("PatientID:1CT1") + "&keyword=true&fields=PatientID&fields=Modality")
              .body == expected);
    CHECK(f.get("/export/cvs?query=" + urlEncode("PatientID:(x") + "&fields=PatientID").body == "\"PatientID\";\n");
    CHECK(f.get("/export/cvs?query=" + urlEncode("PatientID:(x") + "&keyword=true&fields=PatientID").status == 400);

    // GET /export: no expansion; every row of a larger result.
    response = f.get("/export?query=" + urlEncode("Modality:MR") + "&fields=SOPInstanceUID&providers=xapian");
    REQUIRE(response.status == 200);
    CHECK(std::count(response.body.begin(), response.body.end(), '\n') == 1 + 6);
    CHECK(f.get("/export?query=1ct1&fields=PatientID").body == "\"PatientID\";\n\"1CT1\";\n");  // free text, unexpanded
    CHECK(f.get("/export?fields=PatientID").status == 400);
    CHECK(f.get("/export?query=*:*").status == 400);
    CHECK(f.get("/export?query=*:*&fields=PatientID&providers=nope").status == 400);

    // POST /export: everything in one JSON form field.
    const std::string data =
        R"({"queryString":"PatientID:1CT1","extraFields":["PatientID","Modality"],"providers":["xapian"]})";
    response = f.server.request("POST", "/export", f.token, "JSON-DATA=" + urlEncode(data));
    REQUIRE(response.status == 200);
    CHECK(response.body == expected);
    for (const std::string& bad :
         {"JSON-DATA=" + urlEncode("{bad"), std::string("other=1"),
          "JSON-DATA=" + urlEncode(R"({"extraFields":["A"]})"), "JSON-DATA=" + urlEncode(R"({"queryString":"*:*"})"),
          "JSON-DATA=" + urlEncode(R"({"queryString":"*:*","extraFields":"A"})"),
          "JSON-DATA=" + urlEncode(R"({"queryString":"*:*","extraFields":[1]})"), "JSON-DATA=" + urlEncode("[1]")}) {
        INFO(bad);
        const auto refused = f.server.request("POST", "/export", f.token, bad);
        CHECK(refused.status == 400);
        CHECK(parseObject(refused.body)->has("error"));
    }
}

TEST_CASE("/export/list is every keyword of the dictionary", "[export]") {
    Fixture f;
    const auto response = f.get("/export/list");
    REQUIRE(response.status == 200);
    const auto keywords = parseArray(response.body);
    CHECK(keywords->size() > 3000);
    std::set<std::string> all;
    for (std::size_t i = 0; i < keywords->size(); ++i)
        all.insert(keywords->getElement<std::string>(static_cast<unsigned>(i)));
    for (const char* keyword : {"PatientName", "SOPInstanceUID", "StudyDate", "Modality"})
        CHECK(all.count(keyword) == 1);
}
