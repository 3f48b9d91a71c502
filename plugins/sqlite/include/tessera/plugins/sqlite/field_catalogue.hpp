#pragma once
// The catalogue of indexed fields: every attribute keyword the index has seen, with a small
// stable number (the `field` column of the attribute tables, and the field code in the stored
// record) and the kind of value it holds, fixed by the VR the first time the keyword is seen
// (the same rule as the xapian provider's catalogue, so both compare ranges alike).
//
// Persisted in the `fields` table, written in the same transaction as the first record that
// uses an entry. Entries are never removed or renumbered, so a cached entry never goes stale;
// only a miss has to look at the database.
//
// Thread-safety: every method may be called concurrently.

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tessera::plugins::sqlite {

/// How a field's values compare in ranges (same letters as the xapian provider's kinds).
enum class FieldKind : char {
    Text = 't',      ///< lexical over lower-cased values
    Numeric = 'n',   ///< IS DS US SS UL SL FL FD SV UV: by numeric value
    Date = 'd',      ///< DA: YYYYMMDD (legacy YYYY.MM.DD normalised)
    Time = 'h',      ///< TM: HHMMSS.frac (legacy HH:MM:SS normalised, short forms padded)
    DateTime = 'z',  ///< DT: as text
};

/// The kind for a two-letter VR; unknown VRs are Text.
FieldKind kindForVr(std::string_view vr) noexcept;
/// The kind for its stored letter, nullopt for anything else.
std::optional<FieldKind> kindFromCode(std::string_view code) noexcept;
/// Whether values of this kind have range keys.
bool hasKeys(FieldKind kind) noexcept;

/// Longest keyword taken (as in the xapian provider); longer ones are neither stored nor
/// searchable.
inline constexpr std::size_t kMaxKeywordBytes = 160;

struct FieldInfo {
    std::uint32_t id = 0;  ///< >= 1
    FieldKind kind = FieldKind::Text;
};

struct FieldEntry {
    std::uint32_t id = 0;
    std::string keyword;
    FieldKind kind = FieldKind::Text;
};

class FieldCatalogue {
public:
    std::optional<FieldInfo> find(std::string_view keyword) const;
    std::optional<FieldInfo> findById(std::uint32_t id) const;
    std::optional<std::string> keywordOf(std::uint32_t id) const;

    /// Returns the field, adding it with the kind of `vr` when new; a new entry is queued until
    /// takePending(). nullopt for an empty keyword or one longer than kMaxKeywordBytes.
    std::optional<FieldInfo> findOrAdd(std::string_view keyword, std::string_view vr);

    /// The entries added since the last call, for the writer to persist.
    std::vector<FieldEntry> takePending();
    /// Queues entries again (their transaction was rolled back).
    void restorePending(std::vector<FieldEntry> entries);

    /// Records an entry read from the database (ids and kinds there win).
    void remember(const FieldEntry& entry);

    std::size_t size() const;

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, FieldInfo, Hash, std::equal_to<>> byKeyword_;
    std::vector<std::optional<FieldEntry>> byId_;  // index = id
    std::uint32_t maxId_ = 0;
    std::vector<FieldEntry> pending_;
};

}  // namespace tessera::plugins::sqlite
