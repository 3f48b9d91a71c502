// Index layout 4: one field-set term per document instead of a presence term per attribute
// (`Field:*` answered from the sets persisted in metadata, exact totals, across reopening), and
// an index of layout 3 refused with the re-index message.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/xapian_index.hpp"
#include "tessera/sdk/error.hpp"
#include "xapian_test_support.hpp"

using namespace xapian_test;
using namespace tessera::plugins::xapian;
using tessera::sdk::ErrorCode;

namespace {

/// `n` instances having the attributes named in `keywords` (value: keyword + index).
std::vector<Instance> withFields(const std::string& tag, int n, const std::vector<std::string>& keywords) {
    std::vector<Instance> out;
    for (int i = 0; i < n; ++i) {
        Instance inst;
        inst.uri = "file:/sets/" + tag + "/" + std::to_string(i) + ".dcm";
        inst.view.add(0x00080018, "SOPInstanceUID", "UI", "1.2.9." + std::to_string(tag.size()) + "." + std::to_string(i));
        for (const auto& keyword : keywords) inst.view.add(0x00100010, keyword, "LO", keyword + " value " + tag);
        out.push_back(std::move(inst));
    }
    return out;
}

std::set<std::string> uris(XapianProvider& provider, std::string_view text) {
    std::set<std::string> out;
    for (const auto& r : run(provider, text).results) out.insert(r.uri.str());
    return out;
}

}  // namespace

TEST_CASE("xapian answers Field:* from field-set terms, exactly and after reopening", "[xapian][index][layout4]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        XapianProvider provider;
        provider.open(path, {}, 1);
        indexAll(provider, withFields("a", 5, {"PatientName", "StudyDescription"}));
        indexAll(provider, withFields("b", 3, {"PatientName"}));
        indexAll(provider, withFields("c", 2, {"StudyDescription", "SeriesDescription"}));
        // The same set in another attribute order and with a repeated (sequence) attribute.
        indexAll(provider, withFields("d", 1, {"SeriesDescription", "StudyDescription", "SeriesDescription"}));
        provider.commit();

        CHECK(count(provider, "PatientName:*") == 8);
        CHECK(count(provider, "StudyDescription:*") == 8);
        CHECK(count(provider, "SeriesDescription:*") == 3);
        CHECK(count(provider, "SOPInstanceUID:*") == 11);
        CHECK(count(provider, "NoSuchField:*") == 0);
        CHECK(count(provider, "PatientName:* AND NOT StudyDescription:*") == 3);
        CHECK(uris(provider, "SeriesDescription:*") ==
              std::set<std::string>{"file:/sets/c/0.dcm", "file:/sets/c/1.dcm", "file:/sets/d/0.dcm"});
        // The total is exact whatever the page.
        CHECK(run(provider, "PatientName:*", {}, 0, 2).total == 8);
        CHECK(run(provider, "PatientName:*", {}, 0, 2).results.size() == 2);
    }
    {
        // Three distinct sets (c and d share one), persisted once each; one term per document.
        Xapian::Database db(path.string());
        std::size_t sets = 0;
        for (auto it = db.metadata_keys_begin(std::string(FieldCatalogue::kFieldSetPrefix));
             it != db.metadata_keys_end(std::string(FieldCatalogue::kFieldSetPrefix)); ++it)
            ++sets;
        CHECK(sets == 3);
        std::size_t setTerms = 0, presenceTerms = 0;
        for (auto it = db.allterms_begin("S"); it != db.allterms_end("S"); ++it) setTerms += it.get_termfreq();
        for (auto it = db.allterms_begin("P"); it != db.allterms_end("P"); ++it) ++presenceTerms;
        CHECK(setTerms == 11);
        CHECK(presenceTerms == 0);
    }
    // Reopened (the catalogue and its sets come back from metadata), more documents of a new set.
    XapianProvider provider;
    provider.open(path, {}, 1);
    CHECK(count(provider, "SeriesDescription:*") == 3);
    indexAll(provider, withFields("e", 4, {"PatientName", "SeriesDescription"}));
    provider.commit();
    CHECK(count(provider, "SeriesDescription:*") == 7);
    CHECK(count(provider, "PatientName:*") == 12);
    // Re-indexing a document with fewer fields moves it to another set.
    indexAll(provider, withFields("a", 1, {"StudyDescription"}));
    provider.commit();
    CHECK(count(provider, "PatientName:*") == 11);
    CHECK(count(provider, "StudyDescription:*") == 8);
}

TEST_CASE("the field catalogue keeps field sets and flags through metadata", "[xapian][index][layout4]") {
    TempDir dir;
    Xapian::WritableDatabase db((dir.path() / "db").string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    FieldCatalogue catalogue;
    std::vector<std::pair<std::string, std::string>> entries;
    const auto a = catalogue.findOrAdd("PatientName", "PN", entries);
    const auto b = catalogue.findOrAdd("SOPInstanceUID", "UI", entries);
    REQUIRE(a);
    REQUIRE(b);
    catalogue.markFreeText(a->id, entries);
    catalogue.markMultiValued(a->id, entries);
    const std::string both = catalogue.fieldSetTerm({a->id, b->id}, entries);
    const std::string onlyB = catalogue.fieldSetTerm({b->id}, entries);
    CHECK(both != onlyB);
    CHECK(both.size() == 17);
    CHECK(both[0] == 'S');
    CHECK(catalogue.fieldSetTerm({a->id, b->id}, entries) == both);  // known: no new entry
    CHECK(entries.size() == 6);
    for (const auto& [key, value] : entries) db.set_metadata(key, value);
    // Not ours: ignored, not trusted.
    db.set_metadata("s:0000000000000000", "1,x");
    db.set_metadata("f:Broken", "7:t:q");
    db.commit();

    FieldCatalogue loaded;
    loaded.load(db);
    CHECK(loaded.size() == 2);
    CHECK(loaded.fieldSetCount() == 2);
    CHECK(loaded.find("PatientName")->freeText);
    CHECK(loaded.find("PatientName")->multiValued);
    CHECK_FALSE(loaded.find("SOPInstanceUID")->freeText);
    REQUIRE(loaded.freeTextFields().size() == 1);
    CHECK(loaded.freeTextFields().front().id == a->id);
    CHECK(loaded.fieldSetTermsWith(a->id) == std::vector<std::string>{both});
    auto withB = loaded.fieldSetTermsWith(b->id);
    std::sort(withB.begin(), withB.end());
    auto expected = std::vector<std::string>{both, onlyB};
    std::sort(expected.begin(), expected.end());
    CHECK(withB == expected);
    CHECK(loaded.fieldSetTermsWith(999).empty());
}

TEST_CASE("xapian refuses an index of layout 3", "[xapian][index][layout4]") {
    TempDir dir;
    const auto path = dir.path() / "index";
    {
        Xapian::WritableDatabase db(path.string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
        Xapian::Document doc;
        doc.add_boolean_term("Qfile:/old.dcm");
        doc.add_boolean_term("P1");
        db.add_document(doc);
        db.set_metadata(std::string(kFormatMetadataKey), "3");
        db.set_metadata("f:PatientID", "1:t");
        db.commit();
    }
    try {
        XapianIndex index(path);
        FAIL("an index of layout 3 was opened");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == ErrorCode::Unavailable);
        CHECK(std::string(e.what()).find("layout 3") != std::string::npos);
        CHECK(std::string(e.what()).find("re-index") != std::string::npos);
    }
}

TEST_CASE("xapian answers free text from the text fields' own terms", "[xapian][query][layout4]") {
    TempDir dir;
    XapianProvider provider;
    provider.open(dir.path() / "index");
    std::vector<Instance> docs(4);
    docs[0].uri = "file:/ft/0.dcm";
    docs[0].view.add(0x00100010, "PatientName", "PN", "John Smith");
    docs[0].view.add(0x00080020, "StudyDate", "DA", "2016.01.05");
    docs[0].view.add(0x00080018, "SOPInstanceUID", "UI", "1.2.3.4");
    docs[1].uri = "file:/ft/1.dcm";
    docs[1].view.add(0x00100010, "PatientName", "PN", "john");
    docs[1].view.add(0x00080020, "StudyDate", "DA", "20160105");
    docs[1].view.add(0x00081030, "StudyDescription", "LO", "smith");
    docs[2].uri = "file:/ft/2.dcm";
    docs[2].view.add(0x00100010, "PatientName", "PN", "Johnsmith");
    docs[2].view.add(0x00200011, "SeriesNumber", "IS", "20160105");
    docs[3].uri = "file:/ft/3.dcm";
    docs[3].view.add(0x00081030, "StudyDescription", "LO", "head smith\\john neck");
    indexAll(provider, docs);

    auto set = [](std::initializer_list<const char*> names) {
        std::set<std::string> out;
        for (const char* n : names) out.insert(std::string("file:/ft/") + n + ".dcm");
        return out;
    };
    CHECK(uris(provider, "john") == set({"0", "1", "3"}));
    CHECK(uris(provider, "smith") == set({"0", "1", "3"}));
    CHECK(uris(provider, "john smith") == set({"0", "1", "3"}));  // both words, any fields
    CHECK(uris(provider, "\"john smith\"") == set({"0"}));        // adjacent in one value only
    CHECK(uris(provider, "\"smith john\"").empty());             // not across two values
    CHECK(uris(provider, "johnsmith") == set({"2"}));
    // Dates: the word as written, not the normalised exact term; IS and UI are not free text.
    CHECK(uris(provider, "20160105") == set({"1"}));
    CHECK(uris(provider, "2016.01.05") == set({"0"}));
    CHECK(uris(provider, "1.2.3.4").empty());
    // Wildcards: words, never a multi-word whole value.
    CHECK(uris(provider, "john*") == set({"0", "1", "2", "3"}));
    CHECK(uris(provider, "john*smith") == set({"2"}));
    CHECK(uris(provider, "*mith") == set({"0", "1", "2", "3"}));
    CHECK(uris(provider, "j?hn") == set({"0", "1", "3"}));
    CHECK(uris(provider, "2016*") == set({"0", "1"}));
    CHECK(uris(provider, "nosuchword").empty());
    CHECK(uris(provider, "nosuch*").empty());
}
