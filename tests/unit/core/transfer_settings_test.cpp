// TransferSettings over a real server.xml: defaults, changes that persist in Dicoogle's
// structure, a Dicoogle-made file, refused classes and bad names.
#include <catch2/catch.hpp>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tessera/core/dicom/transfer_settings.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/test/temp_dir.hpp"

using tessera::core::ServerSettings;
using tessera::core::SopClassTransfer;
using tessera::core::TransferSettings;
using tessera::test::TempDir;

namespace {

std::string readFile(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

const SopClassTransfer& entryFor(const std::vector<SopClassTransfer>& list, const std::string& uid) {
    const auto it = std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.uid == uid; });
    REQUIRE(it != list.end());
    return *it;
}

bool option(const SopClassTransfer& entry, const std::string& name) {
    for (const auto& o : entry.options)
        if (o.name == name) return o.value;
    FAIL("no option " << name);
    return false;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("TransferSettings: defaults are every DCMTK storage class with all 14 syntaxes", "[transfer]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    TransferSettings transfer(*settings);

    const auto list = transfer.list();
    CHECK(list.size() == static_cast<std::size_t>(numberOfDcmAllStorageSOPClassUIDs));
    const auto& ct = entryFor(list, UID_CTImageStorage);
    CHECK(ct.name == "CTImageStorage");
    REQUIRE(ct.options.size() == 14);
    CHECK(ct.options.front().name == "ImplicitVRLittleEndian");
    CHECK(ct.options.front().uid == UID_LittleEndianImplicitTransferSyntax);
    CHECK(ct.options.back().name == "MPEG2");
    CHECK(std::all_of(ct.options.begin(), ct.options.end(), [](const auto& o) { return o.value; }));
    CHECK(option(ct, "JPEGBaseline1"));  // unlike Dicoogle

    const auto preferred = transfer.acceptedFor(UID_CTImageStorage);
    REQUIRE(preferred.size() == 14);
    CHECK(preferred[0] == UID_LittleEndianExplicitTransferSyntax);
    CHECK(preferred[1] == UID_LittleEndianImplicitTransferSyntax);
    CHECK(transfer.accepted().size() == list.size());

    // The default list is written once, in Dicoogle's element names, and nothing per class.
    const auto xml = readFile(settings->file());
    CHECK(count(xml, "<default-ts>") == 1);
    CHECK(count(xml, "<ts>") == 14);
    CHECK(count(xml, "<sop-class>") == 0);
}

TEST_CASE("TransferSettings: a change is saved as a sop-class entry and survives reopening", "[transfer]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    {
        auto settings = ServerSettings::open(file);
        TransferSettings transfer(*settings);
        REQUIRE(transfer.set(UID_CTImageStorage, "JPEGBaseline1", false));
        CHECK_FALSE(option(entryFor(transfer.list(), UID_CTImageStorage), "JPEGBaseline1"));
        CHECK(option(entryFor(transfer.list(), UID_MRImageStorage), "JPEGBaseline1"));  // others untouched
        const auto ct = transfer.acceptedFor(UID_CTImageStorage);
        CHECK(std::find(ct.begin(), ct.end(), UID_JPEGProcess1TransferSyntax) == ct.end());
        CHECK(ct.size() == 13);
        // Refuse MR entirely.
        for (const auto& [name, uid] : TransferSettings::transferSyntaxNames())
            REQUIRE(transfer.set(UID_MRImageStorage, name, false));
        CHECK(transfer.acceptedFor(UID_MRImageStorage).empty());
        const auto accepted = transfer.accepted();
        CHECK(std::none_of(accepted.begin(), accepted.end(), [](const auto& a) { return a.uid == UID_MRImageStorage; }));
    }
    const auto xml = readFile(file);
    CHECK(count(xml, "<sop-class>") == 2);
    CHECK(xml.find(UID_CTImageStorage) != std::string::npos);

    auto settings = ServerSettings::open(file);
    TransferSettings transfer(*settings);
    CHECK_FALSE(option(entryFor(transfer.list(), UID_CTImageStorage), "JPEGBaseline1"));
    CHECK(transfer.acceptedFor(UID_MRImageStorage).empty());

    // Back to the default: the entry goes away.
    REQUIRE(transfer.set(UID_CTImageStorage, "JPEGBaseline1", true));
    CHECK(transfer.acceptedFor(UID_CTImageStorage).size() == 14);
    CHECK(count(readFile(file), "<sop-class>") == 1);
}

TEST_CASE("TransferSettings: unknown SOP classes and option names change nothing", "[transfer]") {
    TempDir dir;
    auto settings = ServerSettings::open(dir.path() / "server.xml");
    TransferSettings transfer(*settings);
    const auto before = readFile(settings->file());
    CHECK_FALSE(transfer.set("1.2.3.4.5", "JPEGBaseline1", false));
    CHECK_FALSE(transfer.set(UID_CTImageStorage, "NoSuchSyntax", false));
    CHECK_FALSE(transfer.set(UID_CTImageStorage, "", true));
    CHECK(transfer.acceptedFor("1.2.3.4.5").empty());
    CHECK(readFile(settings->file()) == before);
}

TEST_CASE("TransferSettings: a Dicoogle-style file: default-ts, inheriting and refusing classes, additions",
          "[transfer]") {
    TempDir dir;
    const auto file = dir.path() / "server.xml";
    std::ofstream(file) << R"(<?xml version="1.0" encoding="UTF-8"?>
<config><dicom-services>
  <default-ts><ts>1.2.840.10008.1.2</ts><ts>1.2.840.10008.1.2.1</ts></default-ts>
  <sop-classes>
    <sop-class><uid>1.2.840.10008.5.1.4.1.1.2</uid></sop-class>
    <sop-class><uid>1.2.840.10008.5.1.4.1.1.4</uid><transfer-syntaxes/></sop-class>
    <sop-class><uid>1.2.840.10008.5.1.4.1.1.7</uid><transfer-syntaxes><ts>1.2.840.10008.1.2.4.50</ts><ts>9.9.9</ts></transfer-syntaxes></sop-class>
    <sop-class><uid>1.2.3.999</uid><transfer-syntaxes><ts>1.2.840.10008.1.2</ts></transfer-syntaxes></sop-class>
  </sop-classes>
  <additional-sop-classes><additional-sop-class uid="1.2.3.4.5.6" alias="MyPrivateStorage"/></additional-sop-classes>
</dicom-services></config>
)";
    auto settings = ServerSettings::open(file);
    TransferSettings transfer(*settings);
    const auto list = transfer.list();
    REQUIRE(!list.empty());
    CHECK(list.front().uid == "1.2.3.4.5.6");  // additional classes first
    CHECK(list.front().name == "MyPrivateStorage");
    CHECK(transfer.acceptedFor("1.2.3.4.5.6") ==
          std::vector<std::string>{UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax});
    CHECK(transfer.acceptedFor(UID_CTImageStorage).size() == 2);  // no list: inherits default-ts
    CHECK(transfer.acceptedFor(UID_MRImageStorage).empty());     // empty list: refused
    // An unknown transfer syntax is never offered (DCMTK could not read the data set).
    CHECK(transfer.acceptedFor(UID_SecondaryCaptureImageStorage) ==
          std::vector<std::string>{UID_JPEGProcess1TransferSyntax});
    CHECK(option(entryFor(list, UID_SecondaryCaptureImageStorage), "JPEGBaseline1"));
    CHECK_FALSE(option(entryFor(list, UID_SecondaryCaptureImageStorage), "ImplicitVRLittleEndian"));

    // Saving keeps the entries of classes it does not list (1.2.3.999).
    REQUIRE(transfer.set(UID_CTImageStorage, "RLELossless", true));
    const auto xml = readFile(file);
    CHECK(xml.find("1.2.3.999") != std::string::npos);
    CHECK(xml.find("9.9.9") != std::string::npos);
    CHECK(transfer.acceptedFor(UID_CTImageStorage).size() == 3);
}
