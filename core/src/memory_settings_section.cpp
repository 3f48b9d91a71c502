#include "tessera/core/memory_settings_section.hpp"

namespace tessera::core {

std::optional<std::string> MemorySettingsSection::get(std::string_view key) const {
    std::lock_guard lock(mutex_);
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

void MemorySettingsSection::set(std::string_view key, std::string_view value) {
    std::lock_guard lock(mutex_);
    values_.insert_or_assign(std::string(key), std::string(value));
}

std::vector<std::string> MemorySettingsSection::keys() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    out.reserve(values_.size());
    for (const auto& [key, value] : values_) out.push_back(key);
    return out;
}

}  // namespace tessera::core
