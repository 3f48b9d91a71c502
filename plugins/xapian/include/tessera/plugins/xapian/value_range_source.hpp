#pragma once
// Range matching over value slots. `Field:[a TO b]` means "some value of the field is in range".
//
// Each field with range keys (numbers, dates, times) has two slots. A document with exactly one
// key for the field keeps it as is in the field's single slot, where Xapian's own
// OP_VALUE_RANGE (which reads the slot's bounds statistics first) matches it. A document with
// several keys (each value of a multi-valued attribute and of every sequence item) keeps them
// packed in the field's multi slot, where AnyValueRangeSource matches documents having ANY key
// in range, which OP_VALUE_RANGE cannot express. The FieldCatalogue records which fields ever
// had a multi-valued document, so that queries on the others skip the slow path entirely.
//
// Packed format: for each key, one length byte then the key. Keys in both slots are cut to
// kMaxSlotKeyBytes.
//
// Thread-safety: pure functions; one source instance per query, clone() gives each match its own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xapian.h>

namespace tessera::plugins::xapian {

inline constexpr std::size_t kMaxSlotKeyBytes = 255;

/// The slot holding a document's stored attributes (document_codec.hpp). Not Xapian's document
/// data: glass zlib-compresses every document data and termlist entry as it is written, under
/// the writer's lock, and the data was about a third of that work; value slots are stored
/// uncompressed and written in chunks at commit. Field ids start at 1, so no field uses slot 0.
constexpr Xapian::valueno kDocumentSlot = 0;

/// The slot holding the key of documents with one key for the field.
constexpr Xapian::valueno singleSlot(std::uint32_t fieldId) noexcept { return 2 * fieldId; }
/// The slot holding the packed keys of documents with several keys for the field.
constexpr Xapian::valueno multiSlot(std::uint32_t fieldId) noexcept { return 2 * fieldId + 1; }

/// A key as stored in a single slot (cut to kMaxSlotKeyBytes, like packed keys).
std::string_view slotKey(std::string_view key) noexcept;

/// Appends one key to a packed slot value (keys longer than kMaxSlotKeyBytes are truncated).
void appendSlotKey(std::string& packed, std::string_view key);

/// The greatest slot key (at most kMaxSlotKeyBytes long) that is less than `key`, which turns an
/// exclusive upper bound into the inclusive one OP_VALUE_RANGE takes. nullopt when no key is
/// less than `key` (it is empty).
std::optional<std::string> greatestKeyBelow(std::string_view key);

struct KeyRange {
    std::optional<std::string> lower;  ///< nullopt = open
    std::optional<std::string> upper;  ///< nullopt = open
    bool includeLower = true;
    bool includeUpper = true;

    bool contains(std::string_view key) const noexcept;
    /// True when some packed key is in the range.
    bool containsAny(std::string_view packed) const noexcept;
};

/// Documents whose single-slot key is in `range` (Xapian's OP_VALUE_RANGE / GE / LE).
Xapian::Query singleValueRangeQuery(Xapian::valueno slot, const KeyRange& range);

class AnyValueRangeSource : public Xapian::ValuePostingSource {
public:
    AnyValueRangeSource(Xapian::valueno slot, KeyRange range);

    void init(const Xapian::Database& db) override;
    void next(double minWeight) override;
    void skip_to(Xapian::docid did, double minWeight) override;
    bool check(Xapian::docid did, double minWeight) override;
    AnyValueRangeSource* clone() const override;
    std::string get_description() const override;

private:
    void skipNonMatching(double minWeight);

    KeyRange range_;
};

}  // namespace tessera::plugins::xapian
