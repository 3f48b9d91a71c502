#pragma once
// How values become Xapian terms and slot keys. The index writer and the query compiler both
// build terms only through these functions, so they cannot disagree.
//
// Term families (prefixes are upper-case ASCII), index layout 4:
//   Q<uri>                 the document's unique id (one document per URI)
//   S<16 hex>              the document's field set: which fields it has (`Field:*`); the sets
//                          are persisted in metadata by the FieldCatalogue (field_catalogue.hpp)
//   X<field>#<value>       one whole value (each `\`-separated value of a multi-valued one),
//                          lower-cased; dates and times normalised
//   W<field>#<word>        one word of a value that has several words (positional, for phrases),
//                          or the single word of a value when it differs from the whole-value
//                          term or the field is a date/time of a free-text VR (boolean)
// There are no unprefixed free-text terms (layout 3 had one per word): a free-text word is found
// as W<f>#word or (not for dates and times, whose X terms are normalised) X<f>#word over the
// fields the catalogue flags as free-text, so every word of a text value exists as one of them.
// (presenceTerm() and freeTextTerm() below are kept for callers of the functions; the index no
// longer writes either family.)
// The index names a field by its catalogue id in decimal (`X17#ct`, not `XPatientID#ct`): terms
// are compared, copied and stored hundreds of times per document, and the keyword would be most
// of their bytes. The functions taking a string accept any field code; the index and the query
// compiler use only the id overloads.
// A term that would exceed Xapian's key limit keeps its first kTruncatedValueBytes bytes and
// ends with "\x01" + 16 hex digits of a 64-bit FNV-1a hash of the whole text, so exact matching
// stays exact; such terms are skipped by glob and text-range expansion.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/plugins/xapian/field_catalogue.hpp"

namespace tessera::plugins::xapian {

/// Xapian refuses terms over 245 bytes; keep a margin.
inline constexpr std::size_t kMaxTermBytes = 240;
/// Bytes of text kept in a hashed term.
inline constexpr std::size_t kTruncatedValueBytes = 180;

/// Unicode-aware lower-casing of UTF-8 text (invalid bytes are kept as Latin-1 code points).
std::string lowerCase(std::string_view utf8);

/// Splits a DICOM value on `\` into its values, each trimmed of spaces; at least one element.
std::vector<std::string> splitValues(std::string_view value);

/// Words of a (lower-cased) value: runs of letters, digits and marks; '.', ',' and '\'' between
/// two word characters do not split (so UIDs, decimals and O'Brien stay one word). `^`, `=`,
/// `\`, spaces and other punctuation split.
std::vector<std::string> words(std::string_view text);

/// lowerCase() into `out` (replacing its contents), reusing its buffer: the index writer lower-cases
/// every value of every object.
void lowerCaseInto(std::string_view utf8, std::string& out);

/// splitValues() without copies: calls `visit` with each trimmed value, as views into `value`.
template <typename Visit>
void forEachValue(std::string_view value, Visit&& visit) {
    auto trim = [](std::string_view text) {
        while (!text.empty() && (text.front() == ' ' || text.front() == '\0')) text.remove_prefix(1);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
        return text;
    };
    std::size_t start = 0;
    while (true) {
        const auto end = value.find('\\', start);
        visit(trim(value.substr(start, end == std::string_view::npos ? end : end - start)));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
}

/// words() as views into `text`, into `out` (cleared first; its capacity is reused).
void wordsInto(std::string_view text, std::vector<std::string_view>& out);

std::string idTerm(std::string_view uri);
std::string presenceTerm(std::string_view field);
std::string exactPrefix(std::string_view field);
std::string wordPrefix(std::string_view field);
std::string exactTerm(std::string_view field, std::string_view loweredValue);
std::string wordTerm(std::string_view field, std::string_view word);
std::string freeTextTerm(std::string_view word);

/// The field code of a catalogue id ("17").
std::string fieldCode(std::uint32_t fieldId);
std::string presenceTerm(std::uint32_t fieldId);
std::string exactPrefix(std::uint32_t fieldId);
std::string wordPrefix(std::uint32_t fieldId);
std::string exactTerm(std::uint32_t fieldId, std::string_view loweredValue);
std::string wordTerm(std::uint32_t fieldId, std::string_view word);

/// `prefix` + `text` into `out` (replacing its contents, reusing its buffer), bounded like the
/// other term builders: exactTerm(f, v) == makeTerm(exactPrefix(f), v, out) and so on.
const std::string& makeTerm(std::string_view prefix, std::string_view text, std::string& out);

/// True for a term built with a hash because its text was too long.
bool isHashedTerm(std::string_view term) noexcept;

/// The value a term of `kind` is built from: DA `YYYY.MM.DD`/`YYYY-MM-DD` -> `YYYYMMDD`, TM
/// `HH:MM:SS` -> `HHMMSS`; everything else unchanged.
std::string normaliseForTerm(FieldKind kind, std::string_view loweredValue);

/// Whether normaliseForTerm() may rewrite values of this kind (dates and times).
bool normalisesTerms(FieldKind kind) noexcept;

/// A DICOM number (IS/DS style, leading '+' and surrounding spaces allowed), finite only.
std::optional<double> parseNumber(std::string_view text) noexcept;

/// The byte-comparable key of one value for range comparison, or nullopt when the value does
/// not fit the kind (a non-number in a numeric field). Numbers: Xapian::sortable_serialise.
/// Dates: normalised YYYYMMDD. Times: HHMMSS padded, fraction kept. DateTime: lower-cased text.
std::optional<std::string> sortableKey(FieldKind kind, std::string_view value);

/// sortableKey(kind, value).has_value(), without building the key (the writer needs only to
/// count the keys of a field that keeps no range slots).
bool hasSortableKey(FieldKind kind, std::string_view value) noexcept;

/// Whether free-text words are taken from values of this VR (character-string VRs except UI,
/// IS and DS; unknown VRs count as text).
bool isFreeTextVr(std::string_view vr) noexcept;

}  // namespace tessera::plugins::xapian
