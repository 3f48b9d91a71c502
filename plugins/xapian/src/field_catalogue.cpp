#include "tessera/plugins/xapian/field_catalogue.hpp"

#include <charconv>
#include <mutex>

#include <xapian.h>

namespace tessera::plugins::xapian {

FieldKind kindForVr(std::string_view vr) noexcept {
    if (vr == "IS" || vr == "DS" || vr == "US" || vr == "SS" || vr == "UL" || vr == "SL" || vr == "FL" ||
        vr == "FD" || vr == "SV" || vr == "UV")
        return FieldKind::Numeric;
    if (vr == "DA") return FieldKind::Date;
    if (vr == "TM") return FieldKind::Time;
    if (vr == "DT") return FieldKind::DateTime;
    return FieldKind::Text;
}

bool hasSlot(FieldKind kind) noexcept { return kind != FieldKind::Text; }

namespace {

constexpr std::string_view kMultiSuffix = ":m";

std::string entryValue(const FieldInfo& info) {
    std::string value = std::to_string(info.id) + ':' + static_cast<char>(info.kind);
    if (info.multiValued) value.append(kMultiSuffix);
    return value;
}

bool validKind(char c) noexcept {
    return c == static_cast<char>(FieldKind::Text) || c == static_cast<char>(FieldKind::Numeric) ||
           c == static_cast<char>(FieldKind::Date) || c == static_cast<char>(FieldKind::Time) ||
           c == static_cast<char>(FieldKind::DateTime);
}

}  // namespace

std::optional<FieldInfo> FieldCatalogue::find(std::string_view keyword) const {
    std::shared_lock lock(mutex_);
    auto it = byKeyword_.find(keyword);
    if (it == byKeyword_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> FieldCatalogue::keywordOf(std::uint32_t id) const {
    std::shared_lock lock(mutex_);
    if (id == 0 || id >= byId_.size() || byId_[id].empty()) return std::nullopt;
    return byId_[id];
}

std::optional<FieldInfo> FieldCatalogue::findOrAdd(std::string_view keyword, std::string_view vr,
                                                   std::vector<std::pair<std::string, std::string>>& newEntries) {
    if (keyword.empty() || keyword.size() > kMaxKeywordBytes) return std::nullopt;
    if (auto found = find(keyword)) return found;
    std::unique_lock lock(mutex_);
    if (auto it = byKeyword_.find(keyword); it != byKeyword_.end()) return it->second;
    if (byId_.empty()) byId_.emplace_back();
    FieldInfo info{static_cast<std::uint32_t>(byId_.size()), kindForVr(vr)};
    byId_.emplace_back(keyword);
    byKeyword_.emplace(std::string(keyword), info);
    newEntries.emplace_back(std::string(kMetadataPrefix) + std::string(keyword), entryValue(info));
    return info;
}

void FieldCatalogue::markMultiValued(std::uint32_t id, std::vector<std::pair<std::string, std::string>>& newEntries) {
    {
        std::shared_lock lock(mutex_);
        if (id == 0 || id >= byId_.size() || byId_[id].empty()) return;
        if (auto it = byKeyword_.find(byId_[id]); it == byKeyword_.end() || it->second.multiValued) return;
    }
    std::unique_lock lock(mutex_);
    auto it = byKeyword_.find(byId_[id]);
    if (it == byKeyword_.end() || it->second.multiValued) return;
    it->second.multiValued = true;
    newEntries.emplace_back(std::string(kMetadataPrefix) + it->first, entryValue(it->second));
}

void FieldCatalogue::load(const Xapian::Database& db) {
    std::unordered_map<std::string, FieldInfo, Hash, std::equal_to<>> byKeyword;
    std::vector<std::string> byId(1);
    const std::string prefix(kMetadataPrefix);
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it) {
        const std::string key = *it;
        const std::string value = db.get_metadata(key);
        // "<id>:<kind>[:m]"; anything else is not ours and is ignored rather than trusted.
        std::string_view text = value;
        bool multiValued = false;
        if (text.size() > kMultiSuffix.size() && text.substr(text.size() - kMultiSuffix.size()) == kMultiSuffix) {
            multiValued = true;
            text.remove_suffix(kMultiSuffix.size());
        }
        const auto colon = text.find(':');
        if (colon == std::string::npos || colon + 2 != text.size() || !validKind(text[colon + 1])) continue;
        std::uint32_t id = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + colon, id);
        if (ec != std::errc() || end != value.data() + colon || id == 0 || id > 10'000'000) continue;
        std::string keyword = key.substr(prefix.size());
        if (byId.size() <= id) byId.resize(id + 1);
        byId[id] = keyword;
        byKeyword.emplace(std::move(keyword), FieldInfo{id, static_cast<FieldKind>(text[colon + 1]), multiValued});
    }
    std::unique_lock lock(mutex_);
    byKeyword_ = std::move(byKeyword);
    byId_ = std::move(byId);
}

std::size_t FieldCatalogue::size() const {
    std::shared_lock lock(mutex_);
    return byKeyword_.size();
}

}  // namespace tessera::plugins::xapian
