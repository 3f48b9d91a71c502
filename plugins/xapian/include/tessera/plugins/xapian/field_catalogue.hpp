#pragma once
// The catalogue of indexed fields: every attribute keyword the index has seen, with a small
// stable number, the kind of value it holds and whether some document has held several range
// keys for it. The number names the field in terms (`X17#ct`), picks its value slots and is its
// code in the stored document data (so a document stores `17` instead of
// `ReferencedImageSequence_ReferencedSOPInstanceUID` for every attribute). The kind decides how
// ranges compare: numbers by value, dates and times as normalised text, text lexically.
//
// Multi-valuedness decides how ranges run: while every document has at most one key for a
// field, ranges use Xapian's own value range over a plain slot (with its bounds statistics);
// once one document has several (a `\` multi-value, repeated sequence items), that document's
// keys go to a packed slot searched key by key, and queries look in both.
//
// The catalogue is persisted as database metadata (`f:<keyword>` -> `<id>:<kind>`, plus `:m`
// once multi-valued), written in the same transaction as the documents that use it, so a reader
// that sees a document also sees its fields and flags. Entries are never removed or renumbered
// and a flag is never cleared: a newer catalogue is valid for older revisions.
//
// Field sets: instead of one "field present" term per attribute, each document carries ONE term
// naming the set of field ids it has (`S<16 hex digits>`, a hash of the sorted ids). The set
// itself is persisted once, when first seen, as metadata `s:<hex>` -> `<id>,<id>,...`, written
// with the documents like the field entries. Objects of one series or modality share a set, so
// an index holds few; `Field:*` is the OR of the set terms whose set holds the field (each
// document has exactly one, so their frequencies add up to the exact total).
//
// Thread-safety: every method may be called concurrently.

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace Xapian {
class Database;
}

namespace tessera::plugins::xapian {

/// How a field's values compare in ranges (chosen from the VR the first time a field is seen).
enum class FieldKind : char {
    Text = 't',      ///< lexical, lower-cased (ranges expand the field's terms)
    Numeric = 'n',   ///< IS DS US SS UL SL FL FD SV UV: by numeric value
    Date = 'd',      ///< DA: YYYYMMDD (legacy YYYY.MM.DD normalised)
    Time = 'h',      ///< TM: HHMMSS.frac (legacy HH:MM:SS normalised, short forms padded)
    DateTime = 'z',  ///< DT: as text
};

/// The kind for a two-letter VR; unknown VRs are Text.
FieldKind kindForVr(std::string_view vr) noexcept;

/// Whether values of this kind have range keys (numbers, dates, times).
bool hasSlot(FieldKind kind) noexcept;

/// Whether a field first seen with this VR keeps every range key in its value slots (layout 5):
/// the continuous, high-cardinality VRs (DS FL FD TM DT), whose ranges list too many terms to
/// answer from them. Integer and date fields (IS US SS UL SL SV UV DA) answer from their terms.
bool keepsRangeSlots(std::string_view vr) noexcept;

struct FieldInfo {
    std::uint32_t id = 0;  ///< >= 1
    FieldKind kind = FieldKind::Text;
    bool multiValued = false;  ///< some document has (had) several range keys for this field
    bool freeText = false;     ///< some document had a value of a free-text VR under this keyword
    bool rangeSlots = false;   ///< every range key is in the slots (keepsRangeSlots of the first VR)
};

/// Database metadata naming the index layout (term scheme, slots, catalogue, document data), so
/// that an index written by another layout is refused instead of misread. Layout 3: field ids in
/// terms, single and multi value slots, the encoded document in value slot 0 (kDocumentSlot).
/// Layout 2 kept it as Xapian document data. (Layout 1, keywords in terms, had no marker.)
inline constexpr std::string_view kFormatMetadataKey = "tessera:format";
/// Layout 4: as 3, plus one field-set term per document instead of presence terms, and no
/// unprefixed free-text terms (free text is answered from the text fields' own terms; a field
/// entry carries `:t` once a value of a free-text VR was indexed under it).
/// Layout 5: as 4, but key ranges (numbers, dates, times) are answered from the whole-value terms;
/// value slots hold range keys only for values whose term is hashed (kMaxTermBytes), and every key
/// of a field whose entry carries `:r` (first seen with a VR of keepsRangeSlots), whose ranges
/// choose between listing terms and scanning slots as layout 4 did.
inline constexpr std::string_view kFormatVersion = "5";

/// Longest keyword the catalogue takes (metadata keys and terms have byte limits). Longer ones
/// (deeply nested private sequences) are stored nowhere and not searchable.
inline constexpr std::size_t kMaxKeywordBytes = 160;

class FieldCatalogue {
public:
    /// Metadata key prefix of the persisted entries.
    static constexpr std::string_view kMetadataPrefix = "f:";

    std::optional<FieldInfo> find(std::string_view keyword) const;
    std::optional<std::string> keywordOf(std::uint32_t id) const;

    /// Returns the field, adding it with the kind of `vr` when new. A new entry's metadata
    /// (key, value) is appended to `newEntries` for the caller to write with the documents.
    /// nullopt for a keyword longer than kMaxKeywordBytes or empty.
    std::optional<FieldInfo> findOrAdd(std::string_view keyword, std::string_view vr,
                                       std::vector<std::pair<std::string, std::string>>& newEntries);

    /// Flags the field as multi-valued. When that is news, its updated metadata entry is appended
    /// to `newEntries` (to be written before any document that relies on it). Unknown ids are
    /// ignored.
    void markMultiValued(std::uint32_t id, std::vector<std::pair<std::string, std::string>>& newEntries);

    /// Flags the field as holding free-text values (see markMultiValued for `newEntries`).
    void markFreeText(std::uint32_t id, std::vector<std::pair<std::string, std::string>>& newEntries);

    /// The fields flagged free-text, by ascending id.
    std::vector<FieldInfo> freeTextFields() const;

    /// Metadata key prefix of the persisted field sets.
    static constexpr std::string_view kFieldSetPrefix = "s:";

    /// The term naming the set of these field ids (sorted ascending, no duplicates). A set not
    /// seen before is added; its metadata entry is appended to `newEntries`.
    std::string fieldSetTerm(const std::vector<std::uint32_t>& sortedIds,
                             std::vector<std::pair<std::string, std::string>>& newEntries);

    /// The field-set terms whose set contains the field.
    std::vector<std::string> fieldSetTermsWith(std::uint32_t id) const;

    /// Number of distinct field sets known.
    std::size_t fieldSetCount() const;

    /// Replaces the contents with the entries persisted in `db`.
    void load(const Xapian::Database& db);

    std::size_t size() const;

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, FieldInfo, Hash, std::equal_to<>> byKeyword_;
    std::vector<std::string> byId_;  // index = id; [0] unused
    // Field sets: encoded id list -> term; term -> encoded id list (to catch hash collisions);
    // field id -> terms of the sets holding it.
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> setTermByKey_;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> setKeyByTerm_;
    std::vector<std::vector<std::string>> setTermsByField_;

    void addSetLocked(const std::string& key, const std::string& term, const std::vector<std::uint32_t>& ids);
    void markLocked(std::uint32_t id, bool FieldInfo::*flag,
                    std::vector<std::pair<std::string, std::string>>& newEntries);
};

}  // namespace tessera::plugins::xapian
