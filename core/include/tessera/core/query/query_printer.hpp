#pragma once
// A canonical one-line text form of a query tree, for tests, logs and debugging. It looks like
// the query language and, for every tree that parseQuery produces, parseQuery(toDebugString(t))
// gives t back (except for control characters, which are shown as \t \n \r \xHH). Distinct trees
// always give distinct strings, hand-built ones included.
//
// Thread-safety: a pure function.
//
// The form:
//   MatchAllQuery                 *:*
//   TermQuery                     Field:value, or value alone when the field is empty
//   WildcardQuery                 Field:pattern with bare * and ?; the pattern's own escapes
//                                 \* \? \\ are shown as they are, a lone '\' as \x5c. A pattern
//                                 without a bare * or ? is shown as Field:WILDCARD(text).
//   PhraseQuery                   Field:"text", with \" and \\ inside
//   RangeQuery                    Field:[lower TO upper], with { } for exclusive ends and * for
//                                 an open end
//   BooleanQuery                  (c1 c2 ...), each clause prefixed with + (Must), - (MustNot) or
//                                 nothing (Should); () when empty
// In fields, values and bounds a '\' escapes the characters that would otherwise be read as
// syntax: whitespace \ ' " ( ) [ ] { } : * ? ~, a leading + - ! where a clause starts, a leading
// && or ||, and the first letter of the words AND, OR and NOT. The empty string is written ''
// (as "" for a range bound). Control characters are \t \n \r or \xHH, so the form is one line.
//
// Example: (PatientName:smith* (+Modality:CT -StudyDate:[20150101 TO *]))

#include <string>

#include "tessera/sdk/query_ast.hpp"

namespace tessera::core {

/// The canonical one-line text form of a query tree described above.
std::string toDebugString(const sdk::QueryNode& node);

}  // namespace tessera::core
