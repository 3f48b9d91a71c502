#pragma once
/// @file settings_section.hpp
/// A plugin's own section of the server configuration: string keys to string values, saved with
/// the server's configuration file.
///
/// Keys are made of `[A-Za-z0-9_.-]`; a `.` nests (`index.path`).
/// Ownership: the host owns the section; it outlives the plugin set.
/// Thread-safety: all methods may be called concurrently.
/// @since 1.0

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::sdk {

/// @since 1.0
class SettingsSection {
public:
    virtual ~SettingsSection() = default;

    virtual std::optional<std::string> get(std::string_view key) const = 0;
    /// Sets and saves the value (durably, before returning).
    virtual void set(std::string_view key, std::string_view value) = 0;
    /// Every key that has a value.
    virtual std::vector<std::string> keys() const = 0;

    std::string getOr(std::string_view key, std::string_view fallback) const {
        auto value = get(key);
        return value ? *value : std::string(fallback);
    }
    /// Writes `fallback` when the key is missing, so defaults show up in the file.
    std::string getOrInit(std::string_view key, std::string_view fallback) {
        if (auto value = get(key)) return *value;
        set(key, fallback);
        return std::string(fallback);
    }
};

}  // namespace tessera::sdk
