#pragma once
// Compiles the SDK query tree to a Xapian::Query against one database revision.
//
// Semantics (values lower-cased like the index):
//  - TermQuery Field:v   exact whole value OR (one word: the word term; several words: all word
//                        terms, any order). Numeric fields: OR "some value equals v" by number,
//                        so SliceThickness:5 matches DS "5.000000". Date/time values normalised.
//                        Free text (no field): the free-text word(s), all of them.
//  - PhraseQuery         exact whole value OR the words adjacent and in order (positions);
//                        free text: the free-text words adjacent and in order.
//  - WildcardQuery       `Field:*` = attribute present, bare `*` = everything. Trailing-only
//                        `abc*`: Xapian prefix expansion of whole values and words. Any other
//                        pattern: the field's whole-value and word terms (or all free-text words)
//                        are listed from the literal prefix on and glob-matched (`*` any run,
//                        `?` one character). Expansion is capped at kMaxExpansion terms; more is
//                        an InvalidArgument error, never a silently partial answer.
//  - RangeQuery          numeric/date/time fields: any value in range, by number or normalised
//                        text: the field's whole-value terms whose key is in range, plus the
//                        value slots of values too long for their term (value_range_source.hpp);
//                        for a field keeping range slots (DS FL FD TM DT), a slot scan instead
//                        when too many terms would be listed.
//                        Text fields: the whole values in range, lexically (term expansion,
//                        capped like wildcards). Unknown field: nothing.
//  - BooleanQuery        Must -> AND; Should -> OR (ignored when there are Musts); MustNot ->
//                        AND_NOT; only MustNot -> everything AND_NOT them; empty -> nothing.
//
// Thread-safety: one compiler per query; the database handle must not be used concurrently.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/sdk/query_ast.hpp"

namespace tessera::plugins::xapian {

/// Most terms one wildcard or text range may expand to.
inline constexpr std::size_t kMaxExpansion = 100000;

/// A compiled query and, when the compiler knows it without running the query, its exact number
/// of matches (so that nobody has to visit every match to count them).
struct CompiledQuery {
    Xapian::Query query;
    std::optional<Xapian::doccount> total;
};

class QueryCompiler {
public:
    QueryCompiler(const Xapian::Database& db, const FieldCatalogue& catalogue);

    /// Throws sdk::Error(InvalidArgument) for a query that cannot be answered (a non-numeric
    /// bound on a numeric field, a wildcard that expands too far).
    Xapian::Query compile(const sdk::QueryNode& node) const;

    /// compile() plus the exact total where the term statistics give it: a key range or a
    /// numeric term on a single-valued field answered from its value terms, which are disjoint
    /// there (each document has one key), so the total is the sum of their frequencies.
    CompiledQuery compileCounted(const sdk::QueryNode& node) const;

private:
    struct ListedTerms {
        std::vector<std::string> terms;
        Xapian::doccount frequencySum = 0;
    };

    Xapian::Query compileNode(const sdk::QueryNode& node, std::size_t depth) const;
    Xapian::Query term(const sdk::TermQuery& query, std::optional<Xapian::doccount>* total = nullptr) const;
    Xapian::Query phrase(const sdk::PhraseQuery& query) const;
    Xapian::Query wildcard(const sdk::WildcardQuery& query) const;
    Xapian::Query range(const sdk::RangeQuery& query, std::optional<Xapian::doccount>* total = nullptr) const;
    Xapian::Query boolean(const sdk::BooleanQuery& query, std::size_t depth) const;
    /// Appends the existing terms that hold `word` as a free-text word of `field`.
    void freeTextWordTerms(const FieldInfo& field, std::string_view word, std::vector<std::string>& out) const;
    /// A wildcard without a field: over the free-text fields' word and one-word value terms.
    Xapian::Query freeTextWildcard(std::string_view rawPattern) const;
    /// Documents with a key of a ranged field (number, date, time) in range. A field that keeps
    /// range slots (FieldInfo::rangeSlots): its whole-value terms in range when few enough are
    /// listed, else a slot scan (layout 4's choice). Any other: the terms in range, OR the field's
    /// value slots when some value was too long for its term. Sets `*total` when the term
    /// frequencies tell the exact count.
    Xapian::Query keyRange(const FieldInfo& info, KeyRange range, std::optional<Xapian::doccount>* total) const;
    /// The field's whole-value terms whose key is in range. Dates and date-times are listed from
    /// the lower bound to the upper one, numbers and times whole. With a budget: nullopt when the
    /// slots answer better (more than `budget` terms to look at, a hashed term, or a range
    /// covering every key of a single-valued field). Without: hashed terms are skipped.
    std::optional<ListedTerms> termsInKeyRange(const FieldInfo& info, const KeyRange& range,
                                               std::optional<std::size_t> budget) const;

    const Xapian::Database& db_;
    const FieldCatalogue& catalogue_;
};

}  // namespace tessera::plugins::xapian
