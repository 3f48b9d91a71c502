// Layout 5 of the xapian index: key ranges (numbers, dates, times) are answered from the
// whole-value terms; value slots hold keys only for values too long for their term text (hashed
// terms) and for fields of continuous VRs (DS FL FD TM DT), whose ranges scan the slots when too
// many terms are in range. Also the refusal of a layout-4 index, and field words in one- and multi-word values.

#include <catch2/catch.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using namespace tessera::plugins::xapian;
using tessera::sdk::ErrorCode;

namespace {

std::set<std::string> uris(XapianProvider& provider, std::string_view text) {
    std::set<std::string> out;
    for (const auto& r : run(provider, text).results) out.insert(r.uri.str());
    return out;
}

std::set<std::string> named(std::initializer_list<const char*> names) {
    std::set<std::string> out;
    for (const char* name : names) out.insert(std::string("file:/l5/") + name + ".dcm");
    return out;
}

/// The slots used by every document of the index at `path`, other than the stored record and summary.
std::set<Xapian::valueno> rangeSlotsUsed(const std::filesystem::path& path) {
    Xapian::Database db(path.string());
    std::set<Xapian::valueno> out;
    for (auto p = db.postlist_begin(""); p != db.postlist_end(""); ++p) {
        const Xapian::Document doc = db.get_document(*p);
        for (auto v = doc.values_begin(); v != doc.values_end(); ++v)
            if (v.get_valueno() > 1) out.insert(v.get_valueno());
    }
    return out;
}

}  // namespace

TEST_CASE("xapian layout 5 keeps no range slots for integers and dates", "[xapian][range][layout5]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);
    std::vector<Instance> docs(3);
    for (int i = 0; i < 3; ++i) {
        docs[i].uri = "file:/l5/" + std::to_string(i) + ".dcm";
        docs[i].view.add(0x00180086, "EchoNumbers", "IS", std::to_string(i) + "\\" + std::to_string(i + 10));
        docs[i].view.add(0x00080020, "StudyDate", "DA", "2015010" + std::to_string(i + 1));
        docs[i].view.add(0x00080030, "StudyTime", "TM", "10" + std::to_string(i) + "0");
    }
    indexAll(provider, docs);
    provider.close();
    // StudyTime (TM) keeps its keys in its single slot; EchoNumbers (IS) and StudyDate (DA) none.
    {
        Xapian::Database db((dir.path() / "index").string());
        FieldCatalogue catalogue;
        catalogue.load(db);
        REQUIRE(catalogue.find("StudyTime"));
        CHECK(catalogue.find("StudyTime")->rangeSlots);
        CHECK_FALSE(catalogue.find("EchoNumbers")->rangeSlots);
        CHECK_FALSE(catalogue.find("StudyDate")->rangeSlots);
        CHECK(rangeSlotsUsed(dir.path() / "index") == std::set<Xapian::valueno>{singleSlot(catalogue.find("StudyTime")->id)});
    }

    XapianProvider reopened;
    reopened.open(dir.path() / "index", {}, 1);
    CHECK(uris(reopened, "EchoNumbers:[1 TO 10]") == named({"0", "1", "2"}));
    CHECK(uris(reopened, "EchoNumbers:[2 TO 10}") == named({"2"}));
    CHECK(uris(reopened, "StudyDate:[20150102 TO *]") == named({"1", "2"}));
    CHECK(uris(reopened, "StudyTime:[100500 TO 102000]") == named({"1", "2"}));  // 1010 = 101000
    CHECK(run(reopened, "StudyDate:[* TO 20150102]", {}, 0, 0).total == 2);
    CHECK(run(reopened, "EchoNumbers:[5 TO *]", {}, 0, 0).total == 3);
    CHECK_THROWS_AS(run(reopened, "EchoNumbers:[x TO 3]"), tessera::sdk::Error);
}

TEST_CASE("xapian ranges find values too long for their term from the slots", "[xapian][range][layout5]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);
    // 300 digits: a number (1.5) whose whole-value term is hashed, and a date whose key is its text.
    const std::string longNumber = std::string(300, '0') + "1.5";
    const std::string longDate = "20150601" + std::string(300, '9');
    std::vector<Instance> docs(4);
    docs[0].uri = "file:/l5/0.dcm";
    docs[0].view.add(0x00180086, "EchoNumbers", "IS", longNumber);
    docs[0].view.add(0x00080020, "StudyDate", "DA", longDate);
    docs[1].uri = "file:/l5/1.dcm";
    docs[1].view.add(0x00180086, "EchoNumbers", "IS", "7");
    docs[1].view.add(0x00080020, "StudyDate", "DA", "20150601");
    docs[2].uri = "file:/l5/2.dcm";  // a long value and a short one in one attribute
    docs[2].view.add(0x00180086, "EchoNumbers", "IS", "3\\" + longNumber + "\\" + longNumber);
    docs[2].view.add(0x00080020, "StudyDate", "DA", "20140101\\" + longDate);
    docs[3].uri = "file:/l5/3.dcm";
    docs[3].view.add(0x00180086, "EchoNumbers", "IS", "12");
    indexAll(provider, docs);

    CHECK(uris(provider, "EchoNumbers:[1 TO 2]") == named({"0", "2"}));
    CHECK(uris(provider, "EchoNumbers:[1 TO 5]") == named({"0", "2"}));
    CHECK(uris(provider, "EchoNumbers:[5 TO *]") == named({"1", "3"}));
    CHECK(uris(provider, "EchoNumbers:1.5") == named({"0", "2"}));
    CHECK(run(provider, "EchoNumbers:[* TO 2]", {}, 0, 0).total == 2);
    CHECK(uris(provider, "StudyDate:[20150601 TO 20150602]") == named({"0", "1", "2"}));
    CHECK(uris(provider, "StudyDate:{20150601 TO 20150602]") == named({"0", "2"}));
    CHECK(uris(provider, "StudyDate:[20140101 TO 20150531]") == named({"2"}));
    CHECK(uris(provider, "StudyDate:[* TO *]") == named({"0", "1", "2"}));
    provider.close();
    // Only the documents with a long value have range slots.
    // Single slots of both fields (document 0), multi slots of both (document 2).
    CHECK(rangeSlotsUsed(dir.path() / "index").size() == 4);
}

TEST_CASE("xapian refuses an index of layout 4", "[xapian][index][layout5]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        Xapian::WritableDatabase db(path.string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
        Xapian::Document doc;
        doc.add_boolean_term("Qfile:/old.dcm");
        doc.add_value(singleSlot(1), "20150101");
        db.add_document(doc);
        db.set_metadata(std::string(kFormatMetadataKey), "4");
        db.set_metadata("f:StudyDate", "1:d");
        db.commit();
    }
    try {
        XapianIndex index(path);
        FAIL("an index of layout 4 was opened");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
        CHECK(std::string(e.what()).find("layout 4") != std::string::npos);
        CHECK(std::string(e.what()).find("re-index") != std::string::npos);
    }
    CHECK(kFormatVersion == "5");
}

TEST_CASE("xapian field words in one-word and multi-word values", "[xapian][query][layout5]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    std::vector<Instance> docs(4);
    docs[0].uri = "file:/l5/0.dcm";
    docs[0].view.add(0x00081030, "StudyDescription", "LO", "Head");
    docs[1].uri = "file:/l5/1.dcm";
    docs[1].view.add(0x00081030, "StudyDescription", "LO", "CT head neck");
    docs[2].uri = "file:/l5/2.dcm";
    docs[2].view.add(0x00081030, "StudyDescription", "LO", "neck\\head");
    docs[3].uri = "file:/l5/3.dcm";
    docs[3].view.add(0x00081030, "StudyDescription", "LO", "headache");
    indexAll(provider, docs);
    CHECK(uris(provider, "StudyDescription:head") == named({"0", "1", "2"}));
    CHECK(uris(provider, "StudyDescription:HEAD") == named({"0", "1", "2"}));
    CHECK(uris(provider, "StudyDescription:hea*") == named({"0", "1", "2", "3"}));
    CHECK(uris(provider, "StudyDescription:*ad") == named({"0", "1", "2"}));
    CHECK(uris(provider, "StudyDescription:h?ad") == named({"0", "1", "2"}));
    CHECK(uris(provider, "StudyDescription:\"head neck\"") == named({"1"}));
    CHECK(uris(provider, "StudyDescription:\"neck head\"").empty());  // not across two values
    CHECK(uris(provider, "StudyDescription:\"ct head neck\"") == named({"1"}));
    CHECK(uris(provider, "head") == named({"0", "1", "2"}));
    CHECK(uris(provider, "hea*") == named({"0", "1", "2", "3"}));
    CHECK(uris(provider, "StudyDescription:neck") == named({"1", "2"}));
}

TEST_CASE("xapian keeps range slots for continuous VRs only", "[xapian][range][layout5]") {
    CHECK(keepsRangeSlots("DS"));
    CHECK(keepsRangeSlots("FL"));
    CHECK(keepsRangeSlots("FD"));
    CHECK(keepsRangeSlots("TM"));
    CHECK(keepsRangeSlots("DT"));
    for (const char* vr : {"IS", "US", "SS", "UL", "SL", "SV", "UV", "DA", "LO", "UN", ""}) CHECK_FALSE(keepsRangeSlots(vr));
}

TEST_CASE("xapian ranges over slot-backed fields agree with ranges from terms", "[xapian][range][layout5]") {
    // The same numbers under a DS field (every key in the slots: a slot scan once more than
    // max(100, docs/50) terms would be listed) and an IS field (terms only), some documents with
    // two values (the multi slot); and times, many distinct (slot scan) and few (terms).
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);
    constexpr int kDocs = 400;
    std::vector<Instance> docs(kDocs);
    std::vector<std::vector<double>> numbers(kDocs);
    std::vector<int> seconds(kDocs);
    for (int i = 0; i < kDocs; ++i) {
        docs[i].uri = "file:/l5/" + std::to_string(i) + ".dcm";
        const int k = (i * 37) % kDocs;  // distinct, not in document order
        numbers[i].push_back(-100.0 + 0.5 * k);
        std::string text = std::to_string(-100.0 + 0.5 * k);
        if (i % 7 == 0) {
            numbers[i].push_back(1000.0 + k);
            text += "\\" + std::to_string(1000 + k);
        }
        docs[i].view.add(0x00201041, "SliceLocation", "DS", text);
        docs[i].view.add(0x00200013, "InstanceNumber", "IS", text);
        seconds[i] = 36000 + 7 * k;
        char hhmmss[16];
        std::snprintf(hhmmss, sizeof hhmmss, "%02d%02d%02d", seconds[i] / 3600, seconds[i] / 60 % 60, seconds[i] % 60);
        docs[i].view.add(0x00080033, "ContentTime", "TM", hhmmss);
        docs[i].view.add(0x00080060, "Modality", "CS", i % 3 == 0 ? "CT" : "MR");
    }
    REQUIRE(indexAll(provider, docs).indexed == kDocs);

    auto expectedNumbers = [&](double lo, double hi, bool ctOnly) {
        std::set<std::string> out;
        for (int i = 0; i < kDocs; ++i) {
            if (ctOnly && i % 3 != 0) continue;
            for (double v : numbers[i])
                if (v >= lo && v <= hi) out.insert(docs[i].uri);
        }
        return out;
    };
    struct Case {
        double lo, hi;
        const char* text;
    };
    // 2 values, ~50 %, everything, and a range around the second values only.
    for (const Case& c : {Case{-1.0, -0.5, "-1 TO -0.5"}, Case{-100.0, 0.0, "-100 TO 0"}, Case{-1e9, 1e9, "* TO *"},
                          Case{1100.0, 1300.0, "1100 TO 1300"}, Case{5000.0, 6000.0, "5000 TO 6000"}}) {
        INFO(c.text);
        const auto expected = expectedNumbers(c.lo, c.hi, false);
        const std::string range = std::string(":[") + c.text + "]";
        CHECK(uris(provider, "SliceLocation" + range) == expected);
        CHECK(uris(provider, "InstanceNumber" + range) == expected);
        CHECK(run(provider, "SliceLocation" + range, {}, 0, 0).total == expected.size());
        const auto expectedCt = expectedNumbers(c.lo, c.hi, true);
        CHECK(uris(provider, "Modality:CT AND SliceLocation" + range) == expectedCt);
        CHECK(uris(provider, "Modality:CT AND InstanceNumber" + range) == expectedCt);
    }
    CHECK(uris(provider, "SliceLocation:{-1 TO -0.5}").empty());
    CHECK(uris(provider, "SliceLocation:-0.5") == expectedNumbers(-0.5, -0.5, false));
    CHECK_THROWS_AS(run(provider, "SliceLocation:[x TO 3]"), tessera::sdk::Error);

    auto expectedTimes = [&](int lo, int hi) {
        std::set<std::string> out;
        for (int i = 0; i < kDocs; ++i)
            if (seconds[i] >= lo && seconds[i] <= hi) out.insert(docs[i].uri);
        return out;
    };
    CHECK(uris(provider, "ContentTime:[100000 TO 100100]") == expectedTimes(36000, 36060));
    CHECK(uris(provider, "ContentTime:[100000 TO 110000]") == expectedTimes(36000, 39600));
    CHECK(run(provider, "ContentTime:[* TO 103000]", {}, 0, 0).total == expectedTimes(0, 37800).size());
    provider.close();

    Xapian::Database db((dir.path() / "index").string());
    FieldCatalogue catalogue;
    catalogue.load(db);
    REQUIRE(catalogue.find("SliceLocation"));
    CHECK(catalogue.find("SliceLocation")->rangeSlots);
    CHECK(catalogue.find("SliceLocation")->multiValued);
    CHECK(catalogue.find("ContentTime")->rangeSlots);
    CHECK_FALSE(catalogue.find("InstanceNumber")->rangeSlots);
    const auto slots = rangeSlotsUsed(dir.path() / "index");
    CHECK(slots == std::set<Xapian::valueno>{singleSlot(catalogue.find("SliceLocation")->id),
                                             multiSlot(catalogue.find("SliceLocation")->id),
                                             singleSlot(catalogue.find("ContentTime")->id)});
}
