#include "plugin_host_services.hpp"

#include <utility>

#include "tessera/sdk/error.hpp"

namespace tessera::core {

PluginHostServices::PluginHostServices(std::string setName, const PluginHostOptions& options,
                                       ProviderRegistry& registry, sdk::SettingsSection& settings,
                                       std::filesystem::path dataDirectory)
    : setName_(std::move(setName)),
      options_(options),
      registry_(registry),
      settings_(settings),
      dataDirectory_(std::move(dataDirectory)) {}

void PluginHostServices::log(sdk::LogLevel level, std::string_view message) {
    if (!options_.log) return;
    std::string line;
    line.reserve(setName_.size() + 3 + message.size());
    line.append("[").append(setName_).append("] ").append(message);
    options_.log(level, line);
}

sdk::SettingsSection& PluginHostServices::settings() { return settings_; }

std::filesystem::path PluginHostServices::dataDirectory() const {
    if (dataDirectory_.empty())
        throw sdk::Error(sdk::ErrorCode::Unavailable, "This server has no data directory for plugin set '" + setName_ + "'");
    return dataDirectory_;
}

sdk::IndexProvider* PluginHostServices::indexProvider(std::string_view name) {
    sdk::IndexProvider* provider = registry_.index(name);
    return provider != nullptr && provider->isEnabled() ? provider : nullptr;
}

sdk::QueryProvider* PluginHostServices::queryProvider(std::string_view name) {
    sdk::QueryProvider* provider = registry_.query(name);
    return provider != nullptr && provider->isEnabled() ? provider : nullptr;
}

sdk::StorageProvider* PluginHostServices::storageProviderForScheme(std::string_view scheme) {
    return registry_.storageForScheme(scheme);
}

std::unique_ptr<sdk::DicomObjectView> PluginHostServices::parseDicom(std::span<const std::uint8_t> bytes) {
    if (!options_.parseDicom)
        throw sdk::Error(sdk::ErrorCode::Unavailable, "This server offers plugins no DICOM parser");
    return options_.parseDicom(bytes);
}

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
