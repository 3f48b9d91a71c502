#pragma once
// A C-FIND identifier as a query: PS3.4 C.2.2.2 attribute matching turned into the SDK query tree
// directly (never through Lucene text, so no value can inject query syntax), plus the same rules
// evaluated on a result's fields.
//
// Why both: providers match a TermQuery by whole value OR by words and case-insensitively
// (xapian's contract), which is broader than DICOM single value matching ("Smith" would find
// "Smith^John"). The tree narrows the search to a superset cheaply; matches() then applies the
// exact rules to each record, so the answer does not depend on how loose a provider is.
//
// Rules per key (the value is UTF-8, as decoded from the identifier's character set):
//  - empty value, or only `*`: universal matching (no condition).
//  - `\` separates a list of values (PS3.4 list of UID matching, accepted for every VR): the key
//    matches when any of them matches.
//  - DA, TM, DT with `-`: range `a-b`, `a-` or `-b`, inclusive. A shorter upper bound covers
//    everything it is a prefix of: TM `-12` ends at 12:59:59.999999, `-1200` at 12:00:59.999999.
//    DA `YYYY.MM.DD` and TM `HH:MM:SS` (legacy forms) are normalised.
//  - `*` or `?` in a value of a text VR: wildcard matching (`*` any run, `?` one character).
//    UI, DA, TM, DT and numeric VRs take no wildcards: there a `*`/`?` is matched literally.
//  - anything else: single value matching. Leading and trailing spaces are not significant,
//    ASCII letters compare case-insensitively (our providers do too), numbers (IS, DS, ...) by
//    value. PN: trailing empty components (`Smith^John^^`) are ignored on both sides; otherwise
//    the components must be equal, so `Smith` does not match `Smith^John` (send `Smith*`).
//  - A stored value with several values (`A\B`) matches when one of them does.
//  - ModalitiesInStudy matches on the instances' Modality.
//  - Keys the SCP computes or echoes (QueryRetrieveLevel, SpecificCharacterSet, NumberOf*Related*,
//    RetrieveAETitle, InstanceAvailability, ...), sequences and binary VRs are not matched.
//
// Thread-safety: a FindQuery is immutable after construction; const methods may run concurrently.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/query_ast.hpp"

namespace tessera::core {

/// Query/Retrieve Level (0008,0052).
enum class QueryLevel { Patient, Study, Series, Image };

/// "PATIENT", "STUDY", "SERIES", "IMAGE" (surrounding spaces ignored, case-sensitive as the
/// standard's code strings); nullopt otherwise.
std::optional<QueryLevel> parseQueryLevel(std::string_view text);
std::string_view toString(QueryLevel level);

/// One attribute of an identifier.
struct FindKey {
    std::string keyword;  ///< DICOM keyword (PatientName)
    std::string vr;       ///< two letters (PN)
    std::string value;    ///< UTF-8, as sent; multiple values separated by `\`
};

class FindQuery {
public:
    explicit FindQuery(const std::vector<FindKey>& keys);

    /// The tree for the providers: the AND of every condition (OR over a key's list), or
    /// MatchAllQuery when there is none.
    const sdk::QueryNode& query() const noexcept { return query_; }
    /// A readable rendering of the conditions, for logs and for QueryRequest::text.
    const std::string& text() const noexcept { return text_; }
    /// The keywords matches() reads.
    std::vector<std::string> fields() const;
    /// Whether a record (fields by keyword, values as indexed) satisfies every condition. A
    /// record without the field does not match a non-universal key.
    bool matches(const std::map<std::string, std::string>& fields) const;
    /// True when no key restricts anything.
    bool universal() const noexcept { return conditions_.empty(); }

    /// Whether the SCP computes or echoes this key instead of matching it.
    static bool isReturnOnly(std::string_view keyword);

private:
    enum class Kind { Exact, Wildcard, Range };
    struct Alternative {
        Kind kind = Kind::Exact;
        std::string value;  // Exact: normalised value; Wildcard: the pattern
        std::optional<std::string> lower;
        std::optional<std::string> upper;  // padded
    };
    struct Condition {
        std::string field;
        std::string vr;
        std::vector<Alternative> alternatives;
    };

    static bool matchesOne(const Condition& condition, const Alternative& alternative, std::string_view stored);

    std::vector<Condition> conditions_;
    sdk::QueryNode query_;
    std::string text_;
};

}  // namespace tessera::core
