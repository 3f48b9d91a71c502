// The query contract: the sample corpus indexed once into the providers under test, then every
// query of the table on every query provider, against the manifest ([provider]) and against each
// other ([agreement]).
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "contract_support.hpp"

namespace tessera::contract {
namespace {

using test::Manifest;

std::string listed(const std::vector<std::string>& files) {
    std::ostringstream out;
    out << files.size() << " file(s)";
    for (std::size_t i = 0; i < files.size() && i < 40; ++i) out << "\n    " << files[i];
    if (files.size() > 40) out << "\n    ...";
    return out.str();
}

// The whole corpus (every manifest row, parsed once) indexed into the index providers under test.
struct IndexedCorpus {
    LoadedPlugins plugins;
    std::vector<std::string> rejected;
    ParsedSamples samples;

    IndexedCorpus() {
        std::vector<std::string> files;
        for (const auto& row : manifest().rows()) files.push_back(row.file());
        samples = parseSamples(files, &rejected);
        const auto indexers = plugins.indexProviders();
        REQUIRE_FALSE(indexers.empty());
        for (const auto& [name, index] : indexers) indexAll(*index, samples);
    }
};

IndexedCorpus& corpus() {
    static IndexedCorpus instance;
    return instance;
}

std::vector<std::string> expectedFiles(const test::RowPredicate& predicate) {
    return Manifest::files(Manifest::select(indexedRows(), predicate));
}

}  // namespace

TEST_CASE("the corpus is what the manifest says core's reader accepts", "[provider][agreement]") {
    auto& c = corpus();
    auto accepted = c.samples.files;
    std::sort(accepted.begin(), accepted.end());
    CHECK(accepted == Manifest::files(indexedRows()));
    CHECK(queryTable().size() >= 60);
    std::size_t withExpectation = 0;
    for (const auto& entry : queryTable()) withExpectation += entry.expect ? 1 : 0;
    CHECK(withExpectation >= 60);
}

TEST_CASE("every query of the table answers the rows the manifest predicts", "[provider]") {
    auto& c = corpus();
    for (const auto& [name, provider] : c.plugins.queryProviders()) {
        for (const auto& entry : queryTable()) {
            if (!entry.expect) continue;
            INFO("provider " << name << ", query " << entry.text);
            const auto expected = expectedFiles(*entry.expect);
            if (!entry.mayBeEmpty) REQUIRE_FALSE(expected.empty());  // a test that passes on nothing is no test
            const auto answer = runQuery(*provider, entry.text);
            INFO("expected " << listed(expected) << "\nanswered " << listed(answer.files));
            CHECK(answer.total == expected.size());
            CHECK(answer.files == expected);
        }
    }
}

TEST_CASE("every SOP, series and study UID of the corpus finds every file holding it", "[provider]") {
    auto& c = corpus();
    for (const auto& [name, provider] : c.plugins.queryProviders()) {
        for (const std::string kind : {"SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"}) {
            for (const auto& uid : Manifest::distinct(indexedRows(), kind)) {
                const auto expected = expectedFiles([&](const test::ManifestRow& row) { return row[kind] == uid; });
                const auto answer = runQuery(*provider, kind + ":" + uid);
                INFO("provider " << name << ", query " << kind << ":" << uid);
                CHECK(answer.total == expected.size());
                CHECK(answer.files == expected);
            }
        }
    }
}

TEST_CASE("results carry the fields asked for, with the values the manifest holds", "[provider]") {
    auto& c = corpus();
    for (const auto& [name, provider] : c.plugins.queryProviders()) {
        INFO("provider " << name);
        // A named subset: only those keys (a field the object lacks may be absent or "").
        const std::vector<std::string> fields = {"PatientName", "StudyDate", "Modality", "NoSuchAttribute"};
        sdk::QueryRequest request;
        request.text = "*:*";
        request.query = sdk::MatchAllQuery{};
        request.fields = fields;
        const auto response = provider->query(request);
        REQUIRE(response.results.size() == indexedRows().size());
        for (const auto& result : response.results) {
            const auto file = fileOfUri(result.uri.str());
            INFO(file);
            REQUIRE(manifest().lists(file));
            const auto& row = manifest().byFile(file);
            for (const auto& [key, value] : result.fields)
                CHECK(std::find(fields.begin(), fields.end(), key) != fields.end());
            if (result.fields.count("NoSuchAttribute")) CHECK(result.fields.at("NoSuchAttribute").empty());
            CHECK(result.fields.count("PatientName") == 1);
            if (result.fields.count("PatientName")) CHECK(result.fields.at("PatientName") == row["PatientName"]);
            if (result.fields.count("StudyDate")) CHECK(result.fields.at("StudyDate") == row["StudyDate"]);
            if (result.fields.count("Modality")) CHECK(result.fields.at("Modality") == row["modality"]);
        }

        // `*`: every stored field, so at least every attribute the manifest lists for the file.
        for (const char* file : {"images/CT_small.dcm", "series/MR_brain_003.dcm", "charsets/chrRuss_ISO_IR_144.dcm"}) {
            if (!manifest().lists(file)) continue;
            const auto& row = manifest().byFile(file);
            INFO(file);
            sdk::QueryRequest all;
            all.text = "SOPInstanceUID:" + row["SOPInstanceUID"];
            all.query = sdk::TermQuery{"SOPInstanceUID", row["SOPInstanceUID"]};
            all.fields = {"*"};
            const auto answer = provider->query(all);
            const auto it = std::find_if(answer.results.begin(), answer.results.end(),
                                         [&](const sdk::SearchResult& r) { return fileOfUri(r.uri.str()) == file; });
            REQUIRE(it != answer.results.end());
            CHECK(it->fields.size() > 10);
            for (const auto& [columnName, keyword] : test::manifestAttributeColumns()) {
                if (row[columnName].empty()) continue;
                INFO(keyword);
                REQUIRE(it->fields.count(keyword) == 1);
                CHECK(it->fields.at(keyword) == row[columnName]);
            }
        }
    }
}

TEST_CASE("offset and limit page one stable order, consistent with the total", "[provider]") {
    auto& c = corpus();
    for (const auto& [name, provider] : c.plugins.queryProviders()) {
        for (const std::string text : {"*:*", "Modality:MR", "NOT Modality:MR", "StudyDate:[19900101 TO 20051231]"}) {
            INFO("provider " << name << ", query " << text);
            const auto full = runQuery(*provider, text);
            REQUIRE(full.uris.size() == full.total);
            CHECK(runQuery(*provider, text).uris == full.uris);  // the same order twice
            std::vector<std::string> paged;
            for (std::size_t offset = 0; offset < full.total; offset += 7) {
                const auto page = runQuery(*provider, text, {"SOPInstanceUID"}, offset, 7);
                CHECK(page.total == full.total);
                CHECK(page.uris.size() == std::min<std::size_t>(7, full.total - offset));
                paged.insert(paged.end(), page.uris.begin(), page.uris.end());
            }
            CHECK(paged == full.uris);
            const auto tail = runQuery(*provider, text, {"SOPInstanceUID"}, full.total / 2);  // offset, no limit
            CHECK(tail.total == full.total);
            CHECK(tail.uris == std::vector<std::string>(full.uris.begin() + static_cast<long>(full.total / 2), full.uris.end()));
            const auto beyond = runQuery(*provider, text, {"SOPInstanceUID"}, full.total + 10, 5);
            CHECK(beyond.total == full.total);
            CHECK(beyond.uris.empty());
            const auto none = runQuery(*provider, text, {"SOPInstanceUID"}, 0, 0);
            CHECK(none.total == full.total);
            CHECK(none.uris.empty());
        }
    }
}

TEST_CASE("all query providers give the same URI set and total for every query of the table", "[agreement]") {
    auto& c = corpus();
    const auto providers = c.plugins.queryProviders();
    if (providers.size() < 2) {
        WARN("only one query provider (" << providers.front().first << "): nothing to compare it with");
        return;
    }
    std::vector<std::string> queries;
    for (const auto& entry : queryTable()) queries.push_back(entry.text);
    std::size_t differing = 0;
    for (const auto& text : queries) {
        std::map<std::string, Answer> answers;  // by provider name
        std::map<std::string, std::string> errors;
        for (const auto& [name, provider] : providers) {
            try {
                answers[name] = runQuery(*provider, text);
            } catch (const std::exception& e) {
                errors[name] = e.what();
            }
        }
        bool same = errors.empty() && !answers.empty();
        if (same) {
            const auto& first = answers.begin()->second;
            for (const auto& [name, answer] : answers)
                same = same && answer.total == first.total && answer.files == first.files;
        }
        if (same) continue;
        if (answers.empty()) {
            FAIL_CHECK("query " << text << ": every provider threw");
            ++differing;
            continue;
        }
        ++differing;
        std::ostringstream report;
        report << "query " << text << ": providers differ";
        // Each provider's total, and the files it answers that the first provider does not (and
        // the reverse), so the difference reads at a glance.
        const auto& [firstName, first] = *answers.begin();
        for (const auto& [name, answer] : answers) {
            report << "\n  " << name << ": total " << answer.total << ", " << answer.files.size() << " file(s)";
            if (name == firstName) continue;
            std::vector<std::string> extra, missing;
            std::set_difference(answer.files.begin(), answer.files.end(), first.files.begin(), first.files.end(),
                                std::back_inserter(extra));
            std::set_difference(first.files.begin(), first.files.end(), answer.files.begin(), answer.files.end(),
                                std::back_inserter(missing));
            if (!extra.empty()) report << "\n    only in " << name << ": " << listed(extra);
            if (!missing.empty()) report << "\n    only in " << firstName << ": " << listed(missing);
        }
        for (const auto& [name, error] : errors) report << "\n  " << name << " threw: " << error;
        FAIL_CHECK(report.str());
    }
    CHECK(differing == 0);
}

}  // namespace tessera::contract
