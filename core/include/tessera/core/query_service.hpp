#pragma once
// QueryService: the one way the host searches. It parses query text once (or expands it into
// free-text terms), resolves which query providers answer (Dicoogle's rules), fans the query out
// to them in order and pages the concatenation.
//
// Paging over several providers: results are the concatenation of each provider's results in
// provider order, and `offset`/`limit` apply to that concatenation. Each provider is asked only
// for the part of the page it can contribute (its own offset and limit are derived from the
// totals of the providers before it), so a page costs no more than the page. A missing limit
// means "everything"; an offset without a limit works (Dicoogle's Integer overflow is not
// reproduced). Totals are summed; results are not de-duplicated across providers (Dicoogle
// does not either).
//
// Thread-safety: every method is const and may be called from any number of threads at once;
// the registry and settings it borrows are thread-safe, and providers are called concurrently as
// the SDK allows.
//
// Ownership: borrows the registry and settings, which must outlive it. Provider pointers handed
// out by resolveProviders() are valid while the owning plugin set is loaded.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/query_ast.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/sdk/search_result.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {

class ProviderRegistry;
class ServerSettings;

struct SearchOptions {
    std::vector<std::string> providers;  // requested provider names; empty = the defaults
    std::vector<std::string> fields;     // keywords to return; `*` alone = every stored field
    std::size_t offset = 0;
    std::optional<std::size_t> limit;  // nullopt = unlimited
    bool dimOnly = true;               // restrict to the DIM providers (search, dump) or not (export)
    // Free-text expansion (Dicoogle's `expand`): the text is not parsed as a query; see
    // QueryService::expandFreeText.
    bool expand = false;
};

struct SearchOutcome {
    std::size_t total = 0;  // every match over all providers, before paging
    std::vector<sdk::SearchResult> results;
};

class QueryService {
public:
    /// Results fetched per provider call when a caller streams a whole result set (forEach).
    static constexpr std::size_t kScanChunk = 10000;
    /// Values per query in urisMatching (keeps each query small).
    static constexpr std::size_t kValuesPerQuery = 256;

    QueryService(const ProviderRegistry& registry, const ServerSettings& settings);

    // Dicoogle §5 resolution: requested names case-insensitive among ENABLED query providers
    // (unknown/disabled → Error(InvalidArgument, "<p> is not a valid query provider")); with
    // dimOnly the set is intersected with the DIM providers (settings.dimProviders(); empty =
    // all enabled) → empty → Error(InvalidArgument, "No valid DIM providers supplied."); none
    // requested → the DIM providers (or all enabled when !dimOnly).
    // Order: the requested order (a name given twice counts once); the defaults in the
    // configured dim-providers order, or registration order. A configured DIM provider that is
    // not loaded or disabled is left out; when none requested and none is left the list is empty
    // (a search then finds nothing).
    std::vector<sdk::QueryProvider*> resolveProviders(const std::vector<std::string>& requested, bool dimOnly) const;

    /// Parses once (or expands when options.expand) and searches. Throws QuerySyntaxError
    /// (InvalidArgument) for bad syntax, the resolution errors above, and whatever a provider
    /// throws (sdk::Error).
    SearchOutcome search(std::string_view queryText, const SearchOptions& options) const;
    /// The same for an already parsed query; `text` is passed to providers for their logs.
    /// options.expand is ignored here.
    SearchOutcome search(const sdk::QueryNode& query, const std::string& text, const SearchOptions& options) const;

    /// Every match of `query` over `providers`, in provider order, fetched kScanChunk (or
    /// `chunkSize`) results per call so that a caller can stream any number of results in bounded
    /// memory. `visit` returns false to stop early. Returns how many results were visited.
    /// The index may change between chunks; a result can then be missed or seen twice.
    std::size_t forEach(const sdk::QueryNode& query, const std::string& text,
                        const std::vector<sdk::QueryProvider*>& providers, const std::vector<std::string>& fields,
                        const std::function<bool(const sdk::SearchResult&)>& visit,
                        std::size_t chunkSize = kScanChunk) const;

    // Every URI whose `field` equals one of `values` (exact TermQuery per value, OR), over the
    // DIM providers — used by unindex-by-UID now and C-MOVE later.
    // The provider's answers are checked again here (the value must equal one of `values`,
    // ASCII case-insensitively, when the provider returns the field), so a provider whose term
    // matching is broader (words) cannot widen the set. Each URI appears once, first-seen order.
    // `unmatched` (optional) receives how many of the values matched nothing.
    std::vector<sdk::Uri> urisMatching(const std::string& field, const std::vector<std::string>& values,
                                       std::size_t* unmatched = nullptr) const;

    /// Dicoogle's `expand`: `^` becomes a space, the text is split on whitespace, and every token
    /// becomes a free-text term (field ""), all of them required (BooleanQuery of Must clauses;
    /// one token is returned as itself). A token with `*` or `?` becomes a free-text
    /// WildcardQuery, every other character literal (no query syntax is interpreted, so
    /// `a:b` or `(x` are plain text). The whole text `*` or `*:*` is MatchAllQuery, as the web
    /// app sends `*:*` for an empty box. Throws Error(InvalidArgument, "No query supplied!")
    /// when there is no token.
    static sdk::QueryNode expandFreeText(std::string_view text);

private:
    std::vector<sdk::QueryProvider*> enabledProviders() const;
    std::vector<sdk::QueryProvider*> dimProviders() const;

    const ProviderRegistry& registry_;
    const ServerSettings& settings_;
};

}  // namespace tessera::core
