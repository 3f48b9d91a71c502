// The query/retrieve SCP driven by DCMTK's own tools against the real server: findscu at every
// level and root (answers checked against MANIFEST.tsv), movescu to a storescp started here
// (files arrive with byte-identical data sets), getscu, an unknown move destination, query
// injection attempts, and the move-destination REST routes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Net/ServerSocket.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"
#include "tessera/test/manifest.hpp"

extern char** environ;

namespace fs = std::filesystem;
using tessera::test::makeTempDir;
using tessera::test::Manifest;
using tessera::test::ManifestRow;
using tessera::test::RowSet;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;

namespace {

constexpr const char* kAeTitle = "DICOOGLE-STORAGE";

std::uint16_t freePort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    return socket.address().port();
}

std::string quoteArg(const std::string& arg) {
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'')
            out += "'\\''";
        else
            out.push_back(c);
    }
    return out + "'";
}

// Runs a DCMTK tool to completion; returns its exit code and its output (stdout + stderr).
std::pair<int, std::string> run(const std::vector<std::string>& args) {
    std::string command;
    for (const auto& arg : args) command += quoteArg(arg) + " ";
    command += "2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::string output;
    char buffer[4096];
    while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A storescp receiving into a directory, stopped at the end.
class StoreScp {
public:
    StoreScp(const std::string& aeTitle, const fs::path& dir) : port_(freePort()) {
        // +B: written exactly as received, so the byte-identity check sees what was sent.
        const std::vector<std::string> args = {"storescp", "-aet", aeTitle,      "+xa",
                                               "+B",       "-od",  dir.string(), std::to_string(port_)};
        std::vector<char*> argv;
        for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        REQUIRE(posix_spawnp(&pid_, "storescp", &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        // Ready when it answers C-ECHO.
        for (int i = 0; i < 100; ++i) {
            if (run({"echoscu", "-aec", aeTitle, "127.0.0.1", std::to_string(port_)}).first == 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        FAIL("storescp did not start");
    }
    ~StoreScp() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

// One findscu answer: attributes by tag "(gggg,eeee)" with their values as printed.
using FindAnswer = std::map<std::string, std::string>;

std::vector<FindAnswer> parseFindOutput(const std::string& output) {
    std::vector<FindAnswer> answers;
    static const std::regex kElement(
        R"(^[IWE]: (\([0-9a-f]{4},[0-9a-f]{4}\)) [A-Z]{2} (?:\[(.*)\]|\(no value available\)|(\(Sequence.*))\s*#)");
    std::istringstream in(output);
    std::string line;
    bool inResponse = false;
    while (std::getline(in, line)) {
        if (line.find("Find Response:") != std::string::npos) {
            answers.emplace_back();
            inResponse = true;
            continue;
        }
        if (line.find("---------") != std::string::npos || line.find("Final Find Response") != std::string::npos) {
            inResponse = line.find("---------") != std::string::npos && inResponse;
            continue;
        }
        std::smatch match;
        if (inResponse && !answers.empty() && std::regex_search(line, match, kElement)) {
            std::string value = match[2].str();
            while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
            answers.back()[match[1].str()] = value;
        }
    }
    return answers;
}

// The server with the sample images indexed and the Q/R SCP on a known port.
class QrServer {
public:
    explicit QrServer(int responseDelayMs = 0, const std::string& folder = "images")
        : dataDir_(makeTempDir("tessera-qr-it")), queryPort_(freePort()) {
        std::ofstream(dataDir_ / "server.xml")
            << "<config><dicom-services><query-retrieve><rsp-delay>" << responseDelayMs
            << "</rsp-delay></query-retrieve></dicom-services><plugins><plugin name=\"file\"><setting key=\"roots\">"
            << Manifest::samplesDir().string() << "</setting></plugin></plugins></config>\n";
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--query-port", std::to_string(queryPort_)},
                                                  dataDir_);
        token_ = server_->login();
        const auto started = server_->request(
            "POST", "/management/tasks/index?uri=" + urlEncode("file:" + (Manifest::samplesDir() / folder).string()),
            token_);
        REQUIRE(started.status == 200);
        for (int i = 0; i < 300; ++i) {
            const auto tasks = tessera::test::parseObject(server_->request("GET", "/index/task", token_).body);
            const auto results = tasks->getArray("results");
            if (results->size() > 0 && results->getObject(0)->has("complete")) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        FAIL("indexing did not finish");
    }
    ~QrServer() {
        server_.reset();
        std::error_code ignored;
        fs::remove_all(dataDir_, ignored);
    }

    std::uint16_t queryPort() const { return queryPort_; }
    ServerProcess& server() { return *server_; }
    const std::string& token() const { return token_; }

    tessera::test::HttpResult post(const std::string& pathAndQuery) {
        return server_->request("POST", pathAndQuery, token_);
    }

    std::vector<FindAnswer> find(const std::string& root, const std::vector<std::string>& keys) {
        std::vector<std::string> args = {"findscu", "-v", root, "-aec", kAeTitle};
        for (const auto& key : keys) {
            args.push_back("-k");
            args.push_back(key);
        }
        args.push_back("127.0.0.1");
        args.push_back(std::to_string(queryPort_));
        const auto [code, output] = run(args);
        INFO(output);
        REQUIRE(code == 0);
        REQUIRE(output.find("Final Find Response (Success)") != std::string::npos);
        return parseFindOutput(output);
    }

private:
    fs::path dataDir_;
    std::uint16_t queryPort_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

const RowSet& imageRows() {
    static const RowSet rows = Manifest::select(Manifest::samples().inGroups({"core"}), [](const ManifestRow& row) {
        return row.file().rfind("images/", 0) == 0;
    });
    return rows;
}

std::set<std::string> column(const std::vector<FindAnswer>& answers, const std::string& tag) {
    std::set<std::string> values;
    for (const auto& answer : answers) {
        const auto it = answer.find(tag);
        values.insert(it == answer.end() ? "<missing>" : it->second);
    }
    return values;
}

// The data set of a Part 10 file: what follows the meta header (group 0002, explicit LE, its
// length in (0002,0000)).
std::string dataSetBytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 144);
    REQUIRE(bytes.substr(128, 4) == "DICM");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + 132 + 8;
    const std::size_t groupLength = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::size_t>(p[3]) << 24);
    return bytes.substr(132 + 12 + groupLength);
}

const char* kIdStudy = "1.2.826.0.1.3680043.8.498.12406831542731051035295345080039845114";
const char* kIdSeries = "1.2.826.0.1.3680043.8.498.16157229083793556332623330502397121062";

}  // namespace

TEST_CASE("C-FIND answers every level and root as MANIFEST.tsv says", "[dicom_qr]") {
    QrServer it;
    const auto& rows = imageRows();

    SECTION("STUDY level, Study Root: one answer per study with counts and every modality") {
        const auto answers =
            it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientID", "NumberOfStudyRelatedInstances",
                           "NumberOfStudyRelatedSeries", "ModalitiesInStudy", "StudyDescription"});
        CHECK(column(answers, "(0020,000d)") == Manifest::distinct(rows, "StudyInstanceUID"));
        CHECK(answers.size() == Manifest::distinct(rows, "StudyInstanceUID").size());
        for (const auto& answer : answers) {
            const auto study = answer.at("(0020,000d)");
            INFO(study);
            const auto members =
                Manifest::select(rows, [&](const ManifestRow& row) { return row["StudyInstanceUID"] == study; });
            CHECK(answer.at("(0008,0052)") == "STUDY");  // echoed (Dicoogle forgets it)
            CHECK(answer.at("(0020,1208)") == std::to_string(Manifest::distinct(members, "SOPInstanceUID").size()));
            CHECK(answer.at("(0020,1206)") == std::to_string(Manifest::distinct(members, "SeriesInstanceUID").size()));
            CHECK(answer.count("(0008,1030)") == 1);  // asked for: present even when empty
            std::set<std::string> modalities;
            std::stringstream list(answer.at("(0008,0061)"));
            for (std::string m; std::getline(list, m, '\\');) modalities.insert(m);
            CHECK(modalities == Manifest::distinct(members, "modality"));
        }
    }

    SECTION("PATIENT level, Patient Root") {
        const auto answers = it.find("-P", {"QueryRetrieveLevel=PATIENT", "PatientID", "PatientName",
                                            "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedInstances"});
        std::set<std::string> keys;
        for (const auto* row : rows) keys.insert(row->patientKey());
        CHECK(answers.size() == keys.size());
        const auto id1 = std::find_if(answers.begin(), answers.end(),
                                      [](const FindAnswer& a) { return a.at("(0010,0020)") == "ID1"; });
        REQUIRE(id1 != answers.end());
        const auto members = Manifest::select(rows, [](const ManifestRow& row) { return row["PatientID"] == "ID1"; });
        CHECK(id1->at("(0020,1200)") == std::to_string(Manifest::distinct(members, "StudyInstanceUID").size()));
        CHECK(id1->at("(0020,1204)") == std::to_string(Manifest::distinct(members, "SOPInstanceUID").size()));
    }

    SECTION("SERIES level within a study, Study Root") {
        const auto answers = it.find("-S", {"QueryRetrieveLevel=SERIES", std::string("StudyInstanceUID=") + kIdStudy,
                                            "SeriesInstanceUID", "Modality", "NumberOfSeriesRelatedInstances"});
        REQUIRE(answers.size() == 1);
        CHECK(answers[0].at("(0020,000e)") == kIdSeries);
        CHECK(answers[0].at("(0008,0052)") == "SERIES");
        const auto members =
            Manifest::select(rows, [](const ManifestRow& row) { return row["SeriesInstanceUID"] == kIdSeries; });
        CHECK(answers[0].at("(0020,1209)") == std::to_string(Manifest::distinct(members, "SOPInstanceUID").size()));
    }

    SECTION("IMAGE level within a series, Patient Root") {
        const auto answers =
            it.find("-P", {"QueryRetrieveLevel=IMAGE", "PatientID=ID1", std::string("StudyInstanceUID=") + kIdStudy,
                           std::string("SeriesInstanceUID=") + kIdSeries, "SOPInstanceUID"});
        const auto members =
            Manifest::select(rows, [](const ManifestRow& row) { return row["SeriesInstanceUID"] == kIdSeries; });
        CHECK(column(answers, "(0008,0018)") == Manifest::distinct(members, "SOPInstanceUID"));
        CHECK(answers.size() == members.size());
    }

    SECTION("Matching: wildcards, UID lists, date ranges with open ends") {
        auto answers = it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientName=compressed*"});
        CHECK(column(answers, "(0020,000d)") ==
              Manifest::distinct(
                  Manifest::select(
                      rows,
                      [](const ManifestRow& row) {
                          return tessera::test::asciiLower(row["PatientName"]).rfind("compressedsamples", 0) == 0;
                      }),
                  "StudyInstanceUID"));
        CHECK_FALSE(answers.empty());

        answers = it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "StudyDate=-20040119"});
        const auto upTo = Manifest::select(rows, [](const ManifestRow& row) {
            const auto date = row.normalisedStudyDate();
            return !date.empty() && date <= "20040119";
        });
        CHECK(column(answers, "(0020,000d)") == Manifest::distinct(upTo, "StudyInstanceUID"));

        answers = it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "StudyDate=20040120-"});
        const auto from = Manifest::select(rows, [](const ManifestRow& row) {
            const auto date = row.normalisedStudyDate();
            return !date.empty() && date >= "20040120";
        });
        CHECK(column(answers, "(0020,000d)") == Manifest::distinct(from, "StudyInstanceUID"));

        const auto* mr = &Manifest::samples().byFile("images/MR_small.dcm");
        const auto* ct = &Manifest::samples().byFile("images/CT_small.dcm");
        answers = it.find("-S", {"QueryRetrieveLevel=STUDY",
                                 "StudyInstanceUID=" + (*mr)["StudyInstanceUID"] + "\\" + (*ct)["StudyInstanceUID"]});
        CHECK(column(answers, "(0020,000d)") ==
              std::set<std::string>{(*mr)["StudyInstanceUID"], (*ct)["StudyInstanceUID"]});
    }

    SECTION("Values with query syntax match literally (no injection)") {
        for (const char* value : {"*:*", "ID1 OR *", "ID1\" OR \"x", "(ID1)", "ID1^", "ID1/..", "[* TO *]"}) {
            INFO(value);
            CHECK(it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", std::string("PatientID=") + value})
                      .empty());
        }
        CHECK(it.find("-S", {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientID=ID1"}).size() == 1);
    }

    SECTION("A missing or invalid level is A900") {
        const auto [code, output] = run({"findscu", "-v", "-S", "-aec", kAeTitle, "-k", "QueryRetrieveLevel=FRAME",
                                         "-k", "StudyInstanceUID", "127.0.0.1", std::to_string(it.queryPort())});
        INFO(output);
        CHECK(output.find("Error: DataSetDoesNotMatchSOPClass") != std::string::npos);
        CHECK(output.find("Find Response: 1") == std::string::npos);
    }
}

TEST_CASE("C-FIND speaks UTF-8 out and decodes the identifier's character set in", "[dicom_qr]") {
    QrServer it(0, "charsets");
    const auto& japanese = Manifest::samples().byFile("charsets/chrH31_ISO2022_IR87.dcm");
    auto answers = it.find("-P", {"QueryRetrieveLevel=PATIENT", "PatientID=H31EXAMPLE", "PatientName"});
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].at("(0008,0005)") == "ISO_IR 192");  // added although not asked for
    CHECK(answers[0].at("(0010,0010)") == japanese["PatientName"]);

    // ASCII answers carry no character set, or an empty one when asked for.
    answers = it.find("-P", {"QueryRetrieveLevel=PATIENT", "PatientID=SCSFREN", "SpecificCharacterSet"});
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].at("(0008,0005)") == "");

    // A Latin-1 identifier: "Buc^J\xe9r\xf4me" is decoded before matching.
    answers = it.find("-P", {"QueryRetrieveLevel=PATIENT", "SpecificCharacterSet=ISO_IR 100",
                             "PatientName=Buc^J\xe9r\xf4me", "PatientID"});
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].at("(0010,0020)") == "SCSFREN");
    answers = it.find(
        "-P", {"QueryRetrieveLevel=PATIENT", "SpecificCharacterSet=ISO_IR 100", "PatientName=J\xe9*", "PatientID"});
    CHECK(answers.empty());
}

TEST_CASE("C-CANCEL ends a C-FIND with FE00", "[dicom_qr]") {
    QrServer it(150);  // ms before each pending response, so the cancel arrives mid-answer
    const auto [code, output] =
        run({"findscu", "-v", "-S", "-aec", kAeTitle, "--cancel", "2", "-k", "QueryRetrieveLevel=IMAGE", "-k",
             "SOPInstanceUID", "127.0.0.1", std::to_string(it.queryPort())});
    INFO(output);
    CHECK(output.find("Sending Cancel Request") != std::string::npos);
    CHECK(output.find("Final Find Response (Cancel") != std::string::npos);
    const auto answers = parseFindOutput(output);
    CHECK(answers.size() >= 2);
    CHECK(answers.size() < imageRows().size());
}

TEST_CASE("C-MOVE sends to a configured destination, byte-identical, and refuses unknown ones", "[dicom_qr]") {
    QrServer it;
    const fs::path received = makeTempDir("tessera-qr-received");
    {
        StoreScp receiver("RECEIVER", received);
        auto added = it.post("/management/settings/storage/dicom?type=add&aetitle=RECEIVER&ip=127.0.0.1&port=" +
                             std::to_string(receiver.port()) + "&description=test");
        REQUIRE(added.status == 200);
        CHECK(added.body == "{\"added\":true}");

        SECTION("a series with files in several transfer syntaxes") {
            const auto [code, output] =
                run({"movescu", "-v", "-S", "-aem", "RECEIVER", "-aec", kAeTitle, "-k", "QueryRetrieveLevel=SERIES",
                     "-k", std::string("StudyInstanceUID=") + kIdStudy, "-k",
                     std::string("SeriesInstanceUID=") + kIdSeries, "127.0.0.1", std::to_string(it.queryPort())});
            INFO(output);
            CHECK(code == 0);
            CHECK(output.find("Final Move Response (Success)") != std::string::npos);
            const auto members = Manifest::select(
                imageRows(), [](const ManifestRow& row) { return row["SeriesInstanceUID"] == kIdSeries; });
            CHECK(output.find("Received Move Response " + std::to_string(members.size() - 1) + " (Pending)") !=
                  std::string::npos);
            std::map<std::string, fs::path> bySop;
            for (const auto& entry : fs::directory_iterator(received)) {
                const auto name = entry.path().filename().string();
                bySop[name.substr(name.find('.') + 1)] = entry.path();
            }
            REQUIRE(bySop.size() == members.size());
            for (const auto* row : members) {
                INFO(row->file());
                REQUIRE(bySop.count((*row)["SOPInstanceUID"]) == 1);
                const auto sent = dataSetBytes(Manifest::samplesDir() / row->file());
                const auto arrived = dataSetBytes(bySop.at((*row)["SOPInstanceUID"]));
                // Including the two GDCM files with more padding than their values need, which
                // DCMTK would normalise if it encoded the data set: the stored bytes are sent.
                CHECK((arrived == sent));
            }
        }

        SECTION("C-CANCEL stops the sub-operations") {
            const auto [code, output] =
                run({"movescu", "-v", "-S", "-aem", "RECEIVER", "-aec", kAeTitle, "--cancel", "1", "-k",
                     "QueryRetrieveLevel=SERIES", "-k", std::string("StudyInstanceUID=") + kIdStudy, "-k",
                     std::string("SeriesInstanceUID=") + kIdSeries, "127.0.0.1", std::to_string(it.queryPort())});
            INFO(output);
            CHECK(output.find("Final Move Response (Cancel") != std::string::npos);
            const auto arrived = std::distance(fs::directory_iterator(received), fs::directory_iterator());
            CHECK(arrived >= 1);
            CHECK(static_cast<std::size_t>(arrived) < 9);
        }

        SECTION("an unknown destination is A801 and nothing is sent") {
            const auto [code, output] =
                run({"movescu", "-v", "-S", "-aem", "NOBODY", "-aec", kAeTitle, "-k", "QueryRetrieveLevel=STUDY", "-k",
                     std::string("StudyInstanceUID=") + kIdStudy, "127.0.0.1", std::to_string(it.queryPort())});
            INFO(output);
            CHECK(output.find("MoveDestinationUnknown") != std::string::npos);
            CHECK(fs::is_empty(received));
        }

        SECTION("a destination removed through REST is unknown at once") {
            CHECK(it.post("/management/settings/storage/dicom?type=remove&aetitle=RECEIVER").body ==
                  "{\"removed\":true}");
            const auto [code, output] =
                run({"movescu", "-v", "-S", "-aem", "RECEIVER", "-aec", kAeTitle, "-k", "QueryRetrieveLevel=STUDY",
                     "-k", std::string("StudyInstanceUID=") + kIdStudy, "127.0.0.1", std::to_string(it.queryPort())});
            INFO(output);
            CHECK(output.find("MoveDestinationUnknown") != std::string::npos);
        }
    }
    std::error_code ignored;
    fs::remove_all(received, ignored);
}

TEST_CASE("C-GET returns the instances on the same association", "[dicom_qr]") {
    QrServer it;
    const fs::path out = makeTempDir("tessera-qr-get");
    const auto& ct = Manifest::samples().byFile("images/CT_small.dcm");
    const auto [code, output] =
        run({"getscu", "-v", "-S", "-aec", kAeTitle, "-od", out.string(), "-k", "QueryRetrieveLevel=STUDY", "-k",
             "StudyInstanceUID=" + ct["StudyInstanceUID"], "127.0.0.1", std::to_string(it.queryPort())});
    INFO(output);
    CHECK(code == 0);
    CHECK(output.find("Number of Completed Suboperations : 1") != std::string::npos);
    // getscu writes what it parsed (no bit-preserving mode), so only the instance is checked.
    CHECK(fs::exists(out / ("CT." + ct["SOPInstanceUID"])));
    CHECK(std::distance(fs::directory_iterator(out), fs::directory_iterator()) == 1);
    std::error_code ignored;
    fs::remove_all(out, ignored);
}

TEST_CASE("Move destinations REST: Dicoogle's shapes, remove with or without port, bad input", "[dicom_qr]") {
    QrServer it;
    const std::string path = "/management/settings/storage/dicom";
    CHECK(it.server().request("GET", path, it.token()).body == "[]");
    CHECK(it.post(path + "?type=add&aetitle=A&ip=h1&port=104&public=&description=d").status == 200);
    CHECK(it.post(path + "?type=add&aetitle=A&ip=h2&port=105").status == 200);
    CHECK(it.post(path + "?type=add&aetitle=B&ip=h3&port=106&public=false").status == 200);
    const auto list = tessera::test::parseArray(it.server().request("GET", path, it.token()).body);
    REQUIRE(list->size() == 3);
    const auto first = list->getObject(0);
    CHECK(first->getValue<std::string>("AETitle") == "A");
    CHECK(first->getValue<std::string>("ipAddrs") == "h1");
    CHECK(first->getValue<int>("port") == 104);
    CHECK(first->getValue<std::string>("description") == "d");
    CHECK(first->getValue<bool>("isPublic"));
    CHECK(first->getValue<bool>("public"));

    CHECK(it.post(path + "?type=remove&aetitle=A&port=105").body == "{\"removed\":true}");
    CHECK(it.post(path + "?type=remove&aetitle=A&port=105").body == "{\"removed\":false}");
    CHECK(it.post(path + "?type=remove&aetitle=B").body == "{\"removed\":true}");
    CHECK(tessera::test::parseArray(it.server().request("GET", path, it.token()).body)->size() == 1);

    auto bad = it.post(path + "?type=add&aetitle=C&ip=h&port=70000");
    CHECK(bad.status == 400);
    CHECK(bad.body == "{\"error\":\"Illegal port parameter: must be a valid TCP port\"}");
    CHECK(it.post(path + "?type=add&aetitle=C&ip=h").status == 400);
    CHECK(it.post(path + "?type=add&aetitle=&ip=h&port=1").status == 400);
    bad = it.post(path + "?type=maybe&aetitle=C");
    CHECK(bad.status == 400);
    CHECK(bad.body.find("Illegal type parameter") != std::string::npos);
    CHECK(it.post(path + "?aetitle=C").status == 400);
    // Admin only.
    CHECK(it.server().request("GET", path).status == 401);
    // Saved in server.xml.
    std::ifstream xml(it.server().dataDir() / "server.xml");
    const std::string text((std::istreambuf_iterator<char>(xml)), std::istreambuf_iterator<char>());
    CHECK(text.find("<move-destination ") != std::string::npos);
    CHECK(text.find("aetitle=\"A\"") != std::string::npos);
}
