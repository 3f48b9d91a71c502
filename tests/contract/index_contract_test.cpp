// The indexing contract (sdk/index_provider.hpp), per provider, each on its own fresh data
// directory: records visible after commit, re-indexing a URI leaves one record, unindex removes
// and reports, bad queries are errors of the right kind, concurrent queries while indexing.
#include <algorithm>
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "contract_support.hpp"
#include "tessera/core/query/query_parser.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::contract {
namespace {

// A small corpus: one MR series of 20 slices, a CT, an MR and one of its other encodings (same
// SOP Instance UID, another URI).
std::vector<std::string> smallCorpus() {
    std::vector<std::string> files;
    for (const auto& row : manifest().rows())
        if (row.group() == "core" && row.file().rfind("series/", 0) == 0) files.push_back(row.file());
    for (const char* file : {"images/CT_small.dcm", "images/MR_small.dcm"}) files.emplace_back(file);
    const auto sop = manifest().byFile("images/MR_small.dcm")["SOPInstanceUID"];
    for (const auto& row : manifest().inGroups({"variant"}))
        if ((*row)["SOPInstanceUID"] == sop) {
            files.push_back(row->file());
            break;
        }
    return files;
}

std::size_t withSop(const ParsedSamples& samples, const std::string& sop) {
    return static_cast<std::size_t>(std::count_if(samples.files.begin(), samples.files.end(), [&](const std::string& f) {
        return manifest().byFile(f)["SOPInstanceUID"] == sop;
    }));
}

}  // namespace

TEST_CASE("index, re-index, unindex and commit behave as the SDK says", "[provider]") {
    const auto under = LoadedPlugins().queryProviders();  // names only; each gets its own host below
    for (const auto& [queryName, ignored] : under) {
        (void)ignored;
        LoadedPlugins plugins;
        auto* query = plugins.host().registry().query(queryName);
        REQUIRE(query != nullptr);
        const auto indexers = plugins.indexProvidersBeside(queryName);
        INFO("provider " << queryName);
        REQUIRE_FALSE(indexers.empty());

        const auto samples = parseSamples(smallCorpus());
        REQUIRE(samples.items.size() > 20);
        const auto n = samples.items.size();

        // Nothing indexed: nothing found, no error.
        CHECK(runQuery(*query, "*:*").total == 0);
        CHECK(runQuery(*query, "PatientName:doe").total == 0);

        // Index + commit: everything visible.
        for (auto* index : indexers) indexAll(*index, samples);
        const auto all = runQuery(*query, "*:*");
        CHECK(all.total == n);
        auto files = samples.files;
        std::sort(files.begin(), files.end());
        CHECK(all.files == files);

        // Re-indexing the same URIs leaves one record each.
        for (auto* index : indexers) indexAll(*index, samples);
        CHECK(runQuery(*query, "*:*").total == n);
        const auto& ct = manifest().byFile("images/CT_small.dcm");
        CHECK(runQuery(*query, "SOPInstanceUID:" + ct["SOPInstanceUID"]).files == std::vector<std::string>{"images/CT_small.dcm"});
        // One object re-indexed alone (a C-STORE of the same instance) is still one record.
        const auto ctAt = static_cast<std::size_t>(
            std::find(samples.files.begin(), samples.files.end(), "images/CT_small.dcm") - samples.files.begin());
        for (auto* index : indexers) {
            CHECK(index->index(std::span(&samples.items[ctAt], 1)).indexed == 1);
            index->commit();
        }
        CHECK(runQuery(*query, "SOPInstanceUID:" + ct["SOPInstanceUID"]).total == 1);

        // The same SOP Instance UID at another URI is another record (records are keyed by URI).
        const auto& mr = manifest().byFile("images/MR_small.dcm");
        const auto sameSop = withSop(samples, mr["SOPInstanceUID"]);
        CHECK(sameSop >= 2);
        CHECK(runQuery(*query, "SOPInstanceUID:" + mr["SOPInstanceUID"]).total == sameSop);

        // Unindex: reported, gone after commit, the other encodings stay.
        const auto mrUri = sdk::Uri::parse(sampleUri("images/MR_small.dcm"));
        for (auto* index : indexers) {
            const auto report = index->unindex(std::span(&mrUri, 1));
            CHECK(report.removed == 1);
            CHECK(report.notFound == 0);
            CHECK(report.failed == 0);
            index->commit();
        }
        CHECK(runQuery(*query, "*:*").total == n - 1);
        const auto afterUnindex = runQuery(*query, "SOPInstanceUID:" + mr["SOPInstanceUID"]);
        CHECK(afterUnindex.total == sameSop - 1);
        CHECK(std::count(afterUnindex.files.begin(), afterUnindex.files.end(), "images/MR_small.dcm") == 0);
        // Again, and a URI never indexed: not found, nothing failed.
        const std::vector<sdk::Uri> unknown = {mrUri, sdk::Uri::parse(sampleUri("images/no-such-file.dcm"))};
        for (auto* index : indexers) {
            const auto report = index->unindex(unknown);
            CHECK(report.removed == 0);
            CHECK(report.notFound == 2);
            CHECK(report.failed == 0);
            index->commit();
        }
        CHECK(runQuery(*query, "*:*").total == n - 1);

        // Several at once, then back.
        std::vector<sdk::Uri> series;
        for (const auto& file : samples.files)
            if (file.rfind("series/", 0) == 0) series.push_back(sdk::Uri::parse(sampleUri(file)));
        for (auto* index : indexers) {
            CHECK(index->unindex(series).removed == series.size());
            index->commit();
        }
        CHECK(runQuery(*query, "*:*").total == n - 1 - series.size());
        CHECK(runQuery(*query, "SeriesInstanceUID:" + manifest().byFile("series/MR_brain_001.dcm")["SeriesInstanceUID"]).total == 0);
        for (auto* index : indexers) indexAll(*index, samples);
        CHECK(runQuery(*query, "*:*").total == n);
        CHECK(runQuery(*query, "SOPInstanceUID:" + mr["SOPInstanceUID"]).total == sameSop);

        // Queries answer while the index is being written (the SDK allows both at once).
        std::atomic<bool> writing{true};
        std::atomic<std::size_t> queryErrors{0}, badTotals{0};
        std::thread reader([&] {
            while (writing.load()) {
                try {
                    const auto total = runQuery(*query, "Modality:MR").total;
                    if (total == 0) ++badTotals;  // re-indexing replaces; it never empties the set
                } catch (...) {
                    ++queryErrors;
                }
            }
        });
        for (int round = 0; round < 3; ++round)
            for (auto* index : indexers) indexAll(*index, samples);
        writing = false;
        reader.join();
        CHECK(queryErrors == 0);
        CHECK(badTotals == 0);
        CHECK(runQuery(*query, "*:*").total == n);
    }
}

TEST_CASE("a query a provider cannot answer is InvalidArgument, never a crash, odd ones are empty", "[provider]") {
    LoadedPlugins plugins;
    for (const auto& [name, query] : plugins.queryProviders()) {
        INFO("provider " << name);
        for (const auto& text : {"NoSuchAttribute:x", "PatientName:\"\"\"x\"", "StudyDate:[x TO y]", "SeriesNumber:[a TO 3]",
                                 "PatientName:*", "PatientName:???", "Modality:\\*"}) {
            INFO(text);
            sdk::QueryRequest request;
            request.text = text;
            try {
                request.query = core::parseQuery(text);
            } catch (const sdk::Error&) {
                continue;  // the parser's business, not the provider's
            }
            try {
                const auto response = query->query(request);
                CHECK(response.results.size() <= response.total);
            } catch (const sdk::Error& e) {
                CHECK(e.code() == sdk::ErrorCode::InvalidArgument);
            }
        }
        // Deep trees (the parser's limit) are answered or refused cleanly.
        sdk::QueryNode deep = sdk::TermQuery{"PatientName", "doe"};
        for (int i = 0; i < 64; ++i) {
            sdk::BooleanQuery wrap;
            wrap.clauses.push_back({sdk::Occur::Must, std::move(deep)});
            deep = std::move(wrap);
        }
        sdk::QueryRequest request;
        request.text = "(deep)";
        request.query = deep;
        try {
            CHECK(query->query(request).total == 0);
        } catch (const sdk::Error& e) {
            CHECK(e.code() == sdk::ErrorCode::InvalidArgument);
        }
    }
}

}  // namespace tessera::contract
