// QueryService against two real query providers loaded from shared libraries (test-memory and
// xapian), fed with real sample files: provider resolution, paging over the concatenation,
// free-text expansion, chunked streaming and URI lookup by UID.

#include "tessera/core/query_service.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <set>

#include "search_test_support.hpp"
#include "tessera/core/query/query_parser.hpp"
#include "tessera/core/query/query_printer.hpp"
#include "tessera/sdk/error.hpp"

using namespace search_test;
using tessera::core::QueryService;
using tessera::core::SearchOptions;

namespace {

std::vector<std::string> names(const std::vector<sdk::QueryProvider*>& providers) {
    std::vector<std::string> out;
    for (auto* provider : providers) out.push_back(provider->name());
    return out;
}

// The message of the sdk::Error that `action` throws, with its code.
template <typename Action>
std::pair<sdk::ErrorCode, std::string> errorOf(Action action) {
    try {
        action();
    } catch (const sdk::Error& e) {
        return {e.code(), e.what()};
    }
    FAIL("no sdk::Error thrown");
    return {};
}

}  // namespace

TEST_CASE("resolveProviders follows Dicoogle's rules", "[query_service]") {
    Harness h;
    const auto& service = *h.service;

    SECTION("nothing requested: every enabled provider in registration order, DIM or not") {
        CHECK(names(service.resolveProviders({}, true)) == std::vector<std::string>{"test-memory", "xapian"});
        CHECK(names(service.resolveProviders({}, false)) == std::vector<std::string>{"test-memory", "xapian"});
    }
    SECTION("names are case-insensitive, kept in the requested order, and counted once") {
        CHECK(names(service.resolveProviders({"XAPIAN", "Test-Memory", "xapian"}, true)) ==
              std::vector<std::string>{"xapian", "test-memory"});
    }
    SECTION("an unknown provider is refused with its name") {
        const auto [code, message] = errorOf([&] { service.resolveProviders({"xapian", "lucene"}, true); });
        CHECK(code == sdk::ErrorCode::InvalidArgument);
        CHECK(message == "lucene is not a valid query provider");
    }
    SECTION("a disabled provider is not valid and not a default") {
        h.host->registry().query("test-memory")->disable();
        CHECK(errorOf([&] { service.resolveProviders({"test-memory"}, false); }).second ==
              "test-memory is not a valid query provider");
        CHECK(names(service.resolveProviders({}, true)) == std::vector<std::string>{"xapian"});
        CHECK(names(service.resolveProviders({}, false)) == std::vector<std::string>{"xapian"});
    }
    SECTION("configured DIM providers: the default set, in the configured order, and a filter on requests") {
        h.settings->set("archive.dim-providers.dim-provider", "xapian");
        CHECK(names(service.resolveProviders({}, true)) == std::vector<std::string>{"xapian"});
        CHECK(names(service.resolveProviders({}, false)) == std::vector<std::string>{"test-memory", "xapian"});
        // Not a DIM provider: dropped from a DIM request; alone it leaves nothing.
        CHECK(names(service.resolveProviders({"test-memory", "xapian"}, true)) == std::vector<std::string>{"xapian"});
        const auto [code, message] = errorOf([&] { service.resolveProviders({"test-memory"}, true); });
        CHECK(code == sdk::ErrorCode::InvalidArgument);
        CHECK(message == "No valid DIM providers supplied.");
        // Exports are not DIM-filtered.
        CHECK(names(service.resolveProviders({"test-memory"}, false)) == std::vector<std::string>{"test-memory"});

        h.settings->set("archive.dim-providers.dim-provider[1]", "TEST-MEMORY");
        CHECK(names(service.resolveProviders({}, true)) == std::vector<std::string>{"xapian", "test-memory"});
    }
    SECTION("configured DIM providers that are not loaded leave an empty default set") {
        h.settings->set("archive.dim-providers.dim-provider", "lucene");
        CHECK(service.resolveProviders({}, true).empty());
        CHECK(errorOf([&] { service.resolveProviders({"xapian"}, true); }).second ==
              "No valid DIM providers supplied.");
    }
}

TEST_CASE("search concatenates providers in order and pages the concatenation", "[query_service]") {
    Harness h;
    h.index();
    const auto& service = *h.service;
    const std::size_t n = corpus().size();

    SearchOptions all;
    all.fields = {"SOPInstanceUID"};
    const auto everything = service.search("*:*", all);
    REQUIRE(everything.total == 2 * n);
    REQUIRE(everything.results.size() == 2 * n);
    const auto full = uris(everything.results);
    // test-memory first (its own order), then xapian (indexing order).
    const std::set<std::string> firstHalf(full.begin(), full.begin() + static_cast<long>(n));
    CHECK(firstHalf.size() == n);
    for (std::size_t i = 0; i < n; ++i) CHECK(full[n + i] == uriOf(corpus()[i]));

    for (std::size_t offset = 0; offset <= 2 * n + 1; ++offset) {
        for (std::optional<std::size_t> limit :
             {std::optional<std::size_t>{}, std::optional<std::size_t>{0}, std::optional<std::size_t>{1},
              std::optional<std::size_t>{3}, std::optional<std::size_t>{n}}) {
            SearchOptions paged = all;
            paged.offset = offset;
            paged.limit = limit;
            const auto page = service.search("*:*", paged);
            INFO("offset " << offset << " limit " << (limit ? std::to_string(*limit) : "none"));
            CHECK(page.total == 2 * n);
            const std::size_t begin = std::min(offset, full.size());
            const std::size_t end = limit ? std::min(full.size(), begin + *limit) : full.size();
            CHECK(uris(page.results) == std::vector<std::string>(full.begin() + static_cast<long>(begin),
                                                                 full.begin() + static_cast<long>(end)));
        }
    }
}

TEST_CASE("search returns the requested fields and the matching objects only", "[query_service]") {
    Harness h;
    h.index();
    SearchOptions options;
    options.providers = {"xapian"};
    options.fields = {"PatientID", "Modality", "SOPInstanceUID"};

    const auto ct = h.service->search("PatientID:1CT1", options);
    REQUIRE(ct.total == 1);
    CHECK(ct.results.front().uri.str() == uriOf("images/CT_small.dcm"));
    CHECK(ct.results.front().fields.at("PatientID") == "1CT1");
    CHECK(ct.results.front().fields.at("Modality") == "CT");
    CHECK(ct.results.front().fields.count("PatientName") == 0);

    const auto series = h.service->search("PatientID:123565 AND Modality:MR", options);
    CHECK(series.total == 5);

    // Both providers answer; the totals add up.
    options.providers = {};
    CHECK(h.service->search("PatientID:8NM1", options).total == 4);
}

TEST_CASE("search reports bad queries and provider refusals as InvalidArgument", "[query_service]") {
    Harness h;
    h.index();
    SearchOptions options;
    CHECK_THROWS_AS(h.service->search("PatientID:(1CT1", options), tessera::core::QuerySyntaxError);
    CHECK_THROWS_AS(h.service->search("", options), tessera::core::QuerySyntaxError);
    // test-memory answers no ranges: its error reaches the caller unchanged.
    const auto [code, message] = errorOf([&] { h.service->search("StudyDate:[20000101 TO 20201231]", options); });
    CHECK(code == sdk::ErrorCode::InvalidArgument);
    CHECK(message == "test-memory answers no phrase or range queries");
    options.providers = {"xapian"};
    CHECK(h.service->search("StudyDate:[20040101 TO 20041231]", options).total >= 3);
}

TEST_CASE("expandFreeText makes every token a required free-text term", "[query_service]") {
    using tessera::core::toDebugString;
    CHECK(toDebugString(QueryService::expandFreeText("smith")) == "smith");
    CHECK(toDebugString(QueryService::expandFreeText("  CompressedSamples^MR1 \t brain ")) ==
          "(+CompressedSamples +MR1 +brain)");
    CHECK(toDebugString(QueryService::expandFreeText("CT*")) == "CT*");
    // Query syntax is not interpreted: these are literal words.
    CHECK(toDebugString(QueryService::expandFreeText("PatientID:1CT1")) == "PatientID\\:1CT1");
    CHECK(std::holds_alternative<sdk::TermQuery>(QueryService::expandFreeText("(a")));
    const auto escaped = QueryService::expandFreeText("a\\b*");
    REQUIRE(std::holds_alternative<sdk::WildcardQuery>(escaped));
    CHECK(std::get<sdk::WildcardQuery>(escaped).pattern == "a\\\\b*");
    CHECK(std::holds_alternative<sdk::MatchAllQuery>(QueryService::expandFreeText("*:*")));
    CHECK(std::holds_alternative<sdk::MatchAllQuery>(QueryService::expandFreeText(" * ")));
    for (const char* empty : {"", "   ", "^^^"}) {
        const auto [code, message] = errorOf([&] { QueryService::expandFreeText(empty); });
        CHECK(code == sdk::ErrorCode::InvalidArgument);
        CHECK(message == "No query supplied!");
    }
    CHECK_THROWS_AS(QueryService::expandFreeText(std::string(tessera::core::kMaxQueryLength + 1, 'a')), sdk::Error);
}

TEST_CASE("search with expand finds objects by their words", "[query_service]") {
    Harness h;
    h.index();
    SearchOptions options;
    options.providers = {"xapian"};
    options.expand = true;
    const auto mr = h.service->search("compressedsamples^MR1", options);
    REQUIRE(mr.total == 1);
    CHECK(mr.results.front().uri.str() == uriOf("images/MR_small.dcm"));
    // Every token is required: the NM patient's name has "compressedsamples" but not "mr1".
    CHECK(h.service->search("compressedsamples", options).total == 4);
    CHECK(h.service->search("compressedsamples nosuchword", options).total == 0);
    // Unexpanded, "a:b" would be a field query; expanded, it is text and no syntax error.
    CHECK_NOTHROW(h.service->search("PatientID:(x", options));
}

TEST_CASE("forEach streams every match in chunks and stops when asked", "[query_service]") {
    Harness h;
    h.index();
    const auto providers = h.service->resolveProviders({}, false);
    std::vector<std::string> seen;
    const auto visited = h.service->forEach(
        sdk::MatchAllQuery{}, "*:*", providers, {"SOPInstanceUID"},
        [&](const sdk::SearchResult& r) {
            seen.push_back(r.uri.str());
            return true;
        },
        3);
    CHECK(visited == 2 * corpus().size());
    SearchOptions all;
    all.dimOnly = false;
    CHECK(seen == uris(h.service->search("*:*", all).results));

    std::size_t calls = 0;
    CHECK(h.service->forEach(
              sdk::MatchAllQuery{}, "*:*", providers, {}, [&](const sdk::SearchResult&) { return ++calls < 4; }, 2) ==
          4);
    // A chunk that exactly divides a provider's total, and a query matching nothing.
    CHECK(h.service->forEach(
              sdk::MatchAllQuery{}, "*:*", providers, {}, [](const sdk::SearchResult&) { return true; },
              corpus().size()) == 2 * corpus().size());
    CHECK(h.service->forEach(sdk::TermQuery{"PatientID", "nobody"}, "", providers, {},
                             [](const sdk::SearchResult&) { return true; }) == 0);
}

TEST_CASE("urisMatching finds the URIs of UIDs over the DIM providers, each once", "[query_service]") {
    Harness h;
    h.index();
    const std::string ctUid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";
    auto found = h.service->urisMatching("SOPInstanceUID", {ctUid});
    CHECK(found == std::vector<sdk::Uri>{sdk::Uri::parse(uriOf("images/CT_small.dcm"))});

    const std::string seriesUid = "0.0.0.0.3.8811.2.20010413115754.12432";
    found = h.service->urisMatching("SeriesInstanceUID", {seriesUid, "1.2.3.4.5.6.7"});
    std::set<std::string> expected;
    for (int i = 1; i <= 5; ++i) expected.insert(uriOf("series/MR_brain_00" + std::to_string(i) + ".dcm"));
    std::set<std::string> got;
    for (const auto& uri : found) got.insert(uri.str());
    CHECK(found.size() == 5);
    CHECK(got == expected);

    CHECK(h.service->urisMatching("SOPInstanceUID", {"1.2.3.4.5.6.7"}).empty());
    CHECK(h.service->urisMatching("SOPInstanceUID", {}).empty());

    // Many values: more than one query's worth.
    std::vector<std::string> many(QueryService::kValuesPerQuery * 2 + 3, "9.9.9");
    many.push_back(ctUid);
    CHECK(h.service->urisMatching("SOPInstanceUID", many).size() == 1);

    // Only the DIM providers are asked.
    h.settings->set("archive.dim-providers.dim-provider", "nothing-loaded");
    CHECK(h.service->urisMatching("SOPInstanceUID", {ctUid}).empty());
}
