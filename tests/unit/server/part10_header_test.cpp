// parsePart10Header (dicom/instance_source.hpp): the meta header read a C-MOVE does per instance
// instead of a DCMTK parse, against DCMTK's own reading of real sample files, and bad input.
#include <catch2/catch.hpp>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "dicom/instance_source.hpp"

namespace fs = std::filesystem;
using tessera::server::parsePart10Header;

namespace {

std::string readAll(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A Part 10 prefix: preamble, DICM, then the given group 0002 elements.
std::string part10(const std::string& elements) {
    return std::string(128, '\0') + "DICM" + elements;
}

std::string element(std::uint16_t number, const char* vr, const std::string& value) {
    std::string out = {0x02, 0x00, static_cast<char>(number & 0xFF), static_cast<char>(number >> 8), vr[0], vr[1]};
    out += static_cast<char>(value.size() & 0xFF);
    out += static_cast<char>(value.size() >> 8);
    return out + value;
}

const std::string kDataSet = std::string("\x08\x00\x18\x00UI\x04\x00", 8) + "1.2" + '\0';

}  // namespace

TEST_CASE("parsePart10Header agrees with DCMTK on the sample images", "[part10]") {
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(TESSERA_SAMPLES_DIR) / "images")) {
        DcmFileFormat format;
        if (format.loadFile(OFFilename(entry.path().c_str()), EXS_Unknown, EGL_noChange, 0, ERM_metaOnly).bad())
            continue;
        OFString sopClass, sopInstance, transferSyntax;
        format.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
        format.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sopInstance);
        format.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, transferSyntax);
        const std::string bytes = readAll(entry.path());
        const auto header = parsePart10Header(bytes.data(), bytes.size());
        INFO(entry.path().string());
        if (sopClass.empty() || transferSyntax.empty()) {
            CHECK_FALSE(header);
            continue;
        }
        REQUIRE(header);
        CHECK(header->sopClassUid == sopClass.c_str());
        CHECK(header->sopInstanceUid == sopInstance.c_str());
        CHECK(header->transferSyntaxUid == transferSyntax.c_str());
        // The data set starts right after the meta group, whose length (0002,0000) gives.
        Uint32 groupLength = 0;
        if (format.getMetaInfo()->findAndGetUint32(DCM_FileMetaInformationGroupLength, groupLength).good())
            CHECK(header->dataSetOffset == 132 + 12 + groupLength);
        ++checked;
    }
    CHECK(checked >= 5);
}

TEST_CASE("parsePart10Header: long VRs, padding, and where the data set starts", "[part10]") {
    const std::string meta = element(0x0001, "OB", "") + element(0x0002, "UI", std::string("1.2.3") + '\0') +
                             element(0x0003, "UI", "1.2.3.4 ") + element(0x0010, "UI", std::string("1.2.840.10008.1.2.1") + '\0');
    // OB has a 4-byte length after two reserved bytes.
    std::string ob = {0x02, 0x00, 0x01, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 0, 1};
    const std::string bytes = part10(ob + meta.substr(8) + kDataSet);
    const auto header = parsePart10Header(bytes.data(), bytes.size());
    REQUIRE(header);
    CHECK(header->sopClassUid == "1.2.3");
    CHECK(header->sopInstanceUid == "1.2.3.4");
    CHECK(header->transferSyntaxUid == "1.2.840.10008.1.2.1");
    CHECK(header->dataSetOffset == bytes.size() - kDataSet.size());
}

TEST_CASE("parsePart10Header refuses what is not a usable Part 10 header", "[part10]") {
    const std::string good = element(0x0002, "UI", "1.2") + element(0x0010, "UI", "1.2");
    auto parse = [](const std::string& bytes) { return parsePart10Header(bytes.data(), bytes.size()); };
    CHECK(parse(part10(good + kDataSet)));
    CHECK_FALSE(parse(""));
    CHECK_FALSE(parse(std::string(200, 'x')));                       // no DICM
    CHECK_FALSE(parse(std::string(132, '\0') + good + kDataSet));    // DICM missing at 128
    CHECK_FALSE(parse(part10(good)));                                // no data set after the meta group
    CHECK_FALSE(parse(part10(good).substr(0, 150)));                 // cut inside an element
    CHECK_FALSE(parse(part10(element(0x0002, "UI", "1.2") + kDataSet)));  // no transfer syntax
    CHECK_FALSE(parse(part10(element(0x0010, "UI", "1.2") + kDataSet)));  // no SOP class
    // A length running past the end.
    std::string bad = element(0x0002, "UI", "1.2") + element(0x0010, "UI", "1.2");
    bad[6] = static_cast<char>(0xF0);
    CHECK_FALSE(parse(part10(bad + kDataSet)));
    // An undefined length in the meta group.
    const std::string undefined = std::string("\x02\x00\x01\x00OB\x00\x00\xFF\xFF\xFF\xFF", 12);
    CHECK_FALSE(parse(part10(undefined + good + kDataSet)));
}
