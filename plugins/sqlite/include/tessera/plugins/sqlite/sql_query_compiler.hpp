#pragma once
// Compiles the SDK query tree to an SQL predicate over `instances i` (a condition on `i.id`) with
// bound parameters. The SQL text is assembled only from the fixed fragments in this file's
// implementation; every value of the query (terms, patterns, bounds, field ids) is a `?`
// parameter, so no input can change the statement.
//
// Semantics, equal to the xapian provider's (plugins/xapian/include/.../query_compiler.hpp):
//  - TermQuery Field:v   the whole value (lower-cased, dates/times normalised) OR every word of
//                        v among the field's words; numeric fields also by number
//                        (SliceThickness:5 matches "5.000"). Free text: every word of v among the
//                        document's free-text words.
//  - PhraseQuery         the whole value OR the words consecutive and in order within one value;
//                        free text: within one text value. One word: a TermQuery.
//  - WildcardQuery       `Field:*` = present, bare `*` = everything; otherwise SQLite GLOB (`*`,
//                        `?`; `\*`, `\?`, `\\` literal, as are `[` and `]`) over the field's values
//                        and words (free text: over free-text words), narrowed to the pattern's
//                        literal prefix by an index range.
//  - RangeQuery          numeric/date/time fields: some key in range (numbers by value); text:
//                        some whole value in range, byte order. A non-number bound on a numeric
//                        field is InvalidArgument; a range without a field too.
//  - BooleanQuery        Must -> AND; Should -> OR (ignored when there are Musts); MustNot ->
//                        AND NOT; only MustNot -> everything but them; empty -> nothing.
//  - Unknown fields match nothing.
//
// Thread-safety: a compiler is used by one thread; the lookup it calls must be safe for that.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/plugins/sqlite/field_catalogue.hpp"
#include "tessera/plugins/sqlite/sqlite_database.hpp"
#include "tessera/sdk/query_ast.hpp"

namespace tessera::plugins::sqlite {

/// A condition on `i.id`: "1" matches everything, "0" nothing.
struct CompiledSql {
    std::string predicate;
    std::vector<SqlValue> params;
};

/// A wildcard pattern as an SQLite GLOB pattern over lower-cased text.
struct GlobPattern {
    std::string glob;           ///< literals lower-cased, `*` `?` `[` escaped as `[*]` `[?]` `[[]`
    std::string literalPrefix;  ///< lower-cased literal text before the first wildcard
    bool onlyStars = true;      ///< no literal and no `?`: matches any value
};

/// Parses a WildcardQuery pattern (`\*`, `\?`, `\\` are literal; any other `\` is itself).
GlobPattern toGlob(std::string_view pattern);

/// The least string above every string that starts with `prefix` (byte order), nullopt when
/// there is none (empty prefix or all 0xff bytes).
std::optional<std::string> prefixUpperBound(std::string_view prefix);

/// Resolves a keyword to its field; nullopt when no indexed object has it.
using FieldLookup = std::function<std::optional<FieldInfo>(std::string_view keyword)>;

class SqlQueryCompiler {
public:
    explicit SqlQueryCompiler(FieldLookup lookup);

    /// Throws sdk::Error(InvalidArgument) for a query that cannot be answered (a non-numeric
    /// bound on a numeric field, a range without a field, a tree nested too deeply).
    CompiledSql compile(const sdk::QueryNode& node) const;

private:
    CompiledSql node(const sdk::QueryNode& node, std::size_t depth) const;
    CompiledSql term(const sdk::TermQuery& query) const;
    CompiledSql phrase(const sdk::PhraseQuery& query) const;
    CompiledSql wildcard(const sdk::WildcardQuery& query) const;
    CompiledSql range(const sdk::RangeQuery& query) const;
    CompiledSql boolean(const sdk::BooleanQuery& query, std::size_t depth) const;

    FieldLookup lookup_;
};

}  // namespace tessera::plugins::sqlite
