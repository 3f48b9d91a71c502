#pragma once
/// @file query_ast.hpp
/// The query tree that the host's one Lucene-syntax parser produces and that every QueryProvider
/// compiles to its engine. Providers never parse query text themselves.
///
/// Field names are DICOM keywords, case-sensitive; an empty field means free text over every
/// indexed text value. Values are as the user typed them (escapes removed); providers match them
/// case-insensitively.
///
/// Thread-safety: value types; const access may be concurrent.
/// @since 1.0

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tessera::sdk {

struct BooleanQuery;

/// Matches every indexed object (`*:*`).
/// @since 1.0
struct MatchAllQuery {
    friend bool operator==(const MatchAllQuery&, const MatchAllQuery&) = default;
};

/// `Field:value` or a bare `value` (empty field = free text).
/// @since 1.0
struct TermQuery {
    std::string field;
    std::string value;
    friend bool operator==(const TermQuery&, const TermQuery&) = default;
};

/// `Field:"several words"`: the words in this order.
/// @since 1.0
struct PhraseQuery {
    std::string field;
    std::string phrase;
    friend bool operator==(const PhraseQuery&, const PhraseQuery&) = default;
};

/// `Field:pat*ern?`: `*` is any run of characters (also empty), `?` exactly one. In the pattern
/// a backslash escapes: `\*` and `\?` are a literal star and question mark, `\\` a literal
/// backslash; every other character is literal.
/// @since 1.0
struct WildcardQuery {
    std::string field;
    std::string pattern;
    friend bool operator==(const WildcardQuery&, const WildcardQuery&) = default;
};

/// `Field:[a TO b]` (inclusive) or `Field:{a TO b}` (exclusive); an open end (`*`) is nullopt.
/// Providers compare dates, times and numbers by value where the attribute's VR says so, text
/// lexically.
/// @since 1.0
struct RangeQuery {
    std::string field;
    std::optional<std::string> lower;
    std::optional<std::string> upper;
    bool includeLower = true;
    bool includeUpper = true;
    friend bool operator==(const RangeQuery&, const RangeQuery&) = default;
};

/// How a clause takes part in a BooleanQuery.
/// @since 1.0
enum class Occur {
    Must,     ///< `+x`, or either side of AND
    Should,   ///< plain term under the default OR operator
    MustNot,  ///< `-x`, `NOT x`
};

/// One node of the tree.
/// @since 1.0
using QueryNode = std::variant<MatchAllQuery, TermQuery, PhraseQuery, WildcardQuery, RangeQuery, BooleanQuery>;

/// @since 1.0
struct QueryClause;

/// A list of clauses. It matches when every Must clause matches, no MustNot clause matches, and
/// (when there are no Must clauses) at least one Should clause matches. A query of only MustNot
/// clauses matches everything except them.
/// @since 1.0
struct BooleanQuery {
    std::vector<QueryClause> clauses;
    friend bool operator==(const BooleanQuery&, const BooleanQuery&);
};

/// @since 1.0
struct QueryClause {
    Occur occur = Occur::Should;
    QueryNode node;
    friend bool operator==(const QueryClause&, const QueryClause&) = default;
};

inline bool operator==(const BooleanQuery& a, const BooleanQuery& b) { return a.clauses == b.clauses; }

}  // namespace tessera::sdk
