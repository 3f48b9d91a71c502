#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/stat.h>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"

using namespace tessera::core;
namespace fs = std::filesystem;

namespace {

const fs::path kSamples = TESSERA_SAMPLES_DIR;

using Row = tessera::test::ManifestRow;

const std::vector<Row>& loadManifest() { return tessera::test::Manifest::samples().rows(); }

// The shared expectation (tests/support) in the reader's own terms.
tessera::core::DicomReadStatus toReadStatus(tessera::test::SampleReadOutcome outcome) {
    switch (outcome) {
        case tessera::test::SampleReadOutcome::Ok: return tessera::core::DicomReadStatus::Ok;
        case tessera::test::SampleReadOutcome::Skipped: return tessera::core::DicomReadStatus::Skipped;
        case tessera::test::SampleReadOutcome::Error: return tessera::core::DicomReadStatus::Error;
    }
    return tessera::core::DicomReadStatus::Error;
}

using Snapshot = std::vector<std::tuple<std::uint32_t, std::string, std::string, std::string>>;

Snapshot snapshot(const tessera::sdk::DicomObjectView& view) {
    Snapshot out;
    view.forEachAttribute([&](const tessera::sdk::DicomAttribute& a) { out.emplace_back(a.tag, a.keyword, a.vr, a.value); });
    return out;
}

std::vector<std::uint8_t> fileBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void checkAgainstManifest(const Row& row, const tessera::sdk::DicomObjectView& view) {
    for (const auto& [column, keyword] : tessera::test::manifestAttributeColumns()) {
        INFO(row["file"] << " " << keyword);
        CHECK(view.getOr(keyword) == row[column]);
    }
    CHECK(view.getOr("SOPClassUID") == row["sop_class_uid"]);
}

// --- A tiny explicit VR little endian writer, for data sets the samples do not have. ---

std::string u16(std::uint16_t v) { return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; }
std::string u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v & 0xFFFF)) + u16(static_cast<std::uint16_t>(v >> 16)); }

bool longForm(const std::string& vr) {
    return vr == "OB" || vr == "OW" || vr == "OF" || vr == "SQ" || vr == "UN" || vr == "UT" || vr == "UC" || vr == "UR";
}

std::string element(std::uint16_t group, std::uint16_t elem, const std::string& vr, std::string value) {
    if (value.size() % 2 == 1) {
        value.push_back(vr == "UI" || vr == "OB" || vr == "UN" ? '\0' : ' ');
    }
    std::string out = u16(group) + u16(elem) + vr;
    out += longForm(vr) ? u16(0) + u32(static_cast<std::uint32_t>(value.size())) : u16(static_cast<std::uint16_t>(value.size()));
    return out + value;
}

std::string sequence(std::uint16_t group, std::uint16_t elem, const std::vector<std::string>& items) {
    std::string out = u16(group) + u16(elem) + "SQ" + u16(0) + u32(0xFFFFFFFF);
    for (const auto& item : items) {
        out += u16(0xFFFE) + u16(0xE000) + u32(0xFFFFFFFF) + item + u16(0xFFFE) + u16(0xE00D) + u32(0);
    }
    return out + u16(0xFFFE) + u16(0xE0DD) + u32(0);
}

std::string uids() {
    return element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7") + element(0x0008, 0x0018, "UI", "1.2.3.4.5");
}

std::string part10(const std::string& dataset, bool preamble = true) {
    std::string meta = element(0x0002, 0x0001, "OB", std::string("\0\1", 2)) +
                       element(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7") +
                       element(0x0002, 0x0003, "UI", "1.2.3.4.5") + element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
    meta = element(0x0002, 0x0000, "UL", u32(static_cast<std::uint32_t>(meta.size()))) + meta;
    return (preamble ? std::string(128, '\0') : std::string()) + "DICM" + meta + dataset;
}

DicomReadResult readString(const std::string& bytes) {
    return readDicomBytes(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

using tessera::test::TempDir;

}  // namespace

TEST_CASE("every storable sample reads Ok with the MANIFEST's values", "[dicom][reader][samples]") {
    int ok = 0;
    for (const Row& row : loadManifest()) {
        const std::string& group = row["group"];
        if (group != "core" && group != "variant") {
            continue;
        }
        INFO(row["file"]);
        const auto result = readDicomFile(kSamples / row["file"]);
        REQUIRE(result.status == DicomReadStatus::Ok);
        REQUIRE(result.object);
        CHECK(result.reason.empty());
        checkAgainstManifest(row, *result.object);
        ++ok;
    }
    CHECK(ok == 120);
}

TEST_CASE("DICOMDIR and non-storable objects are skipped with a reason", "[dicom][reader][samples]") {
    int skipped = 0;
    for (const Row& row : loadManifest()) {
        const std::string& group = row["group"];
        if (group != "dicomdir" && group != "non-storable") {
            continue;
        }
        INFO(row["file"]);
        const auto result = readDicomFile(kSamples / row["file"]);
        CHECK(result.status == DicomReadStatus::Skipped);
        CHECK_FALSE(result.object);
        if (group == "dicomdir") {
            CHECK(result.reason == "DICOMDIR is not a storable object");
        } else {
            CHECK(result.reason.find("no SOP") == 0);
        }
        ++skipped;
    }
    CHECK(skipped == 3);
}

TEST_CASE("malformed samples give a result and a reason, never a crash", "[dicom][reader][samples]") {
    std::map<std::string, DicomReadStatus> expected;
    for (const auto& [file, outcome] : tessera::test::malformedSampleOutcomes()) expected[file] = toReadStatus(outcome);
    int seen = 0;
    for (const Row& row : loadManifest()) {
        if (row["group"] != "malformed") {
            continue;
        }
        INFO(row["file"]);
        const auto result = readDicomFile(kSamples / row["file"]);
        REQUIRE(expected.count(row["file"]) == 1);
        CHECK(result.status == expected.at(row["file"]));
        if (result.status == DicomReadStatus::Ok) {
            REQUIRE(result.object);
            checkAgainstManifest(row, *result.object);
        } else {
            CHECK_FALSE(result.object);
            CHECK_FALSE(result.reason.empty());
        }
        ++seen;
    }
    CHECK(seen == 9);
    const auto badIs = readDicomFile(kSamples / "malformed/RTDOSE_bad_IS_value.dcm");
    REQUIRE(badIs.object);
    CHECK(badIs.object->get("NumberOfFrames") == "1A");  // kept as stored; not ours to judge
}

TEST_CASE("readDicomBytes gives what readDicomFile gives, for every sample", "[dicom][reader][samples]") {
    for (const Row& row : loadManifest()) {
        INFO(row["file"]);
        const fs::path path = kSamples / row["file"];
        const auto fromFile = readDicomFile(path);
        const auto bytes = fileBytes(path);
        const auto fromBytes = readDicomBytes(bytes);
        REQUIRE(fromFile.status == fromBytes.status);
        CHECK(fromFile.reason == fromBytes.reason);
        if (fromFile.object) {
            REQUIRE(fromBytes.object);
            CHECK(snapshot(*fromFile.object) == snapshot(*fromBytes.object));
        }
    }
}

TEST_CASE("text is decoded by the sample's character set", "[dicom][reader][samples]") {
    const auto japanese = readDicomFile(kSamples / "charsets/chrH31_ISO2022_IR87.dcm");
    REQUIRE(japanese.object);
    CHECK(japanese.object->get("PatientName") == "Yamada^Tarou=山田^太郎=やまだ^たろう");
    CHECK(japanese.object->get("SpecificCharacterSet") == "\\ISO 2022 IR 87");
    const auto multi = readDicomFile(kSamples / "charsets/CR_chrJapMulti.dcm");
    REQUIRE(multi.object);
    CHECK(multi.object->get("PatientName") == "やまだ^たろう");
    const auto gb = readDicomFile(kSamples / "charsets/chrX2_GB18030.dcm");
    REQUIRE(gb.object);
    CHECK(gb.object->get("PatientName") == "Wang^XiaoDong=王^小东=");
}

TEST_CASE("nested attributes are flattened and every item is visited", "[dicom][reader][samples]") {
    SECTION("icon image sequence") {
        const auto result = readDicomFile(kSamples / "images/SC_with_icon_sequence.dcm");
        REQUIRE(result.object);
        CHECK(result.object->get("IconImageSequence_Rows") == "128");
        CHECK(result.object->get("IconImageSequence_PhotometricInterpretation") == "MONOCHROME2");
        bool sawSequenceElement = false;
        result.object->forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
            sawSequenceElement |= a.keyword == "IconImageSequence" || a.vr == "SQ";
            CHECK(a.vr != "OB");
            CHECK(a.vr != "OW");
        });
        CHECK_FALSE(sawSequenceElement);
    }
    SECTION("SR content tree") {
        const auto result = readDicomFile(kSamples / "non-image/SR_comprehensive.dcm");
        REQUIRE(result.object);
        int relationshipTypes = 0;
        int nestedCodes = 0;
        result.object->forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
            relationshipTypes += a.keyword == "ContentSequence_RelationshipType";
            nestedCodes += a.keyword == "ContentSequence_ConceptNameCodeSequence_CodeValue";
        });
        CHECK(relationshipTypes > 1);  // several items of the top-level content sequence
        CHECK(nestedCodes > 1);
        CHECK(result.object->get("ContentSequence_RelationshipType") == "HAS OBS CONTEXT");  // first item
        CHECK(result.object->get("VerifyingObserverSequence_VerifyingObserverName") == "Riesmeier^Jörg");
    }
}

TEST_CASE("attributes stored as UN are read through the dictionary", "[dicom][reader][samples]") {
    const auto result = readDicomFile(kSamples / "ts-variants/RTDOSE/RTDOSE_15frames_rle.dcm");
    REQUIRE(result.object);
    CHECK(result.object->get("PatientName") == "Lastname^Firstname");
    const auto reference = readDicomFile(kSamples / "multiframe/RTDOSE_15frames.dcm");
    REQUIRE(reference.object);
    for (const char* keyword : {"Rows", "Columns", "BitsAllocated", "DoseGridScaling", "GridFrameOffsetVector"}) {
        INFO(keyword);
        CHECK(result.object->get(keyword) == reference.object->get(keyword));
    }
}

TEST_CASE("synthetic data sets: nesting, charsets per item, numbers, private tags, trimming", "[dicom][reader]") {
    const std::string item1 = element(0x0008, 0x0100, "SH", "C1") + element(0x0008, 0x0104, "LO", "first");
    const std::string item2 = element(0x0008, 0x0100, "SH", "C2");
    const std::string item3 = element(0x0008, 0x0100, "SH", "C3") + element(0x0008, 0x0102, "SH", "only-third");
    const std::string cyrillicItem =
        element(0x0008, 0x0005, "CS", "ISO_IR 144") + element(0x0010, 0x0010, "PN", "\xbb\xee^\xda");
    const std::string icon = element(0x0028, 0x0010, "US", u16(4)) + element(0x7FE0, 0x0010, "OB", std::string(16, '\x7f'));
    const std::string dataset =
        element(0x0008, 0x0005, "CS", "ISO_IR 100") + element(0x0008, 0x0008, "CS", "ORIGINAL \\PRIMARY ") + uids() +
        element(0x0008, 0x0050, "SH", " A1 ") + element(0x0008, 0x0090, "PN", "") +
        sequence(0x0008, 0x1032, {item1, item2, item3}) + element(0x0009, 0x0010, "LO", "ACME") +
        element(0x0009, 0x1001, "LO", "secret") + element(0x0010, 0x0010, "PN", "J\xe9r\xf4me^Buc") +
        sequence(0x0010, 0x1002, {cyrillicItem}) + element(0x0010, 0x4000, "LT", "  indented text  ") +
        element(0x0018, 0x9089, "FD", std::string("\0\0\0\0\0\0\xe0\x3f\0\0\0\0\0\0\xf0\xbf\0\0\0\0\0\0\x02\x40", 24)) +
        element(0x0020, 0x0013, "UN", "7 ") + element(0x0028, 0x0009, "AT", u16(0x0018) + u16(0x1063)) +
        element(0x0028, 0x0010, "UN", u16(512)) + element(0x0028, 0x0106, "SS", u16(static_cast<std::uint16_t>(-5))) +
        sequence(0x0088, 0x0200, {icon}) + element(0x2050, 0x0020, "CS", "IDENTITY") +
        element(0x7FE0, 0x0010, "OB", std::string(8, '\1')) + element(0x7FE1, 0x0010, "LO", "AFTER PIXELS");

    for (bool preamble : {true, false}) {
        INFO("preamble " << preamble);
        const auto result = readString(part10(dataset, preamble));
        REQUIRE(result.status == DicomReadStatus::Ok);
        const auto& view = *result.object;
        CHECK(view.get("TransferSyntaxUID") == "1.2.840.10008.1.2.1");
        CHECK(view.get("ImageType") == "ORIGINAL\\PRIMARY");
        CHECK(view.get("AccessionNumber") == "A1");
        CHECK(view.get("ReferringPhysicianName") == "");
        CHECK_FALSE(view.get("PatientBirthDate"));
        CHECK(view.get("PatientName") == "Jérôme^Buc");
        CHECK(view.get("OtherPatientIDsSequence_PatientName") == "Лю^к");  // the item's own charset
        CHECK(view.get("PatientComments") == "  indented text");
        CHECK(view.get("DiffusionGradientOrientation") == "0.5\\-1\\2.25");
        CHECK(view.get("InstanceNumber") == "7");  // UN read as IS
        CHECK(view.get("Rows") == "512");          // UN read as US
        CHECK(view.get("FrameIncrementPointer") == "0018,1063");
        CHECK(view.get("SmallestImagePixelValue") == "-5");
        CHECK(view.get("0009,0010") == "ACME");
        CHECK(view.get("0009,1001") == "secret");
        // Nested PixelData does not stop the reading; the top-level one does.
        CHECK(view.get("IconImageSequence_Rows") == "4");
        CHECK(view.get("PresentationLUTShape") == "IDENTITY");
        CHECK_FALSE(view.get("7fe1,0010"));
        CHECK(view.get("ProcedureCodeSequence_CodeValue") == "C1");
        CHECK(view.get("ProcedureCodeSequence_CodingSchemeDesignator") == "only-third");

        std::vector<std::string> codes;
        std::map<std::string, std::string> vrs;
        view.forEachAttribute([&](const tessera::sdk::DicomAttribute& a) {
            if (a.keyword == "ProcedureCodeSequence_CodeValue") {
                codes.push_back(a.value);
                CHECK(a.tag == 0x00080100u);
            }
            vrs[a.keyword] = a.vr;
        });
        CHECK(codes == std::vector<std::string>{"C1", "C2", "C3"});
        CHECK(vrs["InstanceNumber"] == "IS");
        CHECK(vrs["Rows"] == "US");
        CHECK(vrs.count("PixelData") == 0);
        CHECK(vrs.count("IconImageSequence_PixelData") == 0);
        CHECK(vrs.count("ProcedureCodeSequence") == 0);
    }

    SECTION("a bare data set (no meta) reads the same, minus the meta attributes") {
        const auto withMeta = readString(part10(dataset));
        const auto bare = readString(dataset);
        REQUIRE(bare.status == DicomReadStatus::Ok);
        Snapshot expected;
        for (const auto& attribute : snapshot(*withMeta.object)) {
            if (std::get<0>(attribute) >> 16 != 0x0002) {
                expected.push_back(attribute);
            }
        }
        CHECK(snapshot(*bare.object) == expected);
    }
}

TEST_CASE("values over the length limit are not offered, the rest is", "[dicom][reader]") {
    const std::string big(kMaxDicomValueLength + 2, 'x');
    const std::string dataset = uids() + element(0x0010, 0x0010, "PN", "Doe") + element(0x0040, 0xA160, "UT", big) +
                                element(0x0040, 0xDB00, "CS", "1500");
    std::vector<DicomReadResult> results;
    results.push_back(readString(part10(dataset)));
    results.push_back(readString(dataset));
    for (const auto& result : results) {
        REQUIRE(result.status == DicomReadStatus::Ok);
        CHECK(result.object->get("PatientName") == "Doe");
        CHECK_FALSE(result.object->get("TextValue"));
        CHECK(result.object->get("TemplateIdentifier") == "1500");
    }
    TempDir dir;
    {
        std::ofstream(dir.path() / "big.dcm", std::ios::binary) << part10(dataset);
    }
    const auto fromFile = readDicomFile(dir.path() / "big.dcm");
    REQUIRE(fromFile.status == DicomReadStatus::Ok);
    CHECK_FALSE(fromFile.object->get("TextValue"));
    CHECK(fromFile.object->get("TemplateIdentifier") == "1500");
}

TEST_CASE("bad input is an Error or Skipped with a reason, never an exception", "[dicom][reader]") {
    const std::string good = part10(uids() + element(0x0010, 0x0010, "PN", "Doe^John") + element(0x0010, 0x0020, "LO", "ID42"));
    REQUIRE(readString(good).status == DicomReadStatus::Ok);

    SECTION("empty") {
        const auto result = readDicomBytes({});
        CHECK(result.status == DicomReadStatus::Error);
        CHECK_FALSE(result.reason.empty());
    }
    SECTION("every truncation of a valid file") {
        for (std::size_t length = 1; length < good.size(); ++length) {
            INFO(length);
            const auto result = readString(good.substr(0, length));
            if (result.status == DicomReadStatus::Ok) {
                // A cut exactly between elements still leaves a valid (shorter) data set.
                CHECK(result.object->get("SOPInstanceUID") == "1.2.3.4.5");
            } else {
                CHECK_FALSE(result.reason.empty());
            }
        }
        const auto cut = readString(good.substr(0, good.size() - 3));
        CHECK(cut.status == DicomReadStatus::Error);
        CHECK(cut.reason.rfind("truncated", 0) == 0);
    }
    SECTION("missing SOPInstanceUID") {
        const auto result = readString(part10(element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7") +
                                              element(0x0010, 0x0010, "PN", "Doe")));
        CHECK(result.status == DicomReadStatus::Skipped);
        CHECK(result.reason == "no SOPInstanceUID: not a storable object");
    }
    SECTION("a huge declared length") {
        const std::string dataset = uids() + u16(0x0010) + u16(0x0010) + "UT" + u16(0) + u32(0xFFFFFFF0) + "abc";
        const auto result = readString(part10(dataset));
        CHECK(result.status == DicomReadStatus::Error);
    }
    SECTION("random bytes and text") {
        std::mt19937 random(42);
        for (int round = 0; round < 200; ++round) {
            std::string noise(static_cast<std::size_t>(random() % 600), '\0');
            for (auto& c : noise) {
                c = static_cast<char>(random());
            }
            const bool withHeader = round % 2 == 0;
            const auto result = readString(withHeader ? part10(noise) : noise);
            if (result.status != DicomReadStatus::Ok) {
                CHECK_FALSE(result.reason.empty());
            }
        }
        CHECK(readString("hello, this is not DICOM at all\n").status == DicomReadStatus::Error);
        CHECK(readString(std::string(4096, '\0')).status == DicomReadStatus::Error);
    }
    SECTION("deep nesting") {
        std::string nested = element(0x0008, 0x0100, "SH", "leaf");
        for (int depth = 0; depth < 100; ++depth) {
            nested = sequence(0x0040, 0xA730, {nested});
        }
        const auto result = readString(part10(uids() + nested));
        REQUIRE(result.status == DicomReadStatus::Ok);
        CHECK(result.object->get("SOPInstanceUID") == "1.2.3.4.5");
    }
}

TEST_CASE("readDicomFile on paths that are not DICOM files", "[dicom][reader]") {
    TempDir dir;
    CHECK(readDicomFile(dir.path() / "missing.dcm").status == DicomReadStatus::Error);
    CHECK(readDicomFile(dir.path()).status == DicomReadStatus::Error);
    {
        std::ofstream(dir.path() / "empty.dcm");
        std::ofstream(dir.path() / "text.txt") << "just some text, long enough to look like a header maybe\n";
    }
    for (const char* name : {"empty.dcm", "text.txt"}) {
        INFO(name);
        const auto result = readDicomFile(dir.path() / name);
        CHECK(result.status == DicomReadStatus::Error);
        CHECK_FALSE(result.reason.empty());
    }
    // A meta header without the preamble, as a file.
    const std::string dataset = uids() + element(0x0010, 0x0010, "PN", "No^Preamble");
    {
        std::ofstream(dir.path() / "nopreamble.dcm", std::ios::binary) << part10(dataset, false);
    }
    const auto result = readDicomFile(dir.path() / "nopreamble.dcm");
    REQUIRE(result.status == DicomReadStatus::Ok);
    CHECK(result.object->get("PatientName") == "No^Preamble");
    CHECK(result.object->get("MediaStorageSOPInstanceUID") == "1.2.3.4.5");
}

TEST_CASE("reading and querying from several threads at once", "[dicom][reader][samples]") {
    std::vector<fs::path> files;
    for (const Row& row : loadManifest()) {
        files.push_back(kSamples / row["file"]);
    }
    const auto shared = readDicomFile(kSamples / "charsets/chrH31_ISO2022_IR87.dcm");
    REQUIRE(shared.object);
    std::vector<DicomReadStatus> first(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        first[i] = readDicomFile(files[i]).status;
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::size_t i = static_cast<std::size_t>(t); i < files.size(); i += 2) {
                if (readDicomFile(files[i]).status != first[i]) {
                    ++mismatches;
                }
                if (shared.object->getOr("PatientName") != "Yamada^Tarou=山田^太郎=やまだ^たろう") {
                    ++mismatches;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(mismatches == 0);
}

TEST_CASE("small files read from memory and large files read by DCMTK give the same view", "[dicom][reader]") {
    // readDicomFile reads files up to 256 KB whole and parses them from memory; larger ones are
    // parsed from the file up to PixelData. The same header must come out of both, and the
    // pixel data of neither.
    const std::string header = uids() + element(0x0008, 0x0005, "CS", "ISO_IR 100") +
                               element(0x0010, 0x0010, "PN", "M\xfcller^J\xfcrgen") + element(0x0010, 0x0020, "LO", "ID42") +
                               sequence(0x0008, 0x1115, {element(0x0020, 0x000E, "UI", "1.2.3.9")});
    TempDir dir;
    const auto write = [&](const std::string& name, std::size_t pixelBytes) {
        std::ofstream(dir.path() / name, std::ios::binary)
            << part10(header + element(0x7FE0, 0x0010, "OB", std::string(pixelBytes, '\x5a')));
        return dir.path() / name;
    };
    const auto small = write("small.dcm", 1000);
    const auto atLimit = write("at-limit.dcm", 256 * 1024 - fs::file_size(small) + 1000);
    const auto large = write("large.dcm", 600 * 1024);
    REQUIRE(fs::file_size(atLimit) == 256 * 1024);
    REQUIRE(fs::file_size(large) > 256 * 1024);

    const auto fromSmall = readDicomFile(small);
    REQUIRE(fromSmall.status == DicomReadStatus::Ok);
    CHECK(fromSmall.object->get("PatientName") == "M\u00fcller^J\u00fcrgen");
    CHECK(fromSmall.object->get("ReferencedSeriesSequence_SeriesInstanceUID") == "1.2.3.9");
    CHECK_FALSE(fromSmall.object->get("PixelData"));
    for (const auto& path : {atLimit, large}) {
        INFO(path.filename());
        const auto result = readDicomFile(path);
        REQUIRE(result.status == DicomReadStatus::Ok);
        CHECK(snapshot(*result.object) == snapshot(*fromSmall.object));
    }
    // Reading a small file after a large one on the same thread reuses nothing stale.
    const auto again = readDicomFile(small);
    REQUIRE(again.status == DicomReadStatus::Ok);
    CHECK(snapshot(*again.object) == snapshot(*fromSmall.object));

    // Truncated inside the header: the same reason from the file as from the bytes.
    const std::string truncated = part10(header).substr(0, part10(header).size() - 5);
    {
        std::ofstream(dir.path() / "truncated.dcm", std::ios::binary) << truncated;
    }
    const auto fromFile = readDicomFile(dir.path() / "truncated.dcm");
    const auto fromBytes = readString(truncated);
    CHECK(fromFile.status == DicomReadStatus::Error);
    CHECK(fromFile.status == fromBytes.status);
    CHECK(fromFile.reason == fromBytes.reason);
}

TEST_CASE("readDicomFile on a FIFO returns an error instead of blocking", "[dicom][reader]") {
    TempDir dir;
    const auto fifo = dir.path() / "pipe.dcm";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Nobody ever writes to the FIFO: a blocking open or read would hang this test.
    const auto result = readDicomFile(fifo);
    CHECK(result.status == DicomReadStatus::Error);
    CHECK(result.reason == "cannot open: not a regular file");
}
