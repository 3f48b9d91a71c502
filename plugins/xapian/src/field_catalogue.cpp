#include "tessera/plugins/xapian/field_catalogue.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>

#include <xapian.h>

#include "tessera/plugins/xapian/stable_hash.hpp"

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

bool keepsRangeSlots(std::string_view vr) noexcept {
    return vr == "DS" || vr == "FL" || vr == "FD" || vr == "TM" || vr == "DT";
}

namespace {

std::string entryValue(const FieldInfo& info) {
    std::string value = std::to_string(info.id) + ':' + static_cast<char>(info.kind);
    if (info.multiValued) value.append(":m");
    if (info.freeText) value.append(":t");
    if (info.rangeSlots) value.append(":r");
    return value;
}

bool validKind(char c) noexcept {
    return c == static_cast<char>(FieldKind::Text) || c == static_cast<char>(FieldKind::Numeric) ||
           c == static_cast<char>(FieldKind::Date) || c == static_cast<char>(FieldKind::Time) ||
           c == static_cast<char>(FieldKind::DateTime);
}

/// "<id>:<kind>[:m][:t][:r]"; anything else is not ours and is ignored rather than trusted.
std::optional<FieldInfo> parseEntry(std::string_view text) {
    FieldInfo info;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon + 2 > text.size() || !validKind(text[colon + 1])) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + colon, info.id);
    if (ec != std::errc() || end != text.data() + colon || info.id == 0 || info.id > 10'000'000) return std::nullopt;
    info.kind = static_cast<FieldKind>(text[colon + 1]);
    std::string_view flags = text.substr(colon + 2);
    while (!flags.empty()) {
        if (flags.size() < 2 || flags[0] != ':') return std::nullopt;
        if (flags[1] == 'm') info.multiValued = true;
        else if (flags[1] == 't') info.freeText = true;
        else if (flags[1] == 'r') info.rangeSlots = true;
        else return std::nullopt;
        flags.remove_prefix(2);
    }
    return info;
}

/// The ids of a field set as text: decimal, comma-separated (also its metadata value).
std::string setKey(const std::vector<std::uint32_t>& ids) {
    std::string key;
    key.reserve(ids.size() * 4);
    char buffer[16];
    for (std::uint32_t id : ids) {
        if (!key.empty()) key.push_back(',');
        key.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, id).ptr);
    }
    return key;
}

std::optional<std::vector<std::uint32_t>> parseSetKey(std::string_view key) {
    std::vector<std::uint32_t> ids;
    while (!key.empty()) {
        std::uint32_t id = 0;
        auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc() || id == 0 || id > 10'000'000) return std::nullopt;
        ids.push_back(id);
        key.remove_prefix(static_cast<std::size_t>(end - key.data()));
        if (!key.empty()) {
            if (key.front() != ',') return std::nullopt;
            key.remove_prefix(1);
        }
    }
    return ids;
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
    // Fixed with the field: a slot scan answers a range only if every key of the field is there.
    info.rangeSlots = hasSlot(info.kind) && keepsRangeSlots(vr);
    byId_.emplace_back(keyword);
    byKeyword_.emplace(std::string(keyword), info);
    newEntries.emplace_back(std::string(kMetadataPrefix) + std::string(keyword), entryValue(info));
    return info;
}

void FieldCatalogue::markLocked(std::uint32_t id, bool FieldInfo::*flag,
                                std::vector<std::pair<std::string, std::string>>& newEntries) {
    auto it = byKeyword_.find(byId_[id]);
    if (it == byKeyword_.end() || it->second.*flag) return;
    it->second.*flag = true;
    newEntries.emplace_back(std::string(kMetadataPrefix) + it->first, entryValue(it->second));
}

void FieldCatalogue::markMultiValued(std::uint32_t id, std::vector<std::pair<std::string, std::string>>& newEntries) {
    {
        std::shared_lock lock(mutex_);
        if (id == 0 || id >= byId_.size() || byId_[id].empty()) return;
        if (auto it = byKeyword_.find(byId_[id]); it == byKeyword_.end() || it->second.multiValued) return;
    }
    std::unique_lock lock(mutex_);
    markLocked(id, &FieldInfo::multiValued, newEntries);
}

void FieldCatalogue::markFreeText(std::uint32_t id, std::vector<std::pair<std::string, std::string>>& newEntries) {
    {
        std::shared_lock lock(mutex_);
        if (id == 0 || id >= byId_.size() || byId_[id].empty()) return;
        if (auto it = byKeyword_.find(byId_[id]); it == byKeyword_.end() || it->second.freeText) return;
    }
    std::unique_lock lock(mutex_);
    markLocked(id, &FieldInfo::freeText, newEntries);
}

std::vector<FieldInfo> FieldCatalogue::freeTextFields() const {
    std::vector<FieldInfo> fields;
    std::shared_lock lock(mutex_);
    for (const auto& [keyword, info] : byKeyword_)
        if (info.freeText) fields.push_back(info);
    std::sort(fields.begin(), fields.end(), [](const FieldInfo& x, const FieldInfo& y) { return x.id < y.id; });
    return fields;
}

void FieldCatalogue::addSetLocked(const std::string& key, const std::string& term, const std::vector<std::uint32_t>& ids) {
    setTermByKey_.emplace(key, term);
    setKeyByTerm_.emplace(term, key);
    for (std::uint32_t id : ids) {
        if (setTermsByField_.size() <= id) setTermsByField_.resize(id + 1);
        setTermsByField_[id].push_back(term);
    }
}

std::string FieldCatalogue::fieldSetTerm(const std::vector<std::uint32_t>& sortedIds,
                                         std::vector<std::pair<std::string, std::string>>& newEntries) {
    const std::string key = setKey(sortedIds);
    {
        std::shared_lock lock(mutex_);
        if (auto it = setTermByKey_.find(key); it != setTermByKey_.end()) return it->second;
    }
    std::unique_lock lock(mutex_);
    if (auto it = setTermByKey_.find(key); it != setTermByKey_.end()) return it->second;
    // A hash taken by another set (a 64-bit collision): the next free value names this one.
    std::uint64_t hash = fnv1a64(key);
    std::string term;
    while (true) {
        term.clear();
        term.push_back('S');
        appendHex64(hash, term);
        if (!setKeyByTerm_.contains(term)) break;
        ++hash;
    }
    addSetLocked(key, term, sortedIds);
    newEntries.emplace_back(std::string(kFieldSetPrefix) + term.substr(1), key);
    return term;
}

std::vector<std::string> FieldCatalogue::fieldSetTermsWith(std::uint32_t id) const {
    std::shared_lock lock(mutex_);
    if (id >= setTermsByField_.size()) return {};
    return setTermsByField_[id];
}

std::size_t FieldCatalogue::fieldSetCount() const {
    std::shared_lock lock(mutex_);
    return setTermByKey_.size();
}

void FieldCatalogue::load(const Xapian::Database& db) {
    std::unordered_map<std::string, FieldInfo, Hash, std::equal_to<>> byKeyword;
    std::vector<std::string> byId(1);
    const std::string prefix(kMetadataPrefix);
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it) {
        const std::string key = *it;
        const auto info = parseEntry(db.get_metadata(key));
        if (!info) continue;
        std::string keyword = key.substr(prefix.size());
        if (byId.size() <= info->id) byId.resize(info->id + 1);
        byId[info->id] = keyword;
        byKeyword.emplace(std::move(keyword), *info);
    }
    std::vector<std::pair<std::string, std::vector<std::uint32_t>>> sets;
    const std::string setPrefix(kFieldSetPrefix);
    for (auto it = db.metadata_keys_begin(setPrefix); it != db.metadata_keys_end(setPrefix); ++it) {
        const std::string key = *it;
        const std::string value = db.get_metadata(key);
        auto ids = parseSetKey(value);
        if (!ids) continue;
        // (Built by push_back/append: g++ 12 warns falsely on "S" + substr.)
        std::string term;
        term.push_back('S');
        term.append(key, setPrefix.size());
        sets.emplace_back(std::move(term), std::move(*ids));
    }
    std::unique_lock lock(mutex_);
    byKeyword_ = std::move(byKeyword);
    byId_ = std::move(byId);
    setTermByKey_.clear();
    setKeyByTerm_.clear();
    setTermsByField_.clear();
    for (const auto& [term, ids] : sets) addSetLocked(setKey(ids), term, ids);
}

std::size_t FieldCatalogue::size() const {
    std::shared_lock lock(mutex_);
    return byKeyword_.size();
}

}  // namespace tessera::plugins::xapian
