// Indexing tasks through the real server: the built-in `file` storage serving the shared samples
// (and temp folders) as extra roots, the built-in `xapian` indexer, and the REST routes
// /management/tasks/{index,unindex,remove} and /index/task.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "json_helpers.hpp"
#include "server_process.hpp"

namespace fs = std::filesystem;
using tessera::test::makeTempDir;
using tessera::test::parseObject;
using tessera::test::ServerProcess;
using tessera::test::urlEncode;
using namespace std::chrono_literals;

namespace {

const fs::path kSamples = fs::canonical(TESSERA_SAMPLES_DIR);

std::string fileUri(const fs::path& path) {
    return "file:" + path.string();
}

// A data directory whose server.xml lets the `file` plugin serve `roots`; removed at the end.
class ServerWithRoots {
public:
    explicit ServerWithRoots(const std::vector<fs::path>& roots) : dataDir_(makeTempDir("tessera-tasks-it")) {
        std::string list;
        for (const auto& root : roots) {
            if (!list.empty()) list += ';';
            list += root.string();
        }
        std::ofstream(dataDir_ / "server.xml") << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                               << "<config><plugins><plugin name=\"file\"><setting key=\"roots\">"
                                               << list << "</setting></plugin></plugins></config>\n";
        server_ = std::make_unique<ServerProcess>(std::vector<std::string>{}, dataDir_);
        token_ = server_->login();
    }
    ~ServerWithRoots() {
        server_.reset();
        std::error_code ec;
        fs::remove_all(dataDir_, ec);
        fs::remove(dataDir_.parent_path() / (dataDir_.filename().string() + ".stderr"), ec);
    }

    ServerProcess& server() { return *server_; }
    const std::string& token() const { return token_; }

    tessera::test::HttpResult post(const std::string& pathAndQuery, const std::string& form = {}) {
        return server_->request("POST", pathAndQuery, token_, form);
    }

    Poco::JSON::Object::Ptr taskEntry(const std::string& uid) {
        auto list = server_->request("GET", "/index/task", token_);
        REQUIRE(list.status == 200);
        auto results = parseObject(list.body)->getArray("results");
        for (std::size_t i = 0; i < results->size(); ++i) {
            auto task = results->getObject(static_cast<unsigned>(i));
            if (task->getValue<std::string>("taskUid") == uid) return task;
        }
        return nullptr;
    }

    // Polls GET /index/task until the task is complete or canceled.
    Poco::JSON::Object::Ptr waitFinished(const std::string& uid, std::chrono::seconds limit = 180s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (true) {
            auto task = taskEntry(uid);
            REQUIRE(task);
            if (task->has("complete") || task->has("canceled")) return task;
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(20ms);
        }
    }

    // Starts indexing and returns the one task's uid.
    std::string startIndex(const fs::path& path) {
        auto response = post("/management/tasks/index?uri=" + urlEncode(fileUri(path)));
        REQUIRE(response.status == 200);
        auto tasks = parseObject(response.body)->getArray("tasks");
        REQUIRE(tasks->size() == 1);
        return tasks->getObject(0)->getValue<std::string>("uid");
    }

private:
    fs::path dataDir_;
    std::unique_ptr<ServerProcess> server_;
    std::string token_;
};

// Expected counts for the whole samples folder, from MANIFEST.tsv: core, variant and the
// malformed files the reader still reads are indexed; non-DICOM files (README, licences) and
// the unreadable malformed one are errors.
struct Expected {
    int indexed = 0, errors = 0;
};

Expected expectedForSamples() {
    std::ifstream in(kSamples / "MANIFEST.tsv");
    REQUIRE(in);
    std::map<std::string, std::string> groups;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto first = line.find('\t');
        const auto second = line.find('\t', first + 1);
        if (first != std::string::npos) groups[line.substr(0, first)] = line.substr(first + 1, second - first - 1);
    }
    const std::set<std::string> malformedOk = {
        "malformed/MR_truncated_pixeldata.dcm", "malformed/RTDOSE_bad_IS_value.dcm",
        "malformed/NM_J2K_corrupt_codestream.dcm", "malformed/MR_no_pixel_data_meta_uid_mismatch.dcm"};
    Expected expected;
    for (const auto& entry : fs::recursive_directory_iterator(kSamples)) {
        if (!entry.is_regular_file()) continue;
        const auto relative = fs::relative(entry.path(), kSamples).generic_string();
        auto group = groups.find(relative);
        if (group == groups.end() || relative == "malformed/CT_no_meta_leading_junk_byte.dcm")
            ++expected.errors;
        else if (group->second == "core" || group->second == "variant" || malformedOk.count(relative))
            ++expected.indexed;
    }
    return expected;
}

// Small explicit VR little endian Part 10 files with distinct UIDs, enough of them that indexing
// takes a while.
void writeSyntheticCorpus(const fs::path& dir, int count) {
    auto u16 = [](std::uint16_t v) { return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; };
    auto element = [&](std::uint16_t group, std::uint16_t elem, const std::string& vr, std::string value) {
        if (value.size() % 2 == 1) value.push_back(vr == "UI" ? '\0' : ' ');
        return u16(group) + u16(elem) + vr + u16(static_cast<std::uint16_t>(value.size())) + value;
    };
    const std::string sopClass = "1.2.840.10008.5.1.4.1.1.7";
    for (int i = 0; i < count; ++i) {
        const std::string sop = std::string("2.25.5151.") + std::to_string(i), patient = std::to_string(i / 50);
        std::string meta = element(0x0002, 0x0002, "UI", sopClass) + element(0x0002, 0x0003, "UI", sop) +
                           element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
        const auto length = static_cast<std::uint32_t>(meta.size());
        meta =
            element(0x0002, 0x0000, "UL", u16(length & 0xFFFF) + u16(static_cast<std::uint16_t>(length >> 16))) + meta;
        const std::string dataset =
            element(0x0008, 0x0016, "UI", sopClass) + element(0x0008, 0x0018, "UI", sop) +
            element(0x0008, 0x0020, "DA", "20210304") + element(0x0008, 0x0060, "CS", "OT") +
            element(0x0008, 0x1030, "LO", std::string("Synthetic study ") + std::to_string(i / 10)) +
            element(0x0010, 0x0010, "PN", "Synthetic^Patient" + patient) +
            element(0x0010, 0x0020, "LO", "SYN" + patient) +
            element(0x0020, 0x000D, "UI", std::string("2.25.5152.") + std::to_string(i / 10)) +
            element(0x0020, 0x000E, "UI", std::string("2.25.5153.") + std::to_string(i / 5)) +
            element(0x0020, 0x0013, "IS", std::to_string(i % 5 + 1));
        const fs::path file = dir / ("P" + patient) / (std::string("I") + std::to_string(i) + ".dcm");
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << std::string(128, '\0') << "DICM" << meta << dataset;
    }
}

}  // namespace

TEST_CASE("index the samples over REST, follow the task to completion, close it", "[tasks][samples]") {
    ServerWithRoots it({kSamples});
    const auto expected = expectedForSamples();

    auto response = it.post("/management/tasks/index?uri=" + urlEncode(fileUri(kSamples)));
    REQUIRE(response.status == 200);
    CHECK(response.contentType.find("application/json") == 0);
    auto tasks = parseObject(response.body)->getArray("tasks");
    REQUIRE(tasks->size() == 1);
    auto task = tasks->getObject(0);
    const auto uid = task->getValue<std::string>("uid");
    CHECK(std::regex_match(uid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    CHECK(task->getValue<std::string>("name") == "[xapian]index " + fileUri(kSamples));
    CHECK(task->has("progress"));
    CHECK_FALSE(task->getValue<bool>("done"));
    CHECK_FALSE(task->getValue<bool>("canceled"));

    auto done = it.waitFinished(uid);
    CHECK(done->getValue<bool>("complete"));
    CHECK_FALSE(done->has("canceled"));
    CHECK(done->getValue<double>("taskProgress") == 1.0);
    CHECK(done->getValue<std::string>("taskName") == "[xapian]index " + fileUri(kSamples));
    CHECK(std::regex_match(done->getValue<std::string>("taskTimeCreated"),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})")));
    CHECK(done->getValue<int>("nIndexed") == expected.indexed);
    CHECK(done->getValue<int>("nErrors") == expected.errors);
    CHECK(done->getValue<int>("nSkipped") == 7);  // DICOMDIR, 2 non-storable, 4 malformed without SOP UIDs
    CHECK(done->getValue<long>("elapsedTime") >= 0);

    auto list = parseObject(it.server().request("GET", "/index/task", it.token()).body);
    CHECK(list->getValue<int>("count") == 0);
    CHECK(list->getArray("results")->size() == 1);

    // Closing removes it; a second close finds nothing.
    auto closed = it.post("/index/task?uid=" + uid + "&action=delete&type=close");
    REQUIRE(closed.status == 200);
    CHECK(parseObject(closed.body)->getValue<bool>("removed"));
    CHECK_FALSE(
        parseObject(it.post("/index/task?uid=" + uid + "&action=delete&type=close").body)->getValue<bool>("removed"));
    CHECK_FALSE(it.taskEntry(uid));

    // Two URIs, one task each, and a URI with a space (sent as a space) becomes %20.
    const fs::path spaced = makeTempDir("tessera tasks space");
    fs::copy_file(kSamples / "images/CT_small.dcm", spaced / "CT small.dcm");
    ServerWithRoots second({kSamples, spaced});
    response = second.post("/management/tasks/index?uri=" + urlEncode(fileUri(kSamples / "series")) +
                           "&uri=" + urlEncode(fileUri(spaced / "CT small.dcm")) + "&plugin=XAPIAN");
    REQUIRE(response.status == 200);
    tasks = parseObject(response.body)->getArray("tasks");
    REQUIRE(tasks->size() == 2);
    CHECK(tasks->getObject(1)->getValue<std::string>("name").find("CT%20small.dcm") != std::string::npos);
    CHECK(second.waitFinished(tasks->getObject(0)->getValue<std::string>("uid"))->getValue<int>("nIndexed") == 20);
    CHECK(second.waitFinished(tasks->getObject(1)->getValue<std::string>("uid"))->getValue<int>("nIndexed") == 1);
    std::error_code ec;
    fs::remove_all(spaced, ec);
}

TEST_CASE("stop ends a running task within a second and it is listed as canceled", "[tasks][stop]") {
    const fs::path corpus = makeTempDir("tessera-tasks-corpus");
    writeSyntheticCorpus(corpus, 5000);
    {
        ServerWithRoots it({kSamples, corpus});
        const auto uid = it.startIndex(corpus);
        while (true) {
            auto task = it.taskEntry(uid);
            REQUIRE(task);
            REQUIRE_FALSE(task->has("complete"));
            if (task->getValue<double>("taskProgress") > 0.0) break;
            std::this_thread::sleep_for(2ms);
        }
        CHECK(parseObject(it.server().request("GET", "/index/task", it.token()).body)->getValue<int>("count") == 1);
        const auto stopAt = std::chrono::steady_clock::now();
        auto stopped = it.post("/index/task?uid=" + uid + "&action=delete&type=stop");
        REQUIRE(stopped.status == 200);
        CHECK(parseObject(stopped.body)->getValue<bool>("stopped"));
        auto task = it.waitFinished(uid, 10s);
        CHECK(std::chrono::steady_clock::now() - stopAt < 1s);
        CHECK(task->getValue<bool>("canceled"));
        CHECK_FALSE(task->has("complete"));
        CHECK_FALSE(task->has("nIndexed"));
        CHECK(parseObject(it.server().request("GET", "/index/task", it.token()).body)->getValue<int>("count") == 0);
        // Stopping a finished task does nothing; it stays listed until closed.
        CHECK_FALSE(parseObject(it.post("/index/task?uid=" + uid + "&action=delete&type=stop").body)
                        ->getValue<bool>("stopped"));
        CHECK(it.taskEntry(uid));
        CHECK(parseObject(it.post("/index/task?uid=" + uid + "&type=close").body)->getValue<bool>("removed"));
    }
    std::error_code ec;
    fs::remove_all(corpus, ec);
}

TEST_CASE("unindex by uri (query and form body), SOPInstanceUID, SeriesInstanceUID, StudyInstanceUID",
          "[tasks][unindex]") {
    ServerWithRoots it({kSamples});
    it.waitFinished(it.startIndex(kSamples / "series"));
    it.waitFinished(it.startIndex(kSamples / "images"));
    auto counts = [](const tessera::test::HttpResult& response) {
        REQUIRE(response.status == 200);
        auto body = parseObject(response.body);
        return std::vector<int>{body->getValue<int>("indexed"), body->getValue<int>("failed"),
                                body->getValue<int>("notFound")};
    };

    const std::string ct = fileUri(kSamples / "images/CT_small.dcm");
    CHECK(counts(it.post("/management/tasks/unindex?uri=" + urlEncode(ct))) == std::vector<int>{1, 0, 0});
    CHECK(counts(it.post("/management/tasks/unindex?uri=" + urlEncode(ct) + "&provider=xapian")) ==
          std::vector<int>{0, 0, 1});

    // Several URIs as a form body, as dicoogle-client sends them.
    const std::string form = "uri=" + urlEncode(fileUri(kSamples / "images/MR_small.dcm")) +
                             "&uri=" + urlEncode(fileUri(kSamples / "images/CT-MONO2-16-ankle.dcm")) +
                             "&uri=" + urlEncode(fileUri(kSamples / "images/never-there.dcm"));
    CHECK(counts(it.post("/management/tasks/unindex", form)) == std::vector<int>{2, 0, 1});

    // By UIDs (values from the MANIFEST).
    CHECK(counts(it.post("/management/tasks/unindex?SOPInstanceUID=1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322")) ==
          std::vector<int>{0, 0, 1});  // CT_small: already gone
    CHECK(counts(it.post("/management/tasks/unindex?SOPInstanceUID=1.2.840.113619.2.22.287.1.19990524.214248")) ==
          std::vector<int>{1, 0, 0});  // images/CT_jpeg_lossless_sv1.dcm
    std::string seriesUid, studyUid;
    {
        std::ifstream in(kSamples / "MANIFEST.tsv");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("series/", 0) != 0) continue;
            std::vector<std::string> fields;
            std::size_t start = 0;
            for (auto tab = line.find('\t'); tab != std::string::npos; start = tab + 1, tab = line.find('\t', start))
                fields.push_back(line.substr(start, tab - start));
            studyUid = fields.at(13);
            seriesUid = fields.at(14);
            break;
        }
    }
    REQUIRE_FALSE(seriesUid.empty());
    CHECK(counts(it.post("/management/tasks/unindex", "SeriesInstanceUID=" + seriesUid)) == std::vector<int>{20, 0, 0});
    CHECK(counts(it.post("/management/tasks/unindex?StudyInstanceUID=" + studyUid)) == std::vector<int>{0, 0, 1});

    // Bad input.
    const std::string noArgs =
        "No arguments provided; must include either one of `uri`, `SOPInstanceUID`, `SeriesInstanceUID` or "
        "`StudyInstanceUID`";
    for (const std::string& query :
         {std::string(""), "?uri=" + urlEncode(ct) + "&SOPInstanceUID=1.2.3", std::string("?provider=xapian")}) {
        INFO(query);
        auto bad = it.post("/management/tasks/unindex" + query);
        CHECK(bad.status == 400);
        CHECK(parseObject(bad.body)->getValue<std::string>("error") == noArgs);
    }
    for (const std::string& query : {std::string("?SOPInstanceUID=1.2.abc"), std::string("?StudyInstanceUID=1..2"),
                                     std::string("?SeriesInstanceUID=")}) {
        INFO(query);
        auto bad = it.post("/management/tasks/unindex" + query);
        CHECK(bad.status == 400);
        CHECK(parseObject(bad.body)->getValue<std::string>("error") == "Invalid DICOM UID");
    }
    auto badProvider = it.post("/management/tasks/unindex?uri=" + urlEncode(ct) + "&provider=nope");
    CHECK(badProvider.status == 400);
    CHECK(parseObject(badProvider.body)->getValue<std::string>("error") == "nope is not a valid index provider");
    CHECK(it.post("/management/tasks/unindex?uri=not%20a%20uri").status == 400);
}

TEST_CASE("remove deletes stored files only, answering an empty body without a content type", "[tasks][remove]") {
    const fs::path root = makeTempDir("tessera-tasks-remove");
    const fs::path outside = makeTempDir("tessera-tasks-outside");
    for (const char* name : {"a.dcm", "b.dcm", "c.dcm"}) fs::copy_file(kSamples / "images/CT_small.dcm", root / name);
    fs::copy_file(kSamples / "images/CT_small.dcm", outside / "x.dcm");
    {
        ServerWithRoots it({kSamples, root});
        auto removed = it.post("/management/tasks/remove?uri=" + urlEncode(fileUri(root / "a.dcm")));
        CHECK(removed.status == 200);
        CHECK(removed.body.empty());
        CHECK(removed.contentType.empty());
        CHECK_FALSE(fs::exists(root / "a.dcm"));

        // Several in a form body, and one that is already gone.
        removed = it.post("/management/tasks/remove", "uri=" + urlEncode(fileUri(root / "b.dcm")) +
                                                          "&uri=" + urlEncode(fileUri(root / "c.dcm")) +
                                                          "&uri=" + urlEncode(fileUri(root / "a.dcm")));
        CHECK(removed.status == 200);
        CHECK(removed.body.empty());
        CHECK_FALSE(fs::exists(root / "b.dcm"));
        CHECK_FALSE(fs::exists(root / "c.dcm"));

        // Outside the roots: refused, file kept.
        auto refused = it.post("/management/tasks/remove?uri=" + urlEncode(fileUri(outside / "x.dcm")));
        CHECK(refused.status == 403);
        CHECK(parseObject(refused.body)->has("error"));
        CHECK(fs::exists(outside / "x.dcm"));
        auto escape =
            it.post("/management/tasks/remove?uri=" + urlEncode(fileUri(root / ".." / outside.filename() / "x.dcm")));
        CHECK(escape.status == 403);
        CHECK(fs::exists(outside / "x.dcm"));

        auto missing = it.post("/management/tasks/remove");
        CHECK(missing.status == 400);
        CHECK(parseObject(missing.body)->has("error"));
        CHECK(it.post("/management/tasks/remove?uri=nope").status == 400);
        CHECK(it.post("/management/tasks/remove?uri=" + urlEncode("s3://bucket/x")).status == 400);
    }
    std::error_code ec;
    fs::remove_all(root, ec);
    fs::remove_all(outside, ec);
}

TEST_CASE("bad index and task requests are 400 JSON, outside the roots is 403, an unknown scheme starts no task",
          "[tasks][errors]") {
    ServerWithRoots it({kSamples / "series"});
    auto expectError = [&](const tessera::test::HttpResult& response, int status, const std::string& message = {}) {
        CHECK(response.status == status);
        CHECK(response.contentType.find("application/json") == 0);
        auto body = parseObject(response.body);
        REQUIRE(body->has("error"));
        if (!message.empty()) CHECK(body->getValue<std::string>("error") == message);
    };
    expectError(it.post("/management/tasks/index"), 400);
    expectError(it.post("/management/tasks/index?uri=no-scheme"), 400);
    expectError(it.post("/management/tasks/index?uri=" + urlEncode(fileUri(kSamples / "series")) + "&plugin=nope"), 400,
                "nope is not a valid index provider");
    expectError(it.post("/management/tasks/index?uri=" + urlEncode(fileUri(kSamples / "images"))), 403);
    expectError(it.post("/management/tasks/index?uri=" + urlEncode(fileUri(kSamples / "series/none"))), 404);
    auto none = it.post("/management/tasks/index?uri=" + urlEncode("s3://bucket/key"));
    CHECK(none.status == 200);
    CHECK(parseObject(none.body)->getArray("tasks")->size() == 0);
    CHECK(parseObject(it.server().request("GET", "/index/task", it.token()).body)->getArray("results")->size() == 0);

    expectError(it.post("/index/task?uid=x&type=close&action=remove"), 400);
    expectError(it.post("/index/task?type=close"), 400);
    expectError(it.post("/index/task?uid=x"), 400);
    expectError(it.post("/index/task?uid=x&type=pause"), 400);
    CHECK_FALSE(parseObject(it.post("/index/task?uid=x&type=close").body)->getValue<bool>("removed"));
    CHECK_FALSE(parseObject(it.post("/index/task?uid=x&type=stop").body)->getValue<bool>("stopped"));
}

TEST_CASE("task routes are for administrators", "[tasks][access]") {
    ServerWithRoots it({kSamples / "series"});
    REQUIRE(it.post("/user?username=plainuser&password=pw-123&admin=false").status == 200);
    const auto user = it.server().login("plainuser", "pw-123");
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"POST", "/management/tasks/index?uri=" + urlEncode(fileUri(kSamples / "series"))},
        {"GET", "/index/task"},
        {"POST", "/index/task?uid=x&type=close"},
        {"POST", "/management/tasks/unindex?uri=file:/x"},
        {"POST", "/management/tasks/remove?uri=file:/x"}};
    for (const auto& [method, path] : routes) {
        INFO(method << " " << path);
        CHECK(it.server().request(method, path, user).status == 403);
        CHECK(it.server().request(method, path).status == 401);
    }
    CHECK(parseObject(it.server().request("GET", "/index/task", it.token()).body)->getArray("results")->size() == 0);
}
