#include "tessera/core/dicom/move_destinations.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/test/temp_dir.hpp"

using tessera::core::MoveDestination;
using tessera::core::MoveDestinations;
using tessera::core::ServerSettings;
using tessera::sdk::Error;
using tessera::test::TempDir;

namespace {

std::string readFile(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

TEST_CASE("Move destinations are added, listed, found and saved in Dicoogle's shape", "[move_destinations]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        auto settings = ServerSettings::open(file);
        MoveDestinations destinations(*settings);
        CHECK(destinations.list().empty());
        destinations.add({"VIEWER", "127.0.0.1", 11112, true, "the viewer"});
        destinations.add({" PACS2 ", "10.0.0.2", 104, false, ""});
        // Same AE, address and port: updated, not duplicated.
        destinations.add({"VIEWER", "127.0.0.1", 11112, false, "renamed"});
        const auto all = destinations.list();
        REQUIRE(all.size() == 2);
        CHECK(all[0] == MoveDestination{"VIEWER", "127.0.0.1", 11112, false, "renamed"});
        CHECK(all[1] == MoveDestination{"PACS2", "10.0.0.2", 104, false, ""});
        CHECK(destinations.find("PACS2")->port == 104);
        CHECK(destinations.find(" PACS2")->address == "10.0.0.2");
        CHECK_FALSE(destinations.find("pacs2"));  // AE titles are case-sensitive
        CHECK_FALSE(destinations.find(""));
    }
    const auto xml = readFile(file);
    CHECK(xml.find("<move-destinations>") != std::string::npos);
    CHECK(xml.find("aetitle=\"PACS2\"") != std::string::npos);
    CHECK(xml.find("port=\"104\"") != std::string::npos);

    // A new process sees them.
    auto settings = ServerSettings::open(file);
    MoveDestinations reopened(*settings);
    CHECK(reopened.list().size() == 2);
}

TEST_CASE("Move destinations refuse what could never be used", "[move_destinations]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    MoveDestinations destinations(*settings);
    CHECK_THROWS_AS(destinations.add({"", "h", 1, false, ""}), Error);
    CHECK_THROWS_AS(destinations.add({"ABCDEFGHIJKLMNOPQ", "h", 1, false, ""}), Error);
    CHECK_THROWS_AS(destinations.add({"A\\B", "h", 1, false, ""}), Error);
    CHECK_THROWS_AS(destinations.add({"AE", "", 1, false, ""}), Error);
    CHECK_THROWS_AS(destinations.add({"AE", "h", 0, false, ""}), Error);
    CHECK(destinations.list().empty());
}

TEST_CASE("Removing by AE title, with or without port and address", "[move_destinations]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    MoveDestinations destinations(*settings);
    destinations.add({"A", "h1", 1000, false, ""});
    destinations.add({"B", "h1", 1001, false, ""});
    destinations.add({"A", "h2", 1002, false, ""});
    destinations.add({"A", "h3", 1003, false, ""});
    destinations.add({"C", "h1", 1004, false, ""});

    CHECK(destinations.remove("A", 9999) == 0);
    CHECK(destinations.remove("A", 1002) == 1);
    CHECK(destinations.remove("A", std::nullopt, "h3") == 1);
    CHECK(destinations.list().size() == 3);
    CHECK(destinations.remove("A") == 1);
    CHECK(destinations.remove("A") == 0);
    CHECK(destinations.remove("") == 0);
    const auto rest = destinations.list();
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].aeTitle == "B");
    CHECK(rest[1].aeTitle == "C");
    // All at once, including entries that are not neighbours.
    destinations.add({"X", "h", 1, false, ""});
    destinations.add({"Y", "h", 2, false, ""});
    destinations.add({"X", "h", 3, false, ""});
    CHECK(destinations.remove("X") == 2);
    REQUIRE(destinations.list().size() == 3);
    CHECK(destinations.list()[2].aeTitle == "Y");
}

TEST_CASE("Move destinations written as child elements are read too, broken ones are skipped", "[move_destinations]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        std::ofstream out(file);
        out << "<config><dicom-services><move-destinations>"
               "<move-destination><aetitle>CHILD</aetitle><address>host</address><port>4242</port>"
               "<public>true</public><description>d</description></move-destination>"
               "<move-destination aetitle=\"NOPORT\" address=\"h\" port=\"x\"/>"
               "<move-destination aetitle=\"OK\" address=\"h\" port=\"5\"/>"
               "</move-destinations></dicom-services></config>";
    }
    auto settings = ServerSettings::open(file);
    MoveDestinations destinations(*settings);
    const auto all = destinations.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0] == MoveDestination{"CHILD", "host", 4242, true, "d"});
    CHECK(all[1].aeTitle == "OK");
    // The broken entry keeps its place, so removing around it addresses the right elements.
    CHECK(destinations.remove("OK") == 1);
    CHECK(destinations.remove("CHILD") == 1);
    CHECK(destinations.list().empty());
    CHECK(readFile(file).find("NOPORT") != std::string::npos);
}
