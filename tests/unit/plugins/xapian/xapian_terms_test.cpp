// Term generation, normalisation, the stored-document codec, the field catalogue and the
// any-value range matching: the pieces both the writer and the query compiler rely on.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_codec.hpp"
#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "xapian_test_support.hpp"

using namespace tessera::plugins::xapian;

TEST_CASE("lowerCase is Unicode-aware and keeps invalid bytes", "[xapian][terms]") {
    CHECK(lowerCase("SMITH^JOHN") == "smith^john");
    CHECK(lowerCase("MÜLLER^JÜRGEN") == "müller^jürgen");
    CHECK(lowerCase("ΣΩΚΡΆΤΗΣ") == "σωκράτησ");  // no final-sigma rule, but consistent both ways
    CHECK(lowerCase("") == "");
    CHECK(lowerCase("1.2.840") == "1.2.840");
    const std::string invalid = "A\xff" "B";
    CHECK_NOTHROW(lowerCase(invalid));
    CHECK(lowerCase(invalid).front() == 'a');
    // ASCII before and after the first non-ASCII byte; the buffer's old content never leaks.
    std::string out = "previous content, longer than the value";
    lowerCaseInto("AB\xc3\x9c" "CD", out);
    CHECK(out == "ab\xc3\xbc" "cd");
    lowerCaseInto("XY", out);
    CHECK(out == "xy");
    lowerCaseInto("", out);
    CHECK(out.empty());
}

TEST_CASE("words split names and punctuation but keep UIDs and decimals", "[xapian][terms]") {
    using V = std::vector<std::string>;
    CHECK(words("smith^john") == V{"smith", "john"});
    CHECK(words("doe^jane^^dr") == V{"doe", "jane", "dr"});
    CHECK(words("yamada^tarou=山田^太郎") == V{"yamada", "tarou", "山田", "太郎"});
    CHECK(words("1.2.840.10008.5.1.4.1.1.2") == V{"1.2.840.10008.5.1.4.1.1.2"});
    CHECK(words("5.000000") == V{"5.000000"});
    CHECK(words("ct head w/o contrast") == V{"ct", "head", "w", "o", "contrast"});
    CHECK(words("impression: no acute fracture.") == V{"impression", "no", "acute", "fracture"});
    CHECK(words("o'brien, pat") == V{"o'brien", "pat"});
    CHECK(words("original\\primary") == V{"original", "primary"});
    CHECK(words("  ").empty());
    CHECK(words("").empty());
    CHECK(words("...").empty());
}

TEST_CASE("words splits ASCII exactly where Xapian's word characters end", "[xapian][terms]") {
    // The writer answers ASCII from its own table: every ASCII character, alone and between two
    // letters, must split (or not) the way Xapian::Unicode::is_wordchar says.
    for (unsigned c = 1; c < 128; ++c) {
        const std::string ch(1, static_cast<char>(c));
        const bool wordChar = Xapian::Unicode::is_wordchar(c);
        INFO("character " << c);
        CHECK(words(ch).size() == (wordChar ? 1u : 0u));
        const auto between = words("a" + ch + "b");
        const bool joins = wordChar || c == '.' || c == ',' || c == '\'';
        CHECK(between.size() == (joins ? 1u : 2u));
    }
    // Non-ASCII still goes through Xapian: letters join, a no-break space and a dash split.
    using V = std::vector<std::string>;
    CHECK(words("é\xc2\xa0ü") == V{"é", "ü"});
    CHECK(words("naïve—text") == V{"naïve", "text"});
}

TEST_CASE("isFreeTextVr takes text VRs and refuses the others", "[xapian][terms]") {
    for (const char* vr : {"UI", "IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "AT", "OB", "OW", "OF", "OD",
                           "OL", "OV", "UN", "SQ"})
        CHECK_FALSE(isFreeTextVr(vr));
    for (const char* vr : {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT", "ui", "U",
                           "UIX", "", "XX"})
        CHECK(isFreeTextVr(vr));
}

TEST_CASE("splitValues splits multi-values and trims", "[xapian][terms]") {
    using V = std::vector<std::string>;
    CHECK(splitValues("ORIGINAL\\PRIMARY\\AXIAL") == V{"ORIGINAL", "PRIMARY", "AXIAL"});
    CHECK(splitValues(" 5 \\6") == V{"5", "6"});
    CHECK(splitValues("") == V{""});
    CHECK(splitValues("a\\") == V{"a", ""});
}

TEST_CASE("terms stay under Xapian's limit and stay exact", "[xapian][terms]") {
    CHECK(exactTerm("PatientID", "1ct1") == "XPatientID#1ct1");
    CHECK(wordTerm("PatientName", "smith") == "WPatientName#smith");
    CHECK(presenceTerm("PatientName") == "PPatientName");
    CHECK(idTerm("file:/a.dcm") == "Qfile:/a.dcm");
    CHECK(freeTextTerm("smith") == "smith");
    CHECK_FALSE(isHashedTerm(exactTerm("PatientID", "1ct1")));

    const std::string longA(1000, 'a');
    const std::string longB = longA + "b";
    const auto a = exactTerm("ImageComments", longA);
    const auto b = exactTerm("ImageComments", longB);
    CHECK(a.size() <= kMaxTermBytes);
    CHECK(b.size() <= kMaxTermBytes);
    CHECK(a != b);
    CHECK(a == exactTerm("ImageComments", longA));
    CHECK(isHashedTerm(a));
    CHECK(a.rfind("XImageComments#aaaa", 0) == 0);  // a trailing wildcard on the start still works

    // Cut at a character boundary: the kept text is valid UTF-8.
    std::string accents;
    for (int i = 0; i < 300; ++i) accents += "é";
    const auto t = exactTerm("StudyDescription", accents);
    CHECK(t.size() <= kMaxTermBytes);
    const std::string kept = t.substr(exactPrefix("StudyDescription").size(), t.size() - exactPrefix("StudyDescription").size() - 17);
    CHECK(kept.size() % 2 == 0);

    const std::string longUri = "file:/" + std::string(600, 'd') + "/x.dcm";
    CHECK(idTerm(longUri).size() <= kMaxTermBytes);
    CHECK(idTerm(longUri) != idTerm(longUri + "2"));
}

TEST_CASE("dates, times and numbers normalise", "[xapian][terms]") {
    CHECK(normaliseForTerm(FieldKind::Date, "2016.01.05") == "20160105");
    CHECK(normaliseForTerm(FieldKind::Date, "2016-01-05") == "20160105");
    CHECK(normaliseForTerm(FieldKind::Date, "20160105") == "20160105");
    CHECK(normaliseForTerm(FieldKind::Date, "2016.1.5") == "2016.1.5");  // not a legacy date: untouched
    CHECK(normaliseForTerm(FieldKind::Time, "14:20:00") == "142000");
    CHECK(normaliseForTerm(FieldKind::Time, "14:20:00.5") == "142000.5");
    CHECK(normaliseForTerm(FieldKind::Text, "14:20:00") == "14:20:00");

    CHECK(parseNumber("5.000000") == 5.0);
    CHECK(parseNumber(" +5 ") == 5.0);
    CHECK(parseNumber("-1.5e2") == -150.0);
    CHECK_FALSE(parseNumber(""));
    CHECK_FALSE(parseNumber("five"));
    CHECK_FALSE(parseNumber("5x"));
    CHECK_FALSE(parseNumber("nan"));
    CHECK_FALSE(parseNumber("inf"));

    CHECK(sortableKey(FieldKind::Numeric, "5") == sortableKey(FieldKind::Numeric, "5.000000"));
    CHECK(*sortableKey(FieldKind::Numeric, "10") > *sortableKey(FieldKind::Numeric, "9"));
    CHECK(*sortableKey(FieldKind::Numeric, "-10") < *sortableKey(FieldKind::Numeric, "-9"));
    CHECK_FALSE(sortableKey(FieldKind::Numeric, "abc"));
    CHECK(sortableKey(FieldKind::Time, "0930") == "093000");
    CHECK(sortableKey(FieldKind::Time, "09") == "090000");
    CHECK(sortableKey(FieldKind::Time, "09:30") == "093000");
    CHECK(sortableKey(FieldKind::Time, "093000.25") == "093000.25");
    CHECK(sortableKey(FieldKind::Date, "2015.03.10") == "20150310");
    CHECK_FALSE(sortableKey(FieldKind::Date, ""));
    CHECK_FALSE(sortableKey(FieldKind::Text, "x"));
    // hasSortableKey answers as sortableKey does, without the key.
    for (FieldKind kind : {FieldKind::Numeric, FieldKind::Date, FieldKind::Time, FieldKind::DateTime, FieldKind::Text})
        for (const char* value : {"", " ", "5", " 5 ", "+5", "-1.5e2", "abc", "nan", "::", " : ", "09:30", "0930", "09:3x",
                                  "2015.03.10", "20150310", "2015-03-10", "20150310093000", "\xc3\x9c"})
            CHECK(hasSortableKey(kind, value) == sortableKey(kind, value).has_value());

    CHECK(kindForVr("DS") == FieldKind::Numeric);
    CHECK(kindForVr("US") == FieldKind::Numeric);
    CHECK(kindForVr("DA") == FieldKind::Date);
    CHECK(kindForVr("TM") == FieldKind::Time);
    CHECK(kindForVr("DT") == FieldKind::DateTime);
    CHECK(kindForVr("PN") == FieldKind::Text);
    CHECK(kindForVr("") == FieldKind::Text);
    CHECK(isFreeTextVr("PN"));
    CHECK(isFreeTextVr("LO"));
    CHECK_FALSE(isFreeTextVr("UI"));
    CHECK_FALSE(isFreeTextVr("DS"));
}

TEST_CASE("document codec round-trips and refuses damaged data", "[xapian][codec]") {
    DocumentEncoder encoder("file:/a b/ü.dcm");
    encoder.add(1, "SMITH^JOHN");
    encoder.add(300, "");
    encoder.add(70000, std::string(1000, 'x'));
    const std::string data = encoder.data();
    auto decoded = decodeDocument(data);
    REQUIRE(decoded);
    CHECK(decoded->uri == "file:/a b/ü.dcm");
    REQUIRE(decoded->attributes.size() == 3);
    CHECK(decoded->attributes[0].first == 1);
    CHECK(decoded->attributes[0].second == "SMITH^JOHN");
    CHECK(decoded->attributes[1].first == 300);
    CHECK(decoded->attributes[1].second.empty());
    CHECK(decoded->attributes[2].first == 70000);
    CHECK(decoded->attributes[2].second.size() == 1000);

    CHECK_FALSE(decodeDocument(""));
    CHECK_FALSE(decodeDocument(std::string_view(data).substr(0, data.size() - 1)));  // truncated
    std::string wrongVersion = data;
    wrongVersion[0] = 9;
    CHECK_FALSE(decodeDocument(wrongVersion));
    CHECK_FALSE(decodeDocument(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)));
}

TEST_CASE("key ranges match any packed value", "[xapian][range]") {
    std::string packed;
    appendSlotKey(packed, "20150101");
    appendSlotKey(packed, "20170101");
    KeyRange in2016{std::string("20160101"), std::string("20161231"), true, true};
    CHECK_FALSE(in2016.containsAny(packed));
    KeyRange in2017{std::string("20170101"), std::nullopt, true, true};
    CHECK(in2017.containsAny(packed));
    KeyRange after2017{std::string("20170101"), std::nullopt, false, true};
    CHECK_FALSE(after2017.containsAny(packed));
    KeyRange upTo2015{std::nullopt, std::string("20150101"), true, true};
    CHECK(upTo2015.containsAny(packed));
    KeyRange below2015{std::nullopt, std::string("20150101"), true, false};
    CHECK_FALSE(below2015.containsAny(packed));
    CHECK_FALSE(in2017.containsAny(std::string("\x09" "2017", 5)));  // damaged: no match, no overread
    CHECK_FALSE(in2017.containsAny(""));
}

TEST_CASE("field catalogue persists in database metadata", "[xapian][catalogue]") {
    xapian_test::TempDir dir;
    const std::string path = (dir.path() / "db").string();
    std::vector<std::pair<std::string, std::string>> entries;
    FieldCatalogue catalogue;
    auto name = catalogue.findOrAdd("PatientName", "PN", entries);
    auto thickness = catalogue.findOrAdd("SliceThickness", "DS", entries);
    auto again = catalogue.findOrAdd("PatientName", "LO", entries);
    REQUIRE(name);
    REQUIRE(thickness);
    CHECK(again->id == name->id);
    CHECK(again->kind == FieldKind::Text);  // the kind is fixed the first time
    CHECK(thickness->kind == FieldKind::Numeric);
    CHECK(name->id != thickness->id);
    CHECK(entries.size() == 2);
    CHECK_FALSE(catalogue.findOrAdd("", "PN", entries));
    CHECK_FALSE(catalogue.findOrAdd(std::string(kMaxKeywordBytes + 1, 'K'), "PN", entries));
    CHECK(catalogue.keywordOf(thickness->id) == "SliceThickness");
    CHECK_FALSE(catalogue.keywordOf(0));
    CHECK_FALSE(catalogue.keywordOf(999));

    {
        Xapian::WritableDatabase db(path, Xapian::DB_CREATE_OR_OPEN);
        for (const auto& [key, value] : entries) db.set_metadata(key, value);
        db.set_metadata("f:Broken", "x:n");  // not ours: ignored
        db.commit();
    }
    FieldCatalogue loaded;
    loaded.load(Xapian::Database(path));
    CHECK(loaded.size() == 2);
    CHECK(loaded.find("SliceThickness")->id == thickness->id);
    CHECK(loaded.find("SliceThickness")->kind == FieldKind::Numeric);
    CHECK(loaded.keywordOf(name->id) == "PatientName");
    CHECK_FALSE(loaded.find("Broken"));
}
