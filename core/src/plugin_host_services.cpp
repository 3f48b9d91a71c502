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

}  // namespace tessera::core
