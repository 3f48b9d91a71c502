#pragma once
// A plugin settings section kept in memory: what a set gets when the host has no configuration
// file behind it (tests, embedded hosts). Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "tessera/sdk/settings_section.hpp"

namespace tessera::core {

class MemorySettingsSection final : public sdk::SettingsSection {
public:
    MemorySettingsSection() = default;
    explicit MemorySettingsSection(std::map<std::string, std::string, std::less<>> values) : values_(std::move(values)) {}

    std::optional<std::string> get(std::string_view key) const override;
    void set(std::string_view key, std::string_view value) override;
    std::vector<std::string> keys() const override;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace tessera::core
