#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "tessera/core/dicom/dicom_dictionary.hpp"

using namespace tessera::core;

TEST_CASE("the DICOM dictionary is loaded", "[dicom][dictionary]") {
    REQUIRE(dictionaryLoaded());
}

TEST_CASE("keywords map to tags and back", "[dicom][dictionary]") {
    CHECK(tagForKeyword("PatientName") == 0x00100010u);
    CHECK(tagForKeyword("SOPInstanceUID") == 0x00080018u);
    CHECK(tagForKeyword("PixelData") == 0x7FE00010u);
    CHECK(keywordForTag(0x00100010) == "PatientName");
    CHECK(keywordForTag(0x0020000D) == "StudyInstanceUID");
    CHECK(keywordForTag(0x00020010) == "TransferSyntaxUID");
}

TEST_CASE("unknown, private and malformed lookups are empty", "[dicom][dictionary]") {
    CHECK_FALSE(tagForKeyword("NoSuchKeyword"));
    CHECK_FALSE(tagForKeyword(""));
    CHECK_FALSE(tagForKeyword("patientname"));  // keywords are case-sensitive
    CHECK_FALSE(tagForKeyword("PatientName "));
    CHECK_FALSE(keywordForTag(0x00091001));  // private
    CHECK_FALSE(keywordForTag(0x00290010));  // private creator
    CHECK_FALSE(keywordForTag(0x0010FFFE));  // not in the standard
    CHECK_FALSE(vrForKeyword("NoSuchKeyword"));
}

TEST_CASE("retired attributes use the DICOM keyword, without DCMTK's prefix", "[dicom][dictionary]") {
    CHECK(keywordForTag(0x00080001) == "LengthToEnd");
    CHECK(tagForKeyword("LengthToEnd") == 0x00080001u);
    CHECK_FALSE(tagForKeyword("RETIRED_LengthToEnd"));
}

TEST_CASE("repeating groups resolve to their keyword", "[dicom][dictionary]") {
    CHECK(keywordForTag(0x60000010) == "OverlayRows");
    CHECK(keywordForTag(0x60020010) == "OverlayRows");
    CHECK_FALSE(keywordForTag(0x60010010));  // odd group: private, not an overlay
    CHECK(tagForKeyword("OverlayRows") == 0x60000010u);
}

TEST_CASE("VRs are two valid letters", "[dicom][dictionary]") {
    CHECK(vrForKeyword("PatientName") == "PN");
    CHECK(vrForKeyword("StudyDate") == "DA");
    CHECK(vrForKeyword("Rows") == "US");
    CHECK(vrForKeyword("ContentSequence") == "SQ");
    CHECK(vrForKeyword("SmallestImagePixelValue") == "US");  // US or SS in the dictionary
    CHECK(vrForTag(0x00100020) == "LO");
    CHECK_FALSE(vrForTag(0x00091001));
}

TEST_CASE("allKeywords lists every public keyword once, sorted", "[dicom][dictionary]") {
    const auto keywords = allKeywords();
    CHECK(keywords.size() > 4000);
    CHECK(std::is_sorted(keywords.begin(), keywords.end()));
    CHECK(std::adjacent_find(keywords.begin(), keywords.end()) == keywords.end());
    for (const char* expected : {"PatientName", "StudyInstanceUID", "OverlayRows", "LengthToEnd"}) {
        CHECK(std::binary_search(keywords.begin(), keywords.end(), std::string(expected)));
    }
    CHECK_FALSE(std::binary_search(keywords.begin(), keywords.end(), std::string("Item")));
    for (const auto& keyword : keywords) {
        INFO(keyword);
        REQUIRE_FALSE(keyword.empty());
        REQUIRE(keyword.rfind("RETIRED_", 0) == std::string::npos);
        const auto tag = tagForKeyword(keyword);
        REQUIRE(tag);
        REQUIRE(vrForKeyword(keyword).value_or("").size() == 2);
    }
}
