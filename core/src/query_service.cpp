#include "tessera/core/query_service.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "tessera/core/provider_registry.hpp"
#include "tessera/core/query/query_parser.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using sdk::Error;
using sdk::ErrorCode;

std::string asciiLower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    return out;
}

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return text;
}

void appendUnique(std::vector<sdk::QueryProvider*>& list, sdk::QueryProvider* provider) {
    if (std::find(list.begin(), list.end(), provider) == list.end()) list.push_back(provider);
}

// One expanded token: literal text, except that * and ? stay wildcards.
sdk::QueryNode freeTextToken(const std::string& token) {
    if (token.find_first_of("*?") == std::string::npos) return sdk::TermQuery{"", token};
    std::string pattern;
    for (char c : token) {
        if (c == '\\')
            pattern += "\\\\";
        else
            pattern.push_back(c);
    }
    return sdk::WildcardQuery{"", pattern};
}

}  // namespace

QueryService::QueryService(const ProviderRegistry& registry, const ServerSettings& settings)
    : registry_(registry), settings_(settings) {}

std::vector<sdk::QueryProvider*> QueryService::enabledProviders() const {
    std::vector<sdk::QueryProvider*> providers;
    for (const auto& entry : registry_.list(ProviderKind::Query)) {
        if (!entry.provider->isEnabled()) continue;
        if (auto* provider = registry_.query(entry.name)) appendUnique(providers, provider);
    }
    return providers;
}

std::vector<sdk::QueryProvider*> QueryService::dimProviders() const {
    const auto configured = settings_.dimProviders();
    if (configured.empty()) return enabledProviders();
    std::vector<sdk::QueryProvider*> providers;
    for (const auto& name : configured) {
        auto* provider = registry_.query(name);
        if (provider && provider->isEnabled()) appendUnique(providers, provider);
    }
    return providers;
}

std::vector<sdk::QueryProvider*> QueryService::resolveProviders(const std::vector<std::string>& requested,
                                                                bool dimOnly) const {
    if (requested.empty()) return dimOnly ? dimProviders() : enabledProviders();
    std::vector<sdk::QueryProvider*> chosen;
    for (const auto& name : requested) {
        auto* provider = registry_.query(name);
        if (!provider || !provider->isEnabled())
            throw Error(ErrorCode::InvalidArgument, name + " is not a valid query provider");
        appendUnique(chosen, provider);
    }
    if (!dimOnly) return chosen;
    const auto dim = dimProviders();
    std::erase_if(chosen, [&](sdk::QueryProvider* p) { return std::find(dim.begin(), dim.end(), p) == dim.end(); });
    if (chosen.empty()) throw Error(ErrorCode::InvalidArgument, "No valid DIM providers supplied.");
    return chosen;
}

SearchOutcome QueryService::search(std::string_view queryText, const SearchOptions& options) const {
    const sdk::QueryNode query = options.expand ? expandFreeText(queryText) : parseQuery(queryText);
    return search(query, std::string(queryText), options);
}

SearchOutcome QueryService::search(const sdk::QueryNode& query, const std::string& text,
                                   const SearchOptions& options) const {
    const auto providers = resolveProviders(options.providers, options.dimOnly);
    SearchOutcome outcome;
    std::size_t toSkip = options.offset;              // of the concatenation, still to skip
    std::optional<std::size_t> room = options.limit;  // results the page can still take
    for (auto* provider : providers) {
        sdk::QueryRequest request;
        request.text = text;
        request.query = query;
        request.fields = options.fields;
        request.offset = toSkip;
        request.limit = room;
        auto response = provider->query(request);
        outcome.total += response.total;
        // What this provider's matches took of the offset; the rest is for the next providers.
        toSkip -= std::min(toSkip, response.total);
        // A provider that returns more than it was asked for must not overflow the page.
        if (room && response.results.size() > *room) response.results.resize(*room);
        if (room) *room -= response.results.size();
        for (auto& result : response.results) outcome.results.push_back(std::move(result));
    }
    return outcome;
}

std::size_t QueryService::forEach(const sdk::QueryNode& query, const std::string& text,
                                  const std::vector<sdk::QueryProvider*>& providers,
                                  const std::vector<std::string>& fields,
                                  const std::function<bool(const sdk::SearchResult&)>& visit,
                                  std::size_t chunkSize) const {
    chunkSize = std::max<std::size_t>(chunkSize, 1);
    std::size_t visited = 0;
    for (auto* provider : providers) {
        sdk::QueryRequest request;
        request.text = text;
        request.query = query;
        request.fields = fields;
        request.limit = chunkSize;
        for (std::size_t offset = 0;; offset += chunkSize) {
            request.offset = offset;
            const auto response = provider->query(request);
            for (const auto& result : response.results) {
                ++visited;
                if (!visit(result)) return visited;
            }
            // A short page, or the total reached: this provider has nothing more.
            if (response.results.size() < chunkSize || offset + chunkSize >= response.total) break;
        }
    }
    return visited;
}

std::vector<sdk::Uri> QueryService::urisMatching(const std::string& field, const std::vector<std::string>& values,
                                                 std::size_t* unmatched) const {
    std::vector<sdk::Uri> uris;
    std::set<std::string> matchedValues;
    if (unmatched) *unmatched = 0;
    if (values.empty()) return uris;
    const auto providers = resolveProviders({}, true);
    std::unordered_set<std::string> seen;
    for (std::size_t start = 0; start < values.size(); start += kValuesPerQuery) {
        const auto end = std::min(values.size(), start + kValuesPerQuery);
        std::set<std::string> wanted;
        sdk::BooleanQuery anyOf;
        std::string text;
        for (std::size_t i = start; i < end; ++i) {
            wanted.insert(asciiLower(values[i]));
            anyOf.clauses.push_back({sdk::Occur::Should, sdk::TermQuery{field, values[i]}});
            text += (text.empty() ? "" : " OR ") + field + ":\"" + values[i] + "\"";
        }
        const sdk::QueryNode query =
            anyOf.clauses.size() == 1 ? anyOf.clauses.front().node : sdk::QueryNode(std::move(anyOf));
        forEach(query, text, providers, {field}, [&](const sdk::SearchResult& result) {
            auto it = result.fields.find(field);
            if (it != result.fields.end()) {
                const auto value = asciiLower(trimmed(it->second));
                if (wanted.count(value) == 0) return true;
                matchedValues.insert(value);
            }
            if (seen.insert(result.uri.str()).second) uris.push_back(result.uri);
            return true;
        });
    }
    if (unmatched) {
        std::set<std::string> distinct;
        for (const auto& value : values) distinct.insert(asciiLower(value));
        for (const auto& value : distinct) *unmatched += matchedValues.count(value) == 0 ? 1 : 0;
    }
    return uris;
}

sdk::QueryNode QueryService::expandFreeText(std::string_view text) {
    if (text.size() > kMaxQueryLength)
        throw Error(ErrorCode::InvalidArgument,
                    "The query is longer than " + std::to_string(kMaxQueryLength) + " bytes");
    const auto whole = trimmed(text);
    if (whole == "*" || whole == "*:*") return sdk::MatchAllQuery{};
    std::vector<std::string> tokens;
    std::string current;
    for (char c : whole) {
        if (isSpace(c) || c == '^') {
            if (!current.empty()) tokens.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) tokens.push_back(std::move(current));
    if (tokens.empty()) throw Error(ErrorCode::InvalidArgument, "No query supplied!");
    if (tokens.size() == 1) return freeTextToken(tokens.front());
    sdk::BooleanQuery all;
    for (const auto& token : tokens) all.clauses.push_back({sdk::Occur::Must, freeTextToken(token)});
    return all;
}

}  // namespace tessera::core
