#pragma once
// The catalogue of indexed fields: every attribute keyword the index has seen, with a small
// stable number and the kind of value it holds. The number is the field's Xapian value slot and
// its code in the stored document data (so a document stores `17` instead of
// `ReferencedImageSequence_ReferencedSOPInstanceUID` for every attribute). The kind decides how
// ranges compare: numbers by value, dates and times as normalised text, text lexically.
//
// The catalogue is persisted as database metadata (`f:<keyword>` -> `<id>:<kind>`), written in
// the same transaction as the documents that use it, so a reader that sees a document also sees
// its fields. Entries are never removed or renumbered: a newer catalogue is valid for older
// revisions.
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

/// Whether values of this kind are kept in a value slot for ranges.
bool hasSlot(FieldKind kind) noexcept;

struct FieldInfo {
    std::uint32_t id = 0;  ///< >= 1; also the Xapian value slot
    FieldKind kind = FieldKind::Text;
};

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
};

}  // namespace tessera::plugins::xapian
