#pragma once
// The sdk::HostServices one plugin set receives (private to core).
//
// Ownership: the PluginHost owns one per set and destroys it only after the set is destroyed;
// the options and registry it points to belong to the host and outlive it.
// Thread-safety: every method may be called concurrently (the SDK contract); the object holds
// no mutable state of its own.

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/settings_section.hpp"

namespace tessera::core {

class PluginHostServices final : public sdk::HostServices {
public:
    // `dataDirectory` must already exist, or be empty when the host has no data root (then
    // dataDirectory() throws Error(Unavailable)).
    PluginHostServices(std::string setName, const PluginHostOptions& options, ProviderRegistry& registry,
                       sdk::SettingsSection& settings, std::filesystem::path dataDirectory);

    void log(sdk::LogLevel level, std::string_view message) override;
    sdk::SettingsSection& settings() override;
    std::filesystem::path dataDirectory() const override;
    sdk::IndexProvider* indexProvider(std::string_view name) override;
    sdk::QueryProvider* queryProvider(std::string_view name) override;
    sdk::StorageProvider* storageProviderForScheme(std::string_view scheme) override;
    std::unique_ptr<sdk::DicomObjectView> parseDicom(std::span<const std::uint8_t> bytes) override;

private:
    std::string setName_;
    const PluginHostOptions& options_;
    ProviderRegistry& registry_;
    sdk::SettingsSection& settings_;
    std::filesystem::path dataDirectory_;
};

}  // namespace tessera::core
