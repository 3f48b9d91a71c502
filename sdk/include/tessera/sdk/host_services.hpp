#pragma once
/// @file host_services.hpp
/// What the host offers a plugin set: logging, its settings section, its data directory, other
/// providers, and the host's DICOM parser.
///
/// Ownership: each plugin set gets its own HostServices, owned by the host, valid from the
/// factory call until after PluginSet::shutdown() returns. Pointers to providers returned by the
/// lookups stay valid as long as this object.
/// Thread-safety: every method may be called concurrently from any thread.
/// @since 1.0

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/settings_section.hpp"

namespace tessera::sdk {

class IndexProvider;
class QueryProvider;
class StorageProvider;

/// @since 1.0
enum class LogLevel { Debug, Information, Warning, Error };

/// @since 1.0
class HostServices {
public:
    virtual ~HostServices() = default;

    /// Writes one line to the server log, prefixed with the plugin set's name.
    virtual void log(LogLevel level, std::string_view message) = 0;

    /// This plugin set's own configuration section.
    virtual SettingsSection& settings() = 0;

    /// A directory that belongs to this plugin set alone (created by the host).
    virtual std::filesystem::path dataDirectory() const = 0;

    /// Enabled providers by name (case-insensitive), or nullptr.
    virtual IndexProvider* indexProvider(std::string_view name) = 0;
    virtual QueryProvider* queryProvider(std::string_view name) = 0;
    /// The storage provider that serves a URI scheme, or nullptr.
    virtual StorageProvider* storageProviderForScheme(std::string_view scheme) = 0;

    /// Parses DICOM Part 10 bytes (or a bare dataset) with the host's reader: header up to
    /// PixelData, text decoded to UTF-8. Throws Error(Corrupted) for data that is not DICOM.
    virtual std::unique_ptr<DicomObjectView> parseDicom(std::span<const std::uint8_t> bytes) = 0;
};

}  // namespace tessera::sdk
