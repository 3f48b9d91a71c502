#pragma once
// The one parser of the query language: classic Lucene syntax as Dicoogle clients send it, turned
// into the SDK query tree (tessera/sdk/query_ast.hpp). Providers never see query text.
//
// Thread-safety: parseQuery is a pure function; call it from any thread.
//
// Grammar (whitespace = space, tab, CR, LF; it separates tokens and is otherwise ignored):
//
//   query    = or-list
//   or-list  = and-list { [ "OR" | "||" ] and-list }      juxtaposition is the default OR
//   and-list = unary { ( "AND" | "&&" ) unary }
//   unary    = ( "NOT" | "!" ) unary | [ "+" | "-" ] primary
//   primary  = group | phrase | range | term | field ":" value
//   value    = group | phrase | range | term             whitespace may follow the ':'
//   group    = "(" or-list ")"
//   phrase   = '"' { any byte, '\' escapes the next } '"'
//   range    = ( "[" | "{" ) bound "TO" bound ( "]" | "}" )
//   bound    = '"' quoted '"' | run of bytes other than whitespace, ']' and '}'
//   field    = [A-Za-z0-9_]+   (DICOM keywords and flattened "Seq_Child" names; case kept)
//
// Terms. A term is a run of bytes other than whitespace and ( ) [ ] { } " : where '\' escapes
// any next byte. '+', '-' and '!' are operators only at the start of a clause, so "2015-01-01",
// "1.2.840-5" and "a+b" are one term each, and after "Field:" they are ordinary characters
// ("SeriesNumber:-5" is the term "-5"). '^' and '/' are ordinary characters (unlike Lucene and
// Dicoogle issue #490): "PatientName:SMITH^JOHN" is the term "SMITH^JOHN". Text is UTF-8 and its
// bytes are kept as they are. Operators are the upper-case words AND, OR, NOT (lower-case ones
// are plain words) and the symbols && || ! — quote or escape them ("\AND") to search for them.
//
// What each form becomes:
//   Field:value, bare value      TermQuery{Field or "" (free text), value with escapes resolved}
//   unescaped '*' or '?' in it   WildcardQuery{field, pattern}. In the pattern the escapes \* \?
//                                and \\ stay escaped, so a '*', '?' or '\' preceded by '\' is a
//                                literal character; every other escape is resolved.
//   Field:*                      WildcardQuery{Field, "*"}  (the field is present)
//   *:*  and a lone *            MatchAllQuery (a lone * inside "Field:( )" is Field:* instead)
//   "a phrase"                   PhraseQuery{field, text}; '*' and '?' are literal inside quotes
//   Field:[a TO b] / {a TO b}    RangeQuery, '[' ']' inclusive, '{' '}' exclusive, mixed allowed;
//                                an unquoted, unescaped '*' is an open end (nullopt); "TO" must be
//                                upper case; quoted bounds may hold spaces; wildcards are literal.
//   Field:( ... )                every term inside gets Field, nested groups too; a term inside
//                                that names its own field keeps it (as Lucene does).
//
// Boolean structure. Precedence NOT > AND > OR. An or-list of several items becomes a
// BooleanQuery whose clauses are Must for "+x", MustNot for "-x" / "NOT x" / "!x", and Should for
// everything else (Lucene's "+a b": a required, b optional). An and-list of several operands
// becomes a BooleanQuery of Must clauses, with MustNot for negated operands
// ("a AND NOT b" -> [Must a, MustNot b]). A single item with no modifier is returned as itself,
// never wrapped; "NOT a", "-a" and "+a" alone are a one-clause BooleanQuery. Trees are kept as
// written (no flattening), so "(a b) c" keeps its inner BooleanQuery.
//
// Deliberate differences from Lucene's classic parser:
//   - "a AND b OR c" means "(a AND b) OR c". Lucene applies AND/OR to its neighbours only and
//     reads it as "+a +b c", which makes c optional and surprises everyone.
//   - '^' (boost) and '/' (regular expression) are literal characters.
//   - '~' (fuzzy and proximity search) is an error: we cannot honour it, and silently dropping it
//     would return different results from what was asked. "\~" searches for the character.
//   - A range needs a field (a range over free text has no meaning for our providers).
//   - An empty phrase ("") is an error instead of a query that silently matches nothing.
//
// Errors. Everything that is not in the grammar above throws QuerySyntaxError with the byte
// offset where the problem was found: unbalanced ( ) [ ] { } and quotes, a range without "TO" or
// without its end, an operator without an operand ("a AND", "OR b", "a -"), an empty field value
// ("Field:"), an empty query or group, a ':' after something that is not a field name, a '\' at
// the very end, '~', an operator word in value position ("Field:AND"), nesting of groups and NOT
// deeper than kMaxQueryDepth, and text longer than kMaxQueryLength bytes.

#include <cstddef>
#include <string>
#include <string_view>

#include "tessera/sdk/error.hpp"
#include "tessera/sdk/query_ast.hpp"

namespace tessera::core {

/// Longest query text accepted, in bytes. Bounds the work done for one HTTP parameter.
inline constexpr std::size_t kMaxQueryLength = 64 * 1024;

/// Deepest nesting of groups "( )" and NOT operators together. Bounds the parser's recursion and
/// the depth of the trees that providers walk recursively.
inline constexpr std::size_t kMaxQueryDepth = 64;

/// Bad query syntax. Is-a sdk::Error with code InvalidArgument (the server answers 400); what()
/// reads like "Syntax error at position 14: expected ']' or '}' to close the range started at
/// position 10".
class QuerySyntaxError : public sdk::Error {
public:
    QuerySyntaxError(std::size_t position, const std::string& detail);

    /// 0-based byte offset in the query text where the problem was found.
    std::size_t position() const noexcept;

    /// The message without the "Syntax error at position N: " prefix.
    const std::string& detail() const noexcept;

private:
    std::size_t position_;
    std::string detail_;
};

/// Parses query text into the SDK query tree (see the grammar above). Throws QuerySyntaxError
/// for bad syntax; never crashes or recurses without bound on hostile input.
sdk::QueryNode parseQuery(std::string_view text);

}  // namespace tessera::core
