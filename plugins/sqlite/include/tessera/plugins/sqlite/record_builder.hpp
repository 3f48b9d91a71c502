#pragma once
// What one DICOM object becomes in the sqlite index: its stored record (every attribute as
// field id, VR and value, in visiting order) and the rows of the attribute tables, built by the
// same text rules as the xapian provider's terms (tessera/plugins/xapian/terms.hpp):
//
//   value_index  each `\`-separated value, lower-cased, trimmed, dates/times normalised
//                (the xapian `X` terms)
//   word_index   all words of a value with several words; the one word of a single-word value
//                when it differs from the value (the xapian `W` terms)
//   key_index    range keys of numeric/date/time fields: the number (REAL) or normalised text
//   text_index   words of text VRs (not UI, numbers, AT, binary), for free text
//   phrase_index the words of each several-word value in order, for phrases (a phrase matches
//                consecutive words of one value, as Xapian's positions do)
//
// Rows are recomputed from the stored record to delete a record, so building must stay a pure
// function of (catalogue entry, VR, value).
//
// Thread-safety: pure functions and value types (buildRecord updates the thread-safe catalogue).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tessera/plugins/sqlite/field_catalogue.hpp"
#include "tessera/plugins/sqlite/sqlite_schema.hpp"
#include "tessera/sdk/index_provider.hpp"

namespace tessera::plugins::sqlite {

/// A range key: a number, or normalised text for dates and times.
using RangeKey = std::variant<double, std::string>;

struct PhraseRow {
    std::uint32_t field = 0;
    bool freeText = false;
    std::string words;  ///< " w1 w2 ... wn " (words never contain a space)
};

struct RecordRows {
    std::vector<std::pair<std::uint32_t, std::string>> values;
    std::vector<std::pair<std::uint32_t, std::string>> words;
    std::vector<std::pair<std::uint32_t, RangeKey>> keys;
    std::vector<std::string> textWords;
    std::vector<PhraseRow> phrases;  ///< seq = position in this list

    /// Adds the rows of one attribute.
    void addAttribute(const FieldInfo& field, std::string_view vr, std::string_view value);
    /// Sorts and removes duplicates (a document has each row once).
    void finish();
};

/// The phrase_index form of a list of words: " w1 w2 ... ".
std::string joinPhraseWords(const std::vector<std::string>& words);

/// The stored record of one object.
class RecordEncoder {
public:
    RecordEncoder();
    void add(std::uint32_t fieldId, std::string_view vr, std::string_view value);
    const std::string& data() const noexcept { return data_; }

private:
    std::string data_;
};

/// Walks a stored record without copying; the views point into `data`.
class RecordReader {
public:
    explicit RecordReader(std::string_view data) noexcept;
    /// False when the record is damaged or of another version.
    bool valid() const noexcept { return valid_; }
    /// The next attribute; false at the end or at damage (then valid() turns false).
    bool next(std::uint32_t& fieldId, std::string_view& vr, std::string_view& value) noexcept;

private:
    std::string_view rest_;
    bool valid_ = false;
};

/// Everything the writer needs for one object.
struct BuiltRecord {
    std::string uri;
    std::string data;
    RecordRows rows;
    /// First top-level value of each kDimColumns keyword (nullopt when absent).
    std::array<std::optional<std::string>, kDimColumns.size()> dim;
};

/// Builds the record of an item, adding new fields to the catalogue. Throws
/// Error(InvalidArgument) for an item without an object or URI.
BuiltRecord buildRecord(const sdk::IndexItem& item, FieldCatalogue& catalogue);

/// The attribute-table rows of a stored record (to delete them). Throws Error(Corrupted) for a
/// damaged record or one naming a field the catalogue does not have.
RecordRows rowsOfStoredRecord(std::string_view data, const FieldCatalogue& catalogue);

}  // namespace tessera::plugins::sqlite
