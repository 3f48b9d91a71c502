// The fast paths of the xapian plugin: ranges and numeric terms over single-valued fields (plain
// value slots, Xapian's own value range) and over fields that became multi-valued (packed slots
// searched key by key, both slots queried); exclusive bounds; the catalogue's multi-valued flag;
// exact totals whatever the page size; the index layout marker; `*` asking for every field.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_codec.hpp"
#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/plugins/xapian/xapian_searcher.hpp"
#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using namespace tessera::plugins::xapian;
using tessera::sdk::ErrorCode;

namespace {

Instance numbered(const std::string& name, const std::string& echoNumbers, const std::string& date) {
    Instance inst;
    inst.uri = "file:/fast/" + name + ".dcm";
    inst.view.add(0x00080018, "SOPInstanceUID", "UI", "1.2.3." + std::to_string(name.size()) + "." + name.substr(0, 1));
    inst.view.add(0x00180086, "EchoNumbers", "IS", echoNumbers);
    inst.view.add(0x00080023, "ContentDate", "DA", date);
    return inst;
}

std::set<std::string> uris(XapianProvider& provider, std::string_view text) {
    std::set<std::string> out;
    for (const auto& r : run(provider, text).results) out.insert(r.uri.str());
    return out;
}

std::set<std::string> named(std::initializer_list<const char*> names) {
    std::set<std::string> out;
    for (const char* name : names) out.insert(std::string("file:/fast/") + name + ".dcm");
    return out;
}

}  // namespace

TEST_CASE("xapian ranges stay exact when a single-valued field turns multi-valued", "[xapian][range][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);  // one database, which a searcher below reads directly

    // First only single values: every range runs on the plain slot.
    std::vector<Instance> first = {numbered("a", "1", "20150101"), numbered("b", "5", "20150601")};
    indexAll(provider, first);
    CHECK(uris(provider, "EchoNumbers:[2 TO 5]") == named({"b"}));
    CHECK(uris(provider, "EchoNumbers:{1 TO 5}").empty());
    CHECK(uris(provider, "EchoNumbers:[1 TO 5}") == named({"a"}));
    CHECK(uris(provider, "EchoNumbers:{1 TO 5]") == named({"b"}));
    CHECK(uris(provider, "EchoNumbers:[* TO *]") == named({"a", "b"}));
    CHECK(uris(provider, "EchoNumbers:[6 TO 2]").empty());  // reversed: nothing
    CHECK(uris(provider, "EchoNumbers:5") == named({"b"}));
    CHECK(uris(provider, "EchoNumbers:5.0") == named({"b"}));
    CHECK(uris(provider, "ContentDate:{20150101 TO *]") == named({"b"}));

    // A document with two values flips the field; old single-slot documents still match.
    std::vector<Instance> second = {numbered("c", "2\\6", "20150301"), numbered("d", "9", "20151231")};
    indexAll(provider, second);
    CHECK(uris(provider, "EchoNumbers:[2 TO 5]") == named({"b", "c"}));
    CHECK(uris(provider, "EchoNumbers:{5 TO 9}") == named({"c"}));
    CHECK(uris(provider, "EchoNumbers:{5 TO 9]") == named({"c", "d"}));
    CHECK(uris(provider, "EchoNumbers:[* TO 1]") == named({"a"}));
    CHECK(uris(provider, "EchoNumbers:[* TO 2}") == named({"a"}));
    CHECK(uris(provider, "EchoNumbers:[6 TO *]") == named({"c", "d"}));
    CHECK(uris(provider, "EchoNumbers:{6 TO *]") == named({"d"}));
    CHECK(uris(provider, "EchoNumbers:[* TO *]") == named({"a", "b", "c", "d"}));
    CHECK(uris(provider, "EchoNumbers:6") == named({"c"}));
    CHECK(uris(provider, "EchoNumbers:2") == named({"c"}));
    CHECK(uris(provider, "EchoNumbers:9") == named({"d"}));
    CHECK(uris(provider, "EchoNumbers:7").empty());
    // The date field stayed single-valued: the fast path, with both bounds exclusive.
    CHECK(uris(provider, "ContentDate:{20150101 TO 20151231}") == named({"b", "c"}));
    CHECK(uris(provider, "ContentDate:[20150301 TO 20150301]") == named({"c"}));

    // Re-indexing the multi-valued document with one value moves it back to the plain slot; the
    // field stays flagged (flags are never cleared) and answers stay exact.
    std::vector<Instance> again = {numbered("c", "4", "20150301")};
    indexAll(provider, again);
    CHECK(uris(provider, "EchoNumbers:[2 TO 5]") == named({"b", "c"}));
    CHECK(uris(provider, "EchoNumbers:6").empty());
    CHECK(uris(provider, "EchoNumbers:4") == named({"c"}));

    // The same answers from the database as persisted (another reader, a fresh catalogue).
    provider.close();
    XapianSearcher searcher(dir.path() / "index");
    tessera::sdk::QueryRequest request;
    request.query = tessera::core::parseQuery("EchoNumbers:[2 TO 5]");
    CHECK(searcher.search(request).total == 2);
    request.query = tessera::core::parseQuery("EchoNumbers:{1 TO 9}");
    CHECK(searcher.search(request).total == 2);
    Xapian::Database db((dir.path() / "index").string());
    FieldCatalogue catalogue;
    catalogue.load(db);
    REQUIRE(catalogue.find("EchoNumbers"));
    CHECK(catalogue.find("EchoNumbers")->multiValued);
    REQUIRE(catalogue.find("ContentDate"));
    CHECK_FALSE(catalogue.find("ContentDate")->multiValued);
}

TEST_CASE("xapian: a field multi-valued from its first document, and repeated sequence items",
          "[xapian][range][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    std::vector<Instance> docs(3);
    docs[0].uri = "file:/fast/a.dcm";
    docs[0].view.add(0x00281050, "WindowCenter", "DS", "40\\400");
    docs[1].uri = "file:/fast/b.dcm";
    docs[1].view.add(0x00281050, "WindowCenter", "DS", "-600");
    // One value in each of two sequence items: two keys for one field in one document.
    docs[2].uri = "file:/fast/c.dcm";
    docs[2].view.add(0x0040a121, "ContentSequence_Date", "DA", "20140101");
    docs[2].view.add(0x0040a121, "ContentSequence_Date", "DA", "20160101");
    indexAll(provider, docs);
    CHECK(uris(provider, "WindowCenter:[300 TO 500]") == named({"a"}));
    CHECK(uris(provider, "WindowCenter:[* TO 0]") == named({"b"}));
    CHECK(uris(provider, "WindowCenter:400") == named({"a"}));
    CHECK(uris(provider, "WindowCenter:\\-600") == named({"b"}));
    CHECK(uris(provider, "ContentSequence_Date:[20150101 TO 20161231]") == named({"c"}));
    CHECK(uris(provider, "ContentSequence_Date:[20150101 TO 20151231]").empty());
}

TEST_CASE("slot keys: the greatest key below, single-slot range queries", "[xapian][range][fast]") {
    CHECK_FALSE(greatestKeyBelow(""));
    CHECK(greatestKeyBelow(std::string("a\0", 2)) == "a");
    const auto below = greatestKeyBelow("20150101");
    REQUIRE(below);
    CHECK(*below < "20150101");
    CHECK(*below > "20150100");
    CHECK(*below > "20150100" + std::string(kMaxSlotKeyBytes - 8, '\xff').substr(0, kMaxSlotKeyBytes - 9));
    CHECK(below->size() == kMaxSlotKeyBytes);
    CHECK(slotKey(std::string(400, 'k')).size() == kMaxSlotKeyBytes);

    // Against a real database: the Xapian queries built for each bound combination.
    TempDir dir;
    const std::string path = (dir.path() / "db").string();
    {
        Xapian::WritableDatabase db(path, Xapian::DB_CREATE_OR_OPEN);
        for (const char* key : {"b", "ba", "c", "d"}) {
            Xapian::Document doc;
            doc.add_value(4, key);
            doc.set_data(key);
            db.add_document(doc);
        }
        db.add_document(Xapian::Document());  // no value at all
        db.commit();
    }
    Xapian::Database db(path);
    auto matches = [&](KeyRange range) {
        Xapian::Enquire enquire(db);
        enquire.set_query(singleValueRangeQuery(4, range));
        std::set<std::string> out;
        const Xapian::MSet mset = enquire.get_mset(0, 10);
        for (auto it = mset.begin(); it != mset.end(); ++it) out.insert(it.get_document().get_data());
        return out;
    };
    using S = std::set<std::string>;
    CHECK(matches({std::string("b"), std::string("c"), true, true}) == S{"b", "ba", "c"});
    CHECK(matches({std::string("b"), std::string("c"), false, true}) == S{"ba", "c"});
    CHECK(matches({std::string("b"), std::string("c"), true, false}) == S{"b", "ba"});
    CHECK(matches({std::string("b"), std::string("c"), false, false}) == S{"ba"});
    CHECK(matches({std::nullopt, std::string("ba"), true, false}) == S{"b"});
    CHECK(matches({std::string("c"), std::nullopt, false, true}) == S{"d"});
    CHECK(matches({std::nullopt, std::nullopt, true, true}) == S{"b", "ba", "c", "d"});
    CHECK(matches({std::string("d"), std::string("b"), true, true}).empty());
    CHECK(matches({std::nullopt, std::string(""), true, false}).empty());
}

TEST_CASE("field catalogue: the multi-valued flag is persisted once and never cleared", "[xapian][catalogue][fast]") {
    TempDir dir;
    const std::string path = (dir.path() / "db").string();
    FieldCatalogue catalogue;
    std::vector<std::pair<std::string, std::string>> entries;
    const auto date = catalogue.findOrAdd("StudyDate", "DA", entries);
    const auto position = catalogue.findOrAdd("ImagePositionPatient", "DS", entries);
    REQUIRE(date);
    REQUIRE(position);
    CHECK_FALSE(position->multiValued);
    catalogue.markMultiValued(position->id, entries);
    catalogue.markMultiValued(position->id, entries);  // already known: no second entry
    catalogue.markMultiValued(999, entries);           // unknown id: ignored
    CHECK(entries.size() == 3);
    CHECK(entries.back().second == std::to_string(position->id) + ":n:m:r");  // DS keeps range slots
    CHECK(catalogue.find("ImagePositionPatient")->multiValued);
    CHECK_FALSE(catalogue.find("StudyDate")->multiValued);
    {
        Xapian::WritableDatabase db(path, Xapian::DB_CREATE_OR_OPEN);
        for (const auto& [key, value] : entries) db.set_metadata(key, value);  // later entries win
        db.set_metadata("f:Odd", "3:n:x");                                     // not ours: ignored
        db.commit();
    }
    FieldCatalogue loaded;
    loaded.load(Xapian::Database(path));
    CHECK(loaded.size() == 2);
    CHECK(loaded.find("ImagePositionPatient")->multiValued);
    CHECK(loaded.find("ImagePositionPatient")->kind == FieldKind::Numeric);
    CHECK_FALSE(loaded.find("StudyDate")->multiValued);
    CHECK_FALSE(loaded.find("Odd"));
}

TEST_CASE("xapian totals are exact whatever the page", "[xapian][query][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    for (const char* text :
         {"Modality:CT", "Modality:ct OR Modality:MR", "StudyDate:[20150101 TO 20151231]", "SeriesNumber:[1 TO 3]",
          "SliceThickness:5", "ImagePositionPatient:[-36 TO -34]", "PatientName:smi*", "PatientName:*LLER*", "chest",
          "PatientID:1CT1 AND Modality:MR", "NOT Modality:CT", "+Modality:CT -SeriesNumber:1", "*:*", "nothingsuch",
          "SOPInstanceUID:1.2.826.0.1.3680043.10.543.1.1.1.2", "PatientName:\"jane dr\""}) {
        INFO("query: " << text);
        const auto all = run(provider, text);
        CHECK(all.total == all.results.size());
        for (std::size_t limit : {0, 1, 2, 5}) {
            const auto page = run(provider, text, {}, 0, limit);
            CHECK(page.total == all.total);
            CHECK(page.results.size() == std::min(limit, all.total));
            const auto later = run(provider, text, {}, 1, limit);
            CHECK(later.total == all.total);
        }
    }
}

TEST_CASE("xapian refuses an index of another layout instead of misreading it", "[xapian][index][fast]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        // What layout 1 left behind: documents and keyword terms, no layout marker.
        Xapian::WritableDatabase db(path.string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
        Xapian::Document doc;
        doc.add_boolean_term("Qfile:/old.dcm");
        doc.add_boolean_term("XPatientID#old");
        db.add_document(doc);
        db.set_metadata("f:PatientID", "1:t");
        db.commit();
    }
    try {
        XapianIndex index(path);
        FAIL("an index of layout 1 was opened");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
        CHECK(std::string(e.what()).find("re-index") != std::string::npos);
    }
    XapianSearcher searcher(path);
    tessera::sdk::QueryRequest request;
    request.query = tessera::core::parseQuery("PatientID:old");
    try {
        searcher.search(request);
        FAIL("an index of layout 1 was read");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
    }

    // A fresh index is marked, and a marked one opens again.
    const auto fresh = dir.path() / "fresh";
    { XapianIndex index(fresh); }
    CHECK(Xapian::Database(fresh.string()).get_metadata(std::string(kFormatMetadataKey)) == kFormatVersion);
    CHECK_NOTHROW(XapianIndex(fresh));
}

TEST_CASE("xapian layout 3 keeps each document's attributes in value slot 0, not in document data",
          "[xapian][index][fast]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    VectorView view;
    view.add(0x00100020, "PatientID", "LO", "PID-7");
    view.add(0x00080060, "Modality", "CS", "CT");
    {
        XapianIndex index(path);
        const tessera::sdk::IndexItem item{tessera::sdk::Uri::parse("file:/layout/1.dcm"), &view};
        REQUIRE(index.index(std::span(&item, 1)).indexed == 1);
    }
    Xapian::Database db(path.string());
    REQUIRE(db.get_doccount() == 1);
    const Xapian::Document doc = db.get_document(db.postlist_begin("Qfile:/layout/1.dcm").operator*());
    // Document data is compressed by glass on every write; the slot is not.
    CHECK(doc.get_data().empty());
    const auto decoded = decodeDocument(doc.get_value(kDocumentSlot));
    REQUIRE(decoded);
    CHECK(decoded->uri == "file:/layout/1.dcm");
    REQUIRE(decoded->attributes.size() == 2);
    CHECK(decoded->attributes[0].second == "PID-7");
    CHECK(decoded->attributes[1].second == "CT");
    // Field ids start at 1: no field's range slots collide with it.
    CHECK(singleSlot(1) != kDocumentSlot);
}

TEST_CASE("xapian: the field list '*' returns every stored attribute", "[xapian][query][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    const auto response = run(provider, "PatientID:P-0002 AND InstanceNumber:1 AND Modality:CR", {"*"});
    REQUIRE(response.results.size() == 1);
    const auto& fields = response.results.front().fields;
    CHECK(fields.at("PatientName") == "Müller^Jürgen");
    CHECK(fields.at("ViewCodeSequence_CodeValue") == "R-10206");  // first item
    CHECK(fields.at("ImagerPixelSpacing") == "0.139\\0.139");
    CHECK(fields.at("StudyTime") == "1015");
    CHECK(fields.count("InstitutionName") == 0);  // absent from the object: not invented
    CHECK(fields.count("*") == 0);
    std::set<std::string> keywords;
    for (const auto& inst : corpus)
        if (inst.uri == response.results.front().uri.str())
            inst.view.forEachAttribute([&](const tessera::sdk::DicomAttribute& a) { keywords.insert(a.keyword); });
    CHECK(fields.size() == keywords.size());
}

TEST_CASE("xapian key ranges agree whether answered from terms or from value slots", "[xapian][range][fast]") {
    // 300 documents: fields with few distinct values are answered by listing their terms, fields
    // with a distinct value per document (more than the listing budget) by scanning the slots.
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    constexpr int kDocs = 300;
    std::vector<Instance> docs(kDocs);
    auto dateOf = [](int i) {
        const int month = 1 + (i / 28) % 12, day = 1 + i % 28, year = 2015 + i / (28 * 12);
        char text[9];
        std::snprintf(text, sizeof text, "%04d%02d%02d", year, month, day);
        return std::string(text);
    };
    for (int i = 0; i < kDocs; ++i) {
        docs[i].uri = "file:/many/" + std::to_string(i) + ".dcm";
        docs[i].view.add(0x00180086, "EchoNumbers", "IS", std::to_string(i));
        docs[i].view.add(0x00180091, "EchoTrainLength", "IS", std::to_string(i % 7));
        docs[i].view.add(0x00080022, "AcquisitionDate", "DA", dateOf(i));
        docs[i].view.add(0x00200032, "ImagePositionPatient", "DS",
                         std::to_string(i) + "\\-" + std::to_string(i) + ".5\\0");
    }
    indexAll(provider, docs);
    auto expect = [&](auto predicate) {
        std::size_t n = 0;
        for (int i = 0; i < kDocs; ++i)
            if (predicate(i)) ++n;
        return n;
    };
    CHECK(count(provider, "EchoNumbers:[10 TO 200]") == expect([](int i) { return i >= 10 && i <= 200; }));
    CHECK(count(provider, "EchoNumbers:{10 TO 200}") == expect([](int i) { return i > 10 && i < 200; }));
    CHECK(count(provider, "EchoNumbers:[* TO 99}") == expect([](int i) { return i < 99; }));
    CHECK(count(provider, "EchoNumbers:150") == 1);
    CHECK(count(provider, "EchoTrainLength:[2 TO 3]") == expect([](int i) { return i % 7 == 2 || i % 7 == 3; }));
    CHECK(count(provider, "EchoTrainLength:{2 TO 6]") == expect([](int i) { return i % 7 > 2; }));
    CHECK(count(provider, "EchoTrainLength:4") == expect([](int i) { return i % 7 == 4; }));
    CHECK(count(provider, "EchoTrainLength:4.0") == expect([](int i) { return i % 7 == 4; }));
    CHECK(count(provider, "AcquisitionDate:[20150201 TO 20150228]") ==
          expect([&](int i) { return dateOf(i) >= "20150201" && dateOf(i) <= "20150228"; }));
    CHECK(count(provider, "AcquisitionDate:{20150201 TO 20150228}") ==
          expect([&](int i) { return dateOf(i) > "20150201" && dateOf(i) < "20150228"; }));
    CHECK(count(provider, "AcquisitionDate:[2015.02.01 TO *]") ==
          expect([&](int i) { return dateOf(i) >= "20150201"; }));
    CHECK(count(provider, "AcquisitionDate:[* TO *]") == kDocs);
    CHECK(count(provider, "ImagePositionPatient:[-20 TO -10]") == expect([](int i) { return i >= 10 && i <= 19; }));
    CHECK(count(provider, "ImagePositionPatient:0") == kDocs);
    CHECK(count(provider, "ImagePositionPatient:[250 TO *]") == expect([](int i) { return i >= 250; }));
    // Mixed with other clauses, and paged: the same totals.
    CHECK(count(provider, "EchoNumbers:[10 TO 200] AND EchoTrainLength:[2 TO 3]") ==
          expect([](int i) { return i >= 10 && i <= 200 && (i % 7 == 2 || i % 7 == 3); }));
    CHECK(run(provider, "EchoTrainLength:[2 TO 3]", {}, 5, 10).total ==
          expect([](int i) { return i % 7 == 2 || i % 7 == 3; }));
}

TEST_CASE("xapian text ranges list every value in range, not only those starting with the bound", "[xapian][range]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    CHECK(count(provider, "PatientID:[o TO q]") == 11);  // p-0002 (3) and pat3 (8)
    CHECK(count(provider, "PatientID:[p TO q]") == 11);
    CHECK(count(provider, "PatientID:{p-0002 TO q]") == 8);
    CHECK(count(provider, "PatientID:[0 TO 2]") == 9);    // 1ct1
    CHECK(count(provider, "Modality:[ca TO cz]") == 12);  // CR and CT
}

TEST_CASE("xapian counts a numeric term from statistics only when words cannot add matches", "[xapian][query][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    std::vector<Instance> docs(4);
    const char* values[] = {"4", "-4", "7", "4.000"};
    for (int i = 0; i < 4; ++i) {
        docs[i].uri = "file:/echo/" + std::to_string(i) + ".dcm";
        docs[i].view.add(0x00180091, "EchoTrainLength", "IS", values[i]);
    }
    indexAll(provider, docs);
    // "-4" has the word "4" (a term query matches words too): three matches, counted exactly
    // even when no result is asked for.
    for (std::size_t limit : {0, 1, 10}) {
        const auto response = run(provider, "EchoTrainLength:4", {}, 0, limit);
        CHECK(response.total == 3);
        CHECK(response.results.size() == std::min<std::size_t>(limit, 3));
    }
    // No word term for 7 exists: the total comes from the statistics of the value terms.
    CHECK(run(provider, "EchoTrainLength:7", {}, 0, 0).total == 1);
    CHECK(run(provider, "EchoTrainLength:4.0", {}, 0, 0).total == 2);  // the word "4.0" is in no value
    CHECK(run(provider, "EchoTrainLength:[4 TO 4]", {}, 0, 0).total == 2);
    CHECK(run(provider, "EchoTrainLength:[* TO *]", {}, 0, 0).total == 4);
    CHECK(run(provider, "EchoTrainLength:[5 TO *]", {}, 0, 0).total == 1);
    CHECK(run(provider, "EchoTrainLength:[8 TO *]", {}, 0, 0).total == 0);
}

TEST_CASE("xapian *:* pages read ids directly, and still page right after deletions", "[xapian][query][fast]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index", {}, 1);  // one database: its own ids, in order
    auto corpus = makeCorpus();
    indexAll(provider, corpus);
    auto pageUris = [&](std::size_t offset, std::optional<std::size_t> limit) {
        std::vector<std::string> out;
        const auto response = run(provider, "*:*", {"uri"}, offset, limit);
        for (const auto& r : response.results) {
            CHECK(r.fields.at("uri") == r.uri.str());
            out.push_back(r.uri.str());
        }
        return std::make_pair(response.total, out);
    };
    auto [total, page] = pageUris(5, 4);
    CHECK(total == 20);
    REQUIRE(page.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(page[i] == corpus[5 + i].uri);
    CHECK(pageUris(18, 10).second.size() == 2);
    CHECK(pageUris(20, 10).second.empty());
    CHECK(pageUris(0, 0).second.empty());
    CHECK(pageUris(0, std::nullopt).second.size() == 20);

    // A gap in the ids (one object removed): the matcher path, same order, one fewer.
    const std::vector<tessera::sdk::Uri> gone = {tessera::sdk::Uri::parse(corpus[6].uri)};
    REQUIRE(provider.unindex(gone).removed == 1);
    provider.commit();
    std::tie(total, page) = pageUris(5, 4);
    CHECK(total == 19);
    REQUIRE(page.size() == 4);
    CHECK(page == std::vector<std::string>{corpus[5].uri, corpus[7].uri, corpus[8].uri, corpus[9].uri});
    CHECK(pageUris(0, std::nullopt).second.size() == 19);
}
