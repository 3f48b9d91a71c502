#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"

using namespace tessera::core;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;

namespace {

using tessera::test::TempDir;

std::string readFile(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void writeFile(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
}

// The file as an independent XML parser sees it, to check what was really written.
Poco::AutoPtr<Poco::XML::Document> parseFile(const std::filesystem::path& file) {
    Poco::XML::DOMParser parser;
    return parser.parseString(readFile(file));
}

std::string text(Poco::XML::Document* doc, const std::string& path) {
    auto* node = doc->documentElement()->getNodeByPath(path);
    REQUIRE(node != nullptr);
    return node->innerText();
}

bool exists(Poco::XML::Document* doc, const std::string& path) {
    return doc->documentElement()->getNodeByPath(path) != nullptr;
}

std::string attribute(Poco::XML::Document* doc, const std::string& path, const std::string& name) {
    auto* node = doc->documentElement()->getNodeByPath(path);
    REQUIRE(node != nullptr);
    auto* element = dynamic_cast<Poco::XML::Element*>(node);
    REQUIRE(element != nullptr);
    REQUIRE(element->hasAttribute(name));
    return element->getAttribute(name);
}

std::pair<ErrorCode, std::string> errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return {e.code(), e.what()};
    }
    FAIL("expected a tessera::sdk::Error");
    return {ErrorCode::Internal, ""};
}

// A Dicoogle 3 confs/server.xml in the layout of behaviour §9, with non-default values, the
// lists Tessera does not interpret, a comment, and an element no version of Dicoogle has.
const std::string kDicoogleXml = R"(<?xml version="1.0" encoding="UTF-8"?>
<config>
  <!-- written by Dicoogle 3.5.1 -->
  <web-server autostart="true" port="8181">
    <allowed-origins>http://viewer.example, https://ohif.example ,</allowed-origins>
  </web-server>
  <archive>
    <save-thumbnails>true</save-thumbnails>
    <thumbnail-size>128</thumbnail-size>
    <indexer-effort>80</indexer-effort>
    <dim-providers>
      <dim-provider>lucene</dim-provider>
      <dim-provider> sqlite </dim-provider>
    </dim-providers>
    <default-storages><default-storage>file-storage</default-storage></default-storages>
    <enable-watch-directory>false</enable-watch-directory>
    <watch-directory></watch-directory>
    <main-directory>/var/dicoogle/storage</main-directory>
    <node-name>pacs-1</node-name>
    <support-wsi>true</support-wsi>
    <encrypt-users-file>false</encrypt-users-file>
    <call-shutdown>false</call-shutdown>
  </archive>
  <dicom-services>
    <aetitle>MY-ARCHIVE</aetitle>
    <device-description>Test &amp; demo archive</device-description>
    <allowed-aetitles>MODALITY1</allowed-aetitles>
    <allowed-aetitles>MODALITY2</allowed-aetitles>
    <priority-aetitles>ER-CT</priority-aetitles>
    <allowed-local-interfaces>any</allowed-local-interfaces>
    <allowed-hostnames>any</allowed-hostnames>
    <default-ts><ts>1.2.840.10008.1.2</ts><ts>1.2.840.10008.1.2.1</ts></default-ts>
    <sop-classes>
      <sop-class><uid>1.2.840.10008.5.1.4.1.1.2</uid><transfer-syntaxes><ts>1.2.840.10008.1.2</ts></transfer-syntaxes></sop-class>
    </sop-classes>
    <additional-sop-classes><additional-sop-class uid="1.2.3.4" alias="MyClass"/></additional-sop-classes>
    <additional-transfer-syntaxes>
      <additional-transfer-syntax uid="1.2.3.5" alias="MyTS" bigEndian="false" explicitVR="true" encapsulated="false" deflated="false"/>
    </additional-transfer-syntaxes>
    <move-destinations>
      <move-destination aetitle="WORKSTATION" address="10.0.0.5" port="11112" public="true" description="Reading room"/>
    </move-destinations>
    <storage autostart="true" port="6667" hostname="0.0.0.0"><save-ae-titles>true</save-ae-titles></storage>
    <query-retrieve autostart="false" port="1046">
      <rsp-delay>0</rsp-delay><dimse-rsp-timeout>30</dimse-rsp-timeout><idle-timeout>60</idle-timeout>
      <accept-timeout>60</accept-timeout><connection-timeout>60</connection-timeout>
      <transfer-capabilities>1.2.840.10008.1.2</transfer-capabilities>
      <sop-class>1.2.840.10008.5.1.4.1.2.2.1</sop-class>
      <max-client-assocs>30</max-client-assocs><max-pdu-length-receive>16364</max-pdu-length-receive>
      <max-pdu-length-send>16364</max-pdu-length-send>
    </query-retrieve>
  </dicom-services>
  <future-feature enabled="yes"><knob>42</knob></future-feature>
</config>
)";

// Built by append: GCC 12 warns falsely (-Wrestrict) about "literal" + std::to_string(n).
std::string numbered(const char* prefix, int n) {
    std::string text(prefix);
    text += std::to_string(n);
    return text;
}

}  // namespace

TEST_CASE("ServerSettings: first open writes every default", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "confs" / "server.xml";  // directory does not exist yet
    {
        auto settings = ServerSettings::open(file);
        CHECK(settings->file() == file);
        CHECK(settings->httpAddress() == "127.0.0.1");
        CHECK(settings->httpPort() == 8080);
        CHECK(settings->storagePort() == 6666);
        CHECK(settings->queryPort() == 1045);
        CHECK(settings->aeTitle() == "DICOOGLE-STORAGE");
        CHECK(settings->tokenIdleTimeout() == std::chrono::seconds(3600));
        CHECK(settings->passwordHashIterations() == 210000u);
        CHECK(settings->maxBodyBytes() == 3325000u);
        CHECK(settings->allowedOrigins().empty());
        CHECK(settings->dimProviders().empty());
        CHECK_FALSE(settings->allowUnauthorized());
    }
    REQUIRE(std::filesystem::exists(file));
    const std::string written = readFile(file);
    CHECK(written.rfind("<?xml", 0) == 0);

    auto doc = parseFile(file);
    CHECK(doc->documentElement()->nodeName() == "config");
    CHECK(attribute(doc, "web-server", "port") == "8080");
    CHECK(attribute(doc, "web-server", "hostname") == "127.0.0.1");
    CHECK(attribute(doc, "web-server", "autostart") == "true");
    CHECK(text(doc, "web-server/token-idle-timeout") == "3600");
    CHECK(text(doc, "web-server/max-body-bytes") == "3325000");
    CHECK(text(doc, "web-server/allow-unauthorized") == "false");
    CHECK(text(doc, "security/password-hash-iterations") == "210000");
    CHECK(text(doc, "archive/thumbnail-size") == "64");
    CHECK(text(doc, "archive/indexer-effort") == "100");
    CHECK(text(doc, "archive/save-thumbnails") == "false");
    CHECK(exists(doc, "archive/dim-providers"));
    CHECK(exists(doc, "archive/main-directory"));
    CHECK(text(doc, "dicom-services/aetitle") == "DICOOGLE-STORAGE");
    CHECK(attribute(doc, "dicom-services/storage", "port") == "6666");
    CHECK(attribute(doc, "dicom-services/query-retrieve", "port") == "1045");
    CHECK(text(doc, "dicom-services/query-retrieve/max-client-assocs") == "20");
    CHECK(text(doc, "dicom-services/query-retrieve/max-pdu-length-receive") == "16364");
    CHECK(exists(doc, "plugins"));

    // Nothing missing the second time: the file is left exactly as it is.
    auto again = ServerSettings::open(file);
    CHECK(readFile(file) == written);
    CHECK(again->httpPort() == 8080);
}

TEST_CASE("ServerSettings: an existing Dicoogle server.xml loads with its values", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    writeFile(file, kDicoogleXml);
    auto settings = ServerSettings::open(file);

    CHECK(settings->httpPort() == 8181);
    CHECK(settings->storagePort() == 6667);
    CHECK(settings->queryPort() == 1046);
    CHECK(settings->aeTitle() == "MY-ARCHIVE");
    CHECK(settings->dimProviders() == std::vector<std::string>{"lucene", "sqlite"});
    CHECK(settings->allowedOrigins() == std::vector<std::string>{"http://viewer.example", "https://ohif.example"});
    CHECK(settings->get("archive.thumbnail-size") == "128");
    CHECK(settings->getInt("archive.indexer-effort", 0) == 80);
    CHECK(settings->getBool("archive.save-thumbnails", false));
    CHECK_FALSE(settings->getBool("dicom-services.query-retrieve[@autostart]", true));
    CHECK(settings->get("dicom-services.device-description") == "Test & demo archive");
    CHECK(settings->get("dicom-services.allowed-aetitles") == "MODALITY1");
    CHECK(settings->get("dicom-services.allowed-aetitles[1]") == "MODALITY2");
    CHECK_FALSE(settings->get("dicom-services.allowed-aetitles[2]"));
    CHECK(settings->get("dicom-services.move-destinations.move-destination[@port]") == "11112");
    CHECK(settings->get("dicom-services.storage[@hostname]") == "0.0.0.0");
    CHECK(settings->get("archive.main-directory") == "/var/dicoogle/storage");
    CHECK(settings->get("archive.watch-directory") == "");
    CHECK(settings->getInt("dicom-services.query-retrieve.dimse-rsp-timeout", 0) == 30);
    CHECK(settings->get("future-feature.knob") == "42");

    // Tessera's keys were missing, so their defaults were added; Dicoogle's values were not touched.
    CHECK(settings->httpAddress() == "127.0.0.1");
    CHECK(settings->tokenIdleTimeout() == std::chrono::seconds(3600));
    CHECK(settings->passwordHashIterations() == 210000u);
    auto doc = parseFile(file);
    CHECK(text(doc, "web-server/token-idle-timeout") == "3600");
    CHECK(attribute(doc, "web-server", "port") == "8181");
    // support-wsi is the old name of use-iio-registry: no duplicate is added.
    CHECK_FALSE(exists(doc, "archive/use-iio-registry"));
    CHECK(text(doc, "archive/support-wsi") == "true");
}

TEST_CASE("ServerSettings: unknown elements survive a save", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    writeFile(file, kDicoogleXml);
    {
        auto settings = ServerSettings::open(file);
        settings->set("dicom-services.aetitle", "NEW-AE");
        settings->set("web-server[@port]", "9090");
    }
    auto doc = parseFile(file);
    CHECK(text(doc, "dicom-services/aetitle") == "NEW-AE");
    CHECK(attribute(doc, "web-server", "port") == "9090");
    CHECK(text(doc, "future-feature/knob") == "42");
    CHECK(attribute(doc, "future-feature", "enabled") == "yes");
    CHECK(attribute(doc, "dicom-services/additional-sop-classes/additional-sop-class", "alias") == "MyClass");
    CHECK(attribute(doc, "dicom-services/additional-transfer-syntaxes/additional-transfer-syntax", "explicitVR") ==
          "true");
    CHECK(attribute(doc, "dicom-services/move-destinations/move-destination", "description") == "Reading room");
    CHECK(text(doc, "dicom-services/sop-classes/sop-class/uid") == "1.2.840.10008.5.1.4.1.1.2");
    CHECK(text(doc, "dicom-services/query-retrieve/transfer-capabilities") == "1.2.840.10008.1.2");
    CHECK(text(doc, "dicom-services/device-description") == "Test & demo archive");
    CHECK(doc->documentElement()->getElementsByTagName("allowed-aetitles")->length() == 2);
    CHECK(doc->documentElement()->getElementsByTagName("ts")->length() == 3);
    CHECK(readFile(file).find("written by Dicoogle 3.5.1") != std::string::npos);  // comments too

    // Saving again does not grow the file (no whitespace piles up between saves).
    const auto size = readFile(file).size();
    {
        auto settings = ServerSettings::open(file);
        settings->set("dicom-services.aetitle", "NEW-AF");
        settings->set("dicom-services.aetitle", "NEW-AE");
    }
    CHECK(readFile(file).size() == size);
}

TEST_CASE("ServerSettings: set() persists across reopening", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        auto settings = ServerSettings::open(file);
        settings->set("web-server[@port]", "0");
        settings->set("archive.thumbnail-size", "256");
        settings->set("archive.dim-providers.dim-provider", "xapian");
        settings->set("archive.dim-providers.dim-provider[1]", "sqlite");
        settings->set("archive.brand-new.nested[@flag]", "on");
        settings->setMany({{"dicom-services.storage[@port]", "11112"},
                           {"dicom-services.query-retrieve[@port]", "11113"},
                           {"web-server.allowed-origins", "https://a.example,https://b.example"},
                           {"web-server.token-idle-timeout", "900"},
                           {"dicom-services.aetitle", "TESSERA"}});
        CHECK(settings->httpPort() == 0);
    }
    auto settings = ServerSettings::open(file);
    CHECK(settings->httpPort() == 0);
    CHECK(settings->storagePort() == 11112);
    CHECK(settings->queryPort() == 11113);
    CHECK(settings->aeTitle() == "TESSERA");
    CHECK(settings->tokenIdleTimeout() == std::chrono::seconds(900));
    CHECK(settings->getInt("archive.thumbnail-size", 0) == 256);
    CHECK(settings->dimProviders() == std::vector<std::string>{"xapian", "sqlite"});
    CHECK(settings->allowedOrigins() == std::vector<std::string>{"https://a.example", "https://b.example"});
    CHECK(settings->getBool("archive.brand-new.nested[@flag]", false));
    CHECK(settings->get("archive.dim-providers.dim-provider[0]") == "xapian");

    // Setting a value to empty brings the default back for typed accessors.
    settings->set("dicom-services.aetitle", "");
    CHECK(settings->aeTitle() == "DICOOGLE-STORAGE");
    CHECK(settings->get("dicom-services.aetitle") == "");
}

TEST_CASE("ServerSettings: update() rewrites a list in one save", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        auto settings = ServerSettings::open(file);
        settings->setMany({{"dicom-services.sop-classes.sop-class[0].uid", "1.2.3"},
                           {"dicom-services.sop-classes.sop-class[1].uid", "1.2.4"},
                           {"dicom-services.storage[@hostname]", "127.0.0.1"}});
        settings->update({"dicom-services.sop-classes", "dicom-services.storage[@hostname]", "no.such.element"},
                         {{"dicom-services.sop-classes.sop-class[0].uid", "9.8.7"}});
        CHECK(settings->get("dicom-services.sop-classes.sop-class[0].uid") == "9.8.7");
        CHECK_FALSE(settings->get("dicom-services.sop-classes.sop-class[1].uid"));
        CHECK_FALSE(settings->get("dicom-services.storage[@hostname]"));
        CHECK(settings->storagePort() == 6666);  // the element keeps its other attributes
    }
    auto reopened = ServerSettings::open(file);
    CHECK(reopened->get("dicom-services.sop-classes.sop-class[0].uid") == "9.8.7");
    CHECK_FALSE(reopened->get("dicom-services.sop-classes.sop-class[1].uid"));
    CHECK_FALSE(reopened->get("dicom-services.storage[@hostname]"));

    // A bad value refuses the whole update, removals included.
    CHECK_THROWS_AS(reopened->update({"dicom-services.sop-classes"}, {{"web-server[@port]", "nope"}}), Error);
    CHECK(reopened->get("dicom-services.sop-classes.sop-class[0].uid") == "9.8.7");
    CHECK_THROWS_AS(reopened->update({"bad..key"}, {}), Error);
}

TEST_CASE("ServerSettings: bad values are refused before anything changes", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    auto settings = ServerSettings::open(file);
    const std::string before = readFile(file);

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"web-server[@port]", "http"},
        {"web-server[@port]", "65536"},
        {"web-server[@port]", "-1"},
        {"web-server[@port]", "80 80"},
        {"dicom-services.storage[@port]", "1e3"},
        {"dicom-services.query-retrieve[@port]", "99999999999999999999999"},
        {"dicom-services.aetitle", "THIS-AE-TITLE-IS-TOO-LONG"},
        {"dicom-services.aetitle", "BACK\\SLASH"},
        {"web-server.allow-unauthorized", "maybe"},
        {"archive.indexer-effort", "101"},
        {"security.password-hash-iterations", "0"},
        {"web-server.max-body-bytes", "0"},
        {"web-server.token-idle-timeout", "-5"},
    };
    for (const auto& [key, value] : bad) {
        INFO(key << " = " << value);
        CHECK(errorOf([&] { settings->set(key, value); }).first == ErrorCode::InvalidArgument);
    }
    // All or nothing: the good pair before the bad one is not applied either.
    CHECK(errorOf([&] {
              settings->setMany({{"archive.thumbnail-size", "32"}, {"web-server[@port]", "nope"}});
          }).first == ErrorCode::InvalidArgument);
    CHECK(settings->getInt("archive.thumbnail-size", 0) == 64);
    CHECK(settings->httpPort() == 8080);
    CHECK(readFile(file) == before);

    // Leading and trailing spaces are not an error.
    settings->set("web-server[@port]", " 8081 ");
    CHECK(settings->httpPort() == 8081);
}

TEST_CASE("ServerSettings: malformed keys", "[settings]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    for (const std::string key : {"", ".", "a..b", "a.", ".a", "a[", "a[x]", "a[-1]", "a[@]", "a[@x].b",
                                  "a[@x][@y]", "1abc", "a b", "a/b", "a[0][1]", "a[1234567]"}) {
        INFO("key: " << key);
        CHECK(errorOf([&] { (void)settings->get(key); }).first == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { settings->set(key, "x"); }).first == ErrorCode::InvalidArgument);
    }
    // Only the next element of a list can be created.
    CHECK(errorOf([&] { settings->set("archive.dim-providers.dim-provider[3]", "x"); }).first ==
          ErrorCode::InvalidArgument);
    CHECK(settings->dimProviders().empty());
}

TEST_CASE("ServerSettings: getString, getInt and getBool", "[settings]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    CHECK(settings->getString("no.such.key", "fallback") == "fallback");
    CHECK(settings->getString("archive.main-directory", "fallback") == "fallback");  // empty
    CHECK(settings->getInt("no.such.key", 7) == 7);
    CHECK(settings->getBool("no.such.key", true));
    CHECK_FALSE(settings->get("no.such.key"));

    settings->set("custom.flag", "YES");
    settings->set("custom.number", "-12");
    settings->set("custom.word", "twelve");
    CHECK(settings->getBool("custom.flag", false));
    CHECK(settings->getInt("custom.number", 0) == -12);
    CHECK(errorOf([&] { (void)settings->getInt("custom.word", 0); }).first == ErrorCode::InvalidArgument);
    CHECK(errorOf([&] { (void)settings->getBool("custom.word", false); }).first == ErrorCode::InvalidArgument);
    CHECK(settings->getString("custom.word", "") == "twelve");
}

TEST_CASE("ServerSettings: malformed or invalid files fail at open", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"<config><web-server port=\"8080\"></config>", "malformed"},
        {"<config>", "malformed"},
        {"", "malformed"},
        {"not xml at all", "malformed"},
        {"<config/><config/>", "malformed"},
        {"<settings><web-server/></settings>", "<config>"},
        {"<config><web-server port=\"http\"/></config>", "web-server[@port]"},
        {"<config><dicom-services><aetitle>WAY-TOO-LONG-AE-TITLE</aetitle></dicom-services></config>", "aetitle"},
    };
    for (const auto& [content, reason] : cases) {
        INFO("content: " << content);
        writeFile(file, content);
        const auto [code, message] = errorOf([&] { (void)ServerSettings::open(file); });
        CHECK(code == ErrorCode::InvalidArgument);
        CHECK(message.find(file.string()) != std::string::npos);
        CHECK(message.find(reason) != std::string::npos);
        CHECK(readFile(file) == content);  // a broken file is never overwritten
    }
    const auto directory = dir.path() / "dir.xml";
    std::filesystem::create_directories(directory);
    CHECK(errorOf([&] { (void)ServerSettings::open(directory); }).first == ErrorCode::InvalidArgument);
}

TEST_CASE("ServerSettings: plugin sections persist in the same file", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        auto settings = ServerSettings::open(file);
        auto& xapian = settings->pluginSection("xapian");
        CHECK(&xapian == &settings->pluginSection("xapian"));
        CHECK_FALSE(xapian.get("index.path"));
        CHECK(xapian.getOrInit("index.path", "/var/tessera/xapian") == "/var/tessera/xapian");
        xapian.set("commit-every", "500");
        xapian.set("commit-every", "1000");
        xapian.set("quoting", "a<b & \"c\" 'd' > e");
        xapian.set("spaces", "  padded  ");
        xapian.set("empty", "");
        auto& sqlite = settings->pluginSection("sqlite catalogue \"v2\"");  // any name, not an XML name
        sqlite.set("2fa.enabled", "true");  // SDK keys need not be XML names either
        CHECK(errorOf([&] { xapian.set("bad key", "x"); }).first == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { xapian.set("", "x"); }).first == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { xapian.set("a/b", "x"); }).first == ErrorCode::InvalidArgument);
        CHECK(errorOf([&] { (void)settings->pluginSection(""); }).first == ErrorCode::InvalidArgument);
    }
    auto doc = parseFile(file);
    CHECK(exists(doc, "plugins/plugin[@name=xapian]"));

    auto settings = ServerSettings::open(file);
    auto& xapian = settings->pluginSection("xapian");
    CHECK(xapian.get("index.path") == "/var/tessera/xapian");
    CHECK(xapian.get("commit-every") == "1000");
    CHECK(xapian.get("quoting") == "a<b & \"c\" 'd' > e");
    CHECK(xapian.get("spaces") == "  padded  ");
    CHECK(xapian.get("empty") == "");
    CHECK_FALSE(xapian.get("2fa.enabled"));  // sections are separate
    CHECK_FALSE(xapian.get("bad key"));
    CHECK(xapian.keys() == std::vector<std::string>{"index.path", "commit-every", "quoting", "spaces", "empty"});
    auto& sqlite = settings->pluginSection("sqlite catalogue \"v2\"");
    CHECK(sqlite.get("2fa.enabled") == "true");
    CHECK(sqlite.keys() == std::vector<std::string>{"2fa.enabled"});

    // A section used for the first time exists in the file straight away.
    (void)settings->pluginSection("fresh");
    CHECK(exists(parseFile(file), "plugins/plugin[@name=fresh]"));
    CHECK(settings->pluginSection("fresh").keys().empty());
}

TEST_CASE("ServerSettings: saving is atomic and keeps the file mode", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    auto settings = ServerSettings::open(file);
    REQUIRE(::chmod(file.c_str(), 0640) == 0);
    for (int i = 0; i < 5; ++i) settings->set("archive.node-name", numbered("node-", i));
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0640);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
    CHECK(entries == 1);  // no temporary files left behind
    CHECK(ServerSettings::open(file)->get("archive.node-name") == "node-4");
}

TEST_CASE("ServerSettings: a failed save changes nothing in memory", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    auto settings = ServerSettings::open(file);
    settings->set("archive.node-name", "before");
    auto& section = settings->pluginSection("p");
    section.set("k", "before");

    // A directory in place of the file makes the final rename fail, even for root.
    std::filesystem::remove(file);
    std::filesystem::create_directories(file / "blocker");
    const auto [code, message] = errorOf([&] { settings->set("archive.node-name", "after"); });
    CHECK(code == ErrorCode::Unavailable);
    CHECK(message.find(dir.path().string()) == std::string::npos);  // no paths for API clients
    CHECK(settings->get("archive.node-name") == "before");
    CHECK(errorOf([&] { section.set("k", "after"); }).first == ErrorCode::Unavailable);
    CHECK(section.get("k") == "before");
    CHECK(errorOf([&] { (void)settings->pluginSection("new-one"); }).first == ErrorCode::Unavailable);

    std::filesystem::remove_all(file);
    settings->set("archive.node-name", "after");
    CHECK(ServerSettings::open(file)->get("archive.node-name") == "after");
    CHECK(ServerSettings::open(file)->pluginSection("p").get("k") == "before");
}

TEST_CASE("ServerSettings: concurrent writers and readers", "[settings]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    auto settings = ServerSettings::open(file);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto& section = settings->pluginSection(numbered("plugin", t % 2));
            for (int i = 0; i < 10; ++i) {
                settings->set(numbered("custom.t", t), std::to_string(i));
                section.set(numbered("t", t), std::to_string(i));
                (void)settings->httpPort();
                (void)settings->dimProviders();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    auto reopened = ServerSettings::open(file);
    for (int t = 0; t < 4; ++t) {
        CHECK(reopened->get(numbered("custom.t", t)) == "9");
        CHECK(reopened->pluginSection(numbered("plugin", t % 2)).get(numbered("t", t)) == "9");
    }
}
