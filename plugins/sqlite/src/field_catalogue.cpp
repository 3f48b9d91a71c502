#include "tessera/plugins/sqlite/field_catalogue.hpp"

#include <mutex>

#include "tessera/plugins/xapian/field_catalogue.hpp"

namespace tessera::plugins::sqlite {

namespace {

// Both providers choose a field's kind by the same table: ranges must compare alike.
static_assert(static_cast<char>(FieldKind::Numeric) == static_cast<char>(xapian::FieldKind::Numeric));
static_assert(static_cast<char>(FieldKind::Date) == static_cast<char>(xapian::FieldKind::Date));
static_assert(static_cast<char>(FieldKind::Time) == static_cast<char>(xapian::FieldKind::Time));
static_assert(static_cast<char>(FieldKind::DateTime) == static_cast<char>(xapian::FieldKind::DateTime));
static_assert(static_cast<char>(FieldKind::Text) == static_cast<char>(xapian::FieldKind::Text));
static_assert(kMaxKeywordBytes == xapian::kMaxKeywordBytes);

/// Ids above this are not ours (a damaged or foreign table); refusing them bounds byId_.
constexpr std::uint32_t kMaxFieldId = 10'000'000;

}  // namespace

FieldKind kindForVr(std::string_view vr) noexcept { return static_cast<FieldKind>(xapian::kindForVr(vr)); }

std::optional<FieldKind> kindFromCode(std::string_view code) noexcept {
    if (code.size() != 1) return std::nullopt;
    switch (code[0]) {
        case 't': return FieldKind::Text;
        case 'n': return FieldKind::Numeric;
        case 'd': return FieldKind::Date;
        case 'h': return FieldKind::Time;
        case 'z': return FieldKind::DateTime;
        default: return std::nullopt;
    }
}

bool hasKeys(FieldKind kind) noexcept { return kind != FieldKind::Text; }

std::optional<FieldInfo> FieldCatalogue::find(std::string_view keyword) const {
    std::shared_lock lock(mutex_);
    auto it = byKeyword_.find(keyword);
    if (it == byKeyword_.end()) return std::nullopt;
    return it->second;
}

std::optional<FieldInfo> FieldCatalogue::findById(std::uint32_t id) const {
    std::shared_lock lock(mutex_);
    if (id >= byId_.size() || !byId_[id]) return std::nullopt;
    return FieldInfo{id, byId_[id]->kind};
}

std::optional<std::string> FieldCatalogue::keywordOf(std::uint32_t id) const {
    std::shared_lock lock(mutex_);
    if (id >= byId_.size() || !byId_[id]) return std::nullopt;
    return byId_[id]->keyword;
}

std::optional<FieldInfo> FieldCatalogue::findOrAdd(std::string_view keyword, std::string_view vr) {
    if (keyword.empty() || keyword.size() > kMaxKeywordBytes) return std::nullopt;
    if (auto found = find(keyword)) return found;
    std::unique_lock lock(mutex_);
    if (auto it = byKeyword_.find(keyword); it != byKeyword_.end()) return it->second;
    FieldEntry entry{maxId_ + 1, std::string(keyword), kindForVr(vr)};
    maxId_ = entry.id;
    if (byId_.size() <= entry.id) byId_.resize(entry.id + 1);
    byId_[entry.id] = entry;
    const FieldInfo info{entry.id, entry.kind};
    byKeyword_.emplace(entry.keyword, info);
    pending_.push_back(std::move(entry));
    return info;
}

std::vector<FieldEntry> FieldCatalogue::takePending() {
    std::unique_lock lock(mutex_);
    std::vector<FieldEntry> out;
    out.swap(pending_);
    return out;
}

void FieldCatalogue::restorePending(std::vector<FieldEntry> entries) {
    std::unique_lock lock(mutex_);
    for (auto& entry : entries) pending_.push_back(std::move(entry));
}

void FieldCatalogue::remember(const FieldEntry& entry) {
    if (entry.id == 0 || entry.id > kMaxFieldId || entry.keyword.empty()) return;
    std::unique_lock lock(mutex_);
    if (byId_.size() <= entry.id) byId_.resize(entry.id + 1);
    byId_[entry.id] = entry;
    byKeyword_.insert_or_assign(entry.keyword, FieldInfo{entry.id, entry.kind});
    if (entry.id > maxId_) maxId_ = entry.id;
}

std::size_t FieldCatalogue::size() const {
    std::shared_lock lock(mutex_);
    return byKeyword_.size();
}

}  // namespace tessera::plugins::sqlite
