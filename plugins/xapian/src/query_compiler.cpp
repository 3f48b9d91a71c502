#include "tessera/plugins/xapian/query_compiler.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// Trees come from the host's parser (depth-capped), but a provider must not trust its callers
/// with its stack either.
constexpr std::size_t kMaxDepth = 256;

/// A fresh match-everything query. Not Xapian::Query::MatchAll: that is one shared object whose
/// reference count is not atomic, and queries are compiled on many threads at once.
Xapian::Query matchAll() { return Xapian::Query(std::string()); }

Xapian::Query anyOf(std::vector<Xapian::Query>& parts) {
    if (parts.empty()) return Xapian::Query();
    if (parts.size() == 1) return parts.front();
    return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

/// The terms of `query` when it is a term or an OR of terms (what a TermQuery on a field
/// compiles to: the exact term OR the word terms); false otherwise.
bool orOfTerms(const Xapian::Query& query, std::vector<std::string>& terms) {
    const auto type = query.get_type();
    if (type == Xapian::Query::LEAF_TERM) {
        terms.push_back(*query.get_terms_begin());
        return true;
    }
    if (type != Xapian::Query::OP_OR) return false;
    for (std::size_t i = 0; i < query.get_num_subqueries(); ++i)
        if (query.get_subquery(i).get_type() != Xapian::Query::LEAF_TERM) return false;
    for (auto it = query.get_terms_begin(); it != query.get_terms_end(); ++it) terms.push_back(*it);
    return true;
}

/// An OR of clauses that are all terms or ORs of terms (a C-FIND's 64 study UIDs, `a OR b`)
/// as one OR over the sorted distinct terms: the same documents, and Xapian opens the posting
/// lists in query order, so sorted terms walk the postlist B-tree forwards instead of jumping
/// between the exact-term and word-term regions per clause (a root-to-leaf re-read each).
Xapian::Query anyOfSorted(std::vector<Xapian::Query>& parts) {
    if (parts.size() < 2) return anyOf(parts);
    std::vector<std::string> terms;
    for (const auto& part : parts)
        if (!orOfTerms(part, terms)) return anyOf(parts);
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    if (terms.size() == 1) return Xapian::Query(terms.front());
    return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
}

Xapian::Query allOf(std::vector<Xapian::Query>& parts) {
    if (parts.empty()) return Xapian::Query();
    if (parts.size() == 1) return parts.front();
    return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());
}

Xapian::Query termsQuery(Xapian::Query::op op, const std::vector<std::string>& terms, Xapian::termcount window = 0) {
    if (terms.empty()) return Xapian::Query();
    if (terms.size() == 1) return Xapian::Query(terms.front());
    return Xapian::Query(op, terms.begin(), terms.end(), window);
}

/// Documents with some key of the field in range, from the value slots: Xapian's value range over
/// the single slot, plus, only for a field some document had several keys for, the packed multi
/// slot. Costs one step per document having the field.
Xapian::Query slotRangeQuery(const FieldInfo& info, KeyRange range) {
    Xapian::Query single = singleValueRangeQuery(singleSlot(info.id), range);
    if (!info.multiValued) return single;
    Xapian::Query multi((new AnyValueRangeSource(multiSlot(info.id), std::move(range)))->release());
    return Xapian::Query(Xapian::Query::OP_OR, single, multi);
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

/// A parsed wildcard pattern: code points, with kStar / kOne for the wildcards.
struct Pattern {
    static constexpr unsigned kStar = 0xffffffffu;
    static constexpr unsigned kOne = 0xfffffffeu;
    std::vector<unsigned> symbols;
    std::string literalPrefix;  ///< lower-cased UTF-8 before the first wildcard
    bool onlyStars = true;
    bool trailingStarOnly = false;  ///< literal prefix then exactly one '*' at the end
};

std::vector<unsigned> codePoints(std::string_view utf8) {
    std::vector<unsigned> out;
    for (Xapian::Utf8Iterator it(utf8.data(), utf8.size()); it != Xapian::Utf8Iterator(); ++it) out.push_back(*it);
    return out;
}

Pattern parsePattern(std::string_view raw) {
    Pattern pattern;
    const std::vector<unsigned> input = codePoints(raw);
    bool seenWildcard = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        unsigned cp = input[i];
        bool literal = true;
        if (cp == '\\' && i + 1 < input.size() && (input[i + 1] == '*' || input[i + 1] == '?' || input[i + 1] == '\\')) {
            cp = input[++i];
        } else if (cp == '*') {
            cp = Pattern::kStar;
            literal = false;
        } else if (cp == '?') {
            cp = Pattern::kOne;
            literal = false;
        }
        if (literal) {
            cp = Xapian::Unicode::tolower(cp);
            pattern.onlyStars = false;
            if (!seenWildcard) Xapian::Unicode::append_utf8(pattern.literalPrefix, cp);
        } else {
            if (cp == Pattern::kOne) pattern.onlyStars = false;
            seenWildcard = true;
        }
        pattern.symbols.push_back(cp);
    }
    std::size_t wildcards = 0;
    for (unsigned s : pattern.symbols)
        if (s == Pattern::kStar || s == Pattern::kOne) ++wildcards;
    pattern.trailingStarOnly = wildcards == 1 && !pattern.symbols.empty() && pattern.symbols.back() == Pattern::kStar &&
                               !pattern.literalPrefix.empty();
    return pattern;
}

/// Glob match over code points: iterative, backtracking only to the last '*' (linear-ish, no
/// exponential blow-up on hostile patterns).
bool globMatch(const std::vector<unsigned>& pattern, const std::vector<unsigned>& text) {
    std::size_t p = 0, t = 0, starP = std::string::npos, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == Pattern::kOne || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == Pattern::kStar) {
            starP = p++;
            starT = t;
        } else if (starP != std::string::npos) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == Pattern::kStar) ++p;
    return p == pattern.size();
}

/// Listing one whole-value term and opening its posting list costs about as much as reading
/// this many slot values: the break-even point between the two ways to answer a key range of a
/// field that keeps range slots, when the range is the whole query (layout 4's figures, from
/// bench/xapian_plugin_bench.cpp).
constexpr std::size_t kSlotValuesPerTerm = 50;
/// The same inside a larger query, where the slots are only read for documents the other
/// clauses allow, while every listed term's posting list is still opened.
constexpr std::size_t kSlotValuesPerNestedTerm = 200;
/// Terms always worth listing, however few documents have the field.
constexpr std::size_t kMinTermBudget = 100;

void checkExpansion(std::size_t count) {
    if (count > kMaxExpansion)
        throw Error(ErrorCode::InvalidArgument,
                    "The query expands to more than " + std::to_string(kMaxExpansion) + " distinct values; narrow it");
}

}  // namespace

QueryCompiler::QueryCompiler(const Xapian::Database& db, const FieldCatalogue& catalogue) : db_(db), catalogue_(catalogue) {}

Xapian::Query QueryCompiler::compile(const sdk::QueryNode& node) const { return compileNode(node, 0); }

CompiledQuery QueryCompiler::compileCounted(const sdk::QueryNode& node) const {
    CompiledQuery compiled;
    if (const auto* termQuery = std::get_if<sdk::TermQuery>(&node)) compiled.query = term(*termQuery, &compiled.total);
    else if (const auto* rangeQuery = std::get_if<sdk::RangeQuery>(&node)) compiled.query = range(*rangeQuery, &compiled.total);
    else if (const auto* wildcardQuery = std::get_if<sdk::WildcardQuery>(&node); wildcardQuery && !wildcardQuery->field.empty() &&
             parsePattern(wildcardQuery->pattern).onlyStars) {
        // `Field:*`: every document has exactly one field-set term, so the sets' frequencies add up.
        compiled.query = wildcard(*wildcardQuery);
        Xapian::doccount sum = 0;
        if (const auto info = catalogue_.find(wildcardQuery->field))
            for (const auto& setTerm : catalogue_.fieldSetTermsWith(info->id)) sum += db_.get_termfreq(setTerm);
        compiled.total = sum;
    }
    else compiled.query = compile(node);
    return compiled;
}

Xapian::Query QueryCompiler::compileNode(const sdk::QueryNode& node, std::size_t depth) const {
    if (depth > kMaxDepth) throw Error(ErrorCode::InvalidArgument, "The query is nested too deeply");
    return std::visit(
        [&](const auto& q) -> Xapian::Query {
            using T = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<T, sdk::MatchAllQuery>) return matchAll();
            else if constexpr (std::is_same_v<T, sdk::TermQuery>) return term(q);
            else if constexpr (std::is_same_v<T, sdk::PhraseQuery>) return phrase(q);
            else if constexpr (std::is_same_v<T, sdk::WildcardQuery>) return wildcard(q);
            else if constexpr (std::is_same_v<T, sdk::RangeQuery>) return range(q);
            else return boolean(q, depth);
        },
        node);
}

Xapian::Query QueryCompiler::term(const sdk::TermQuery& query, std::optional<Xapian::doccount>* total) const {
    const std::string value = lowerCase(trimmed(query.value));
    const std::vector<std::string> valueWords = words(value);
    if (query.field.empty()) {
        // Every word, each in some free-text field.
        if (valueWords.empty()) return Xapian::Query();
        const auto fields = catalogue_.freeTextFields();
        std::vector<Xapian::Query> all;
        for (const auto& word : valueWords) {
            std::vector<std::string> terms;
            for (const auto& field : fields) freeTextWordTerms(field, word, terms);
            if (terms.empty()) return Xapian::Query();
            all.push_back(termsQuery(Xapian::Query::OP_OR, terms));
        }
        return allOf(all);
    }
    // A field no document has: no term of it exists.
    const auto info = catalogue_.find(query.field);
    if (!info) return Xapian::Query();
    const FieldKind kind = info->kind;
    std::vector<Xapian::Query> alternatives;
    const std::string normalised = normaliseForTerm(kind, value);
    alternatives.emplace_back(exactTerm(info->id, normalised));
    std::vector<std::string> terms;
    for (const auto& word : valueWords) terms.push_back(wordTerm(info->id, word));
    if (!terms.empty()) alternatives.push_back(termsQuery(Xapian::Query::OP_AND, terms));
    if (kind == FieldKind::Numeric) {
        if (auto key = sortableKey(kind, value)) {
            std::optional<Xapian::doccount> equalTotal;
            alternatives.push_back(keyRange(*info, KeyRange{key, key, true, true}, total ? &equalTotal : nullptr));
            // The exact term is one of the equal-key terms; if the words match nothing either,
            // the equal-key count is the answer.
            if (total && equalTotal &&
                (terms.empty() || std::any_of(terms.begin(), terms.end(), [&](const std::string& t) { return !db_.term_exists(t); })))
                *total = equalTotal;
        }
    }
    return anyOf(alternatives);
}

Xapian::Query QueryCompiler::phrase(const sdk::PhraseQuery& query) const {
    const std::string value = lowerCase(trimmed(query.phrase));
    const std::vector<std::string> phraseWords = words(value);
    if (phraseWords.size() <= 1) return term(sdk::TermQuery{query.field, query.phrase});
    std::vector<std::string> terms;
    const auto window = static_cast<Xapian::termcount>(phraseWords.size());
    if (query.field.empty()) {
        // The words adjacent and in order within one value of some free-text field: only the
        // word terms of multi-word values carry positions.
        std::vector<Xapian::Query> alternatives;
        for (const auto& field : catalogue_.freeTextFields()) {
            terms.clear();
            for (const auto& word : phraseWords) {
                terms.push_back(wordTerm(field.id, word));
                if (!db_.term_exists(terms.back())) break;
            }
            if (terms.size() == phraseWords.size() && db_.term_exists(terms.back()))
                alternatives.push_back(termsQuery(Xapian::Query::OP_PHRASE, terms, window));
        }
        return anyOf(alternatives);
    }
    const auto info = catalogue_.find(query.field);
    if (!info) return Xapian::Query();
    const FieldKind kind = info->kind;
    for (const auto& word : phraseWords) terms.push_back(wordTerm(info->id, word));
    std::vector<Xapian::Query> alternatives;
    alternatives.emplace_back(exactTerm(info->id, normaliseForTerm(kind, value)));
    alternatives.push_back(termsQuery(Xapian::Query::OP_PHRASE, terms, window));
    return anyOf(alternatives);
}

Xapian::Query QueryCompiler::wildcard(const sdk::WildcardQuery& query) const {
    const Pattern pattern = parsePattern(query.pattern);
    std::optional<FieldInfo> info;
    if (!query.field.empty()) {
        info = catalogue_.find(query.field);
        if (!info) return Xapian::Query();
    }
    if (pattern.onlyStars) {
        if (!info) return matchAll();
        // The documents whose field set holds the field.
        return termsQuery(Xapian::Query::OP_OR, catalogue_.fieldSetTermsWith(info->id));
    }
    if (!info) return freeTextWildcard(query.pattern);
    const std::vector<std::string> prefixes = {exactPrefix(info->id), wordPrefix(info->id)};

    if (pattern.trailingStarOnly) {
        std::vector<Xapian::Query> parts;
        for (const auto& prefix : prefixes)
            parts.emplace_back(Xapian::Query::OP_WILDCARD, prefix + pattern.literalPrefix,
                               static_cast<Xapian::termcount>(kMaxExpansion), Xapian::Query::WILDCARD_LIMIT_ERROR,
                               Xapian::Query::OP_SYNONYM);
        return anyOf(parts);
    }

    std::vector<std::string> matches;
    for (const auto& prefix : prefixes) {
        const std::string start = prefix + pattern.literalPrefix;
        for (auto it = db_.allterms_begin(start); it != db_.allterms_end(start); ++it) {
            const std::string& term = *it;
            if (isHashedTerm(term)) continue;
            if (!globMatch(pattern.symbols, codePoints(std::string_view(term).substr(prefix.size())))) continue;
            matches.push_back(term);
            checkExpansion(matches.size());
        }
    }
    return termsQuery(Xapian::Query::OP_SYNONYM, matches);
}

Xapian::Query QueryCompiler::range(const sdk::RangeQuery& query, std::optional<Xapian::doccount>* total) const {
    if (query.field.empty()) throw Error(ErrorCode::InvalidArgument, "A range needs a field");
    const auto info = catalogue_.find(query.field);
    if (!info) return Xapian::Query();  // no object has this attribute

    auto bound = [&](const std::optional<std::string>& text) -> std::optional<std::string> {
        if (!text) return std::nullopt;
        const std::string lowered = lowerCase(trimmed(*text));
        if (!hasSlot(info->kind)) return lowered;
        auto key = sortableKey(info->kind, lowered);
        if (!key)
            throw Error(ErrorCode::InvalidArgument,
                        "Range bound '" + *text + "' does not fit " + query.field +
                            (info->kind == FieldKind::Numeric ? ", which holds numbers" : ""));
        return key;
    };
    KeyRange keyRange{bound(query.lower), bound(query.upper), query.includeLower, query.includeUpper};
    if (hasSlot(info->kind)) return this->keyRange(*info, std::move(keyRange), total);

    // Text: the field's distinct whole values in range, in term order (which is byte order).
    const std::string prefix = exactPrefix(info->id);
    std::vector<std::string> matches;
    auto it = db_.allterms_begin(prefix);
    if (keyRange.lower) it.skip_to(prefix + *keyRange.lower);
    for (; it != db_.allterms_end(prefix); ++it) {
        const std::string& term = *it;
        std::string_view value = std::string_view(term).substr(prefix.size());
        if (isHashedTerm(term)) value.remove_suffix(17);
        if (keyRange.upper && value.compare(*keyRange.upper) > 0 && !isHashedTerm(term)) break;
        if (!keyRange.contains(value)) continue;
        matches.push_back(term);
        checkExpansion(matches.size());
    }
    return termsQuery(Xapian::Query::OP_SYNONYM, matches);
}

Xapian::Query QueryCompiler::keyRange(const FieldInfo& info, KeyRange range, std::optional<Xapian::doccount>* total) const {
    // Only the whole query is asked for its total: `total` tells whether the range stands alone.
    if (info.rangeSlots) {
        // Every key of the field is in its slots: list the terms in range while few enough are
        // listed, else scan the slots (one step per document with the field).
        Xapian::doccount withValue = db_.get_value_freq(singleSlot(info.id));
        if (info.multiValued) withValue += db_.get_value_freq(multiSlot(info.id));
        const std::size_t budget =
            std::max<std::size_t>(kMinTermBudget, withValue / (total ? kSlotValuesPerTerm : kSlotValuesPerNestedTerm));
        if (auto listed = termsInKeyRange(info, range, budget)) {
            // One key per document: the terms are disjoint and their frequencies add up.
            if (total && !info.multiValued) *total = listed->frequencySum;
            return termsQuery(Xapian::Query::OP_OR, listed->terms);
        }
        return slotRangeQuery(info, std::move(range));
    }
    const ListedTerms listed = *termsInKeyRange(info, range, std::nullopt);
    Xapian::Query fromTerms = termsQuery(Xapian::Query::OP_OR, listed.terms);
    // Values too long for their term text keep their keys in the field's slots (layout 5); only
    // documents holding such a value have a slot, so the scan visits those alone.
    Xapian::doccount slotted = db_.get_value_freq(singleSlot(info.id));
    if (info.multiValued) slotted += db_.get_value_freq(multiSlot(info.id));
    if (slotted == 0) {
        // One key per document: the terms are disjoint and their frequencies add up.
        if (total && !info.multiValued) *total = listed.frequencySum;
        return fromTerms;
    }
    Xapian::Query fromSlots = slotRangeQuery(info, std::move(range));
    if (listed.terms.empty()) return fromSlots;
    return Xapian::Query(Xapian::Query::OP_OR, fromTerms, fromSlots);
}

std::optional<QueryCompiler::ListedTerms> QueryCompiler::termsInKeyRange(const FieldInfo& info, const KeyRange& range,
                                                                        std::optional<std::size_t> budget) const {
    if (budget && !info.multiValued) {
        // A range covering every key of a single-valued field: Xapian's slot statistics answer it
        // without reading a value.
        const Xapian::valueno slot = singleSlot(info.id);
        const std::string lowest = db_.get_value_lower_bound(slot);
        if (lowest.empty()) return ListedTerms{};  // no document has a key for the field
        if (range.contains(lowest) && range.contains(db_.get_value_upper_bound(slot))) return std::nullopt;
    }
    // The whole-value terms hold the range keys, one term per distinct value, and a term's text
    // gives back its key (normaliseForTerm then sortableKey, as the writer keys a value).
    // Date and date-time terms are their keys, so term order is key order: list only the range;
    // numbers and times are listed whole.
    const bool ordered = info.kind == FieldKind::Date || info.kind == FieldKind::DateTime;
    const std::string prefix = exactPrefix(info.id);
    ListedTerms listed;
    std::size_t seen = 0;
    auto it = db_.allterms_begin(prefix);
    if (ordered && range.lower) it.skip_to(prefix + *range.lower);
    for (; it != db_.allterms_end(prefix); ++it) {
        if (budget && ++seen > *budget) return std::nullopt;
        const std::string& term = *it;
        const std::string_view text = std::string_view(term).substr(prefix.size());
        if (ordered && range.upper && text > *range.upper) break;
        if (isHashedTerm(term)) {
            // Its value's key is in a slot: the caller scans the slots (with a budget) or ORs
            // them in (without).
            if (budget) return std::nullopt;
            continue;
        }
        if (auto key = sortableKey(info.kind, text); key && range.contains(*key)) {
            listed.terms.push_back(term);
            listed.frequencySum += it.get_termfreq();
        }
    }
    return listed;
}

void QueryCompiler::freeTextWordTerms(const FieldInfo& field, std::string_view word, std::vector<std::string>& out) const {
    // A word of a value is the field's word term, or its whole-value term when it is the whole
    // value; date and time fields index every word as a word term (their whole values are
    // normalised, so their exact terms may not be the words).
    std::string wordText = wordTerm(field.id, word);
    if (db_.term_exists(wordText)) out.push_back(std::move(wordText));
    if (!normalisesTerms(field.kind)) {
        std::string exactText = exactTerm(field.id, word);
        if (db_.term_exists(exactText)) out.push_back(std::move(exactText));
    }
}

Xapian::Query QueryCompiler::freeTextWildcard(std::string_view rawPattern) const {
    const Pattern pattern = parsePattern(rawPattern);
    // Free-text words matching the pattern, from each free-text field's word terms and its
    // one-word whole values. A trailing-star pattern takes every term with its literal prefix
    // (long words' hashed terms included), any other is glob-matched.
    std::vector<std::string> matches;
    std::vector<std::string_view> valueWords;
    for (const auto& field : catalogue_.freeTextFields()) {
        for (const bool whole : {false, true}) {
            if (whole && normalisesTerms(field.kind)) continue;
            const std::string prefix = whole ? exactPrefix(field.id) : wordPrefix(field.id);
            const std::string start = prefix + pattern.literalPrefix;
            for (auto it = db_.allterms_begin(start); it != db_.allterms_end(start); ++it) {
                const std::string& term = *it;
                const bool hashed = isHashedTerm(term);
                std::string_view text = std::string_view(term).substr(prefix.size());
                if (hashed) {
                    if (!pattern.trailingStarOnly) continue;
                    text.remove_suffix(17);
                }
                if (whole) {
                    // Only a whole value that is a single word is a free-text word.
                    wordsInto(text, valueWords);
                    if (valueWords.size() != 1 || valueWords.front().size() != text.size()) continue;
                }
                if (!hashed && !pattern.trailingStarOnly && !globMatch(pattern.symbols, codePoints(text))) continue;
                matches.push_back(term);
                checkExpansion(matches.size());
            }
        }
    }
    return termsQuery(Xapian::Query::OP_SYNONYM, matches);
}

Xapian::Query QueryCompiler::boolean(const sdk::BooleanQuery& query, std::size_t depth) const {
    std::vector<Xapian::Query> musts, shoulds, mustNots;
    for (const auto& clause : query.clauses) {
        Xapian::Query compiled = compileNode(clause.node, depth + 1);
        switch (clause.occur) {
            case sdk::Occur::Must: musts.push_back(std::move(compiled)); break;
            case sdk::Occur::Should: shoulds.push_back(std::move(compiled)); break;
            case sdk::Occur::MustNot: mustNots.push_back(std::move(compiled)); break;
        }
    }
    Xapian::Query positive;
    // With Musts present, Shoulds only affect ranking, and we do not rank: leave them out.
    if (!musts.empty()) positive = allOf(musts);
    else if (!shoulds.empty()) positive = anyOfSorted(shoulds);
    else if (!mustNots.empty()) positive = matchAll();
    else return Xapian::Query();
    if (mustNots.empty()) return positive;
    return Xapian::Query(Xapian::Query::OP_AND_NOT, positive, anyOf(mustNots));
}

}  // namespace tessera::plugins::xapian
