#pragma once
// A PluginHost that loads the built `file` and `xapian` modules the way the server does, with
// in-memory settings and core's DICOM reader. The index-service, watch-folder and thumbnail
// tests each need this same host before adding their own parts.

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::test {

using PluginSettings = std::map<std::string, core::MemorySettingsSection>;

/// A host over `dataRoot` whose `file` plugin serves `fileRoots` (';'-separated), with the file
/// and xapian modules of `moduleDir` loaded. `settings` must outlive the host.
inline std::unique_ptr<core::PluginHost> makeLocalPluginHost(const std::filesystem::path& moduleDir,
                                                             const std::filesystem::path& dataRoot,
                                                             const std::string& fileRoots, PluginSettings& settings) {
    settings["file"].set("roots", fileRoots);
    core::PluginHostOptions options;
    options.dataRoot = dataRoot;
    options.settingsFor = [&settings](const std::string& set) -> sdk::SettingsSection& { return settings[set]; };
    options.log = [](sdk::LogLevel, const std::string&) {};
    options.parseDicom = [](std::span<const std::uint8_t> bytes) {
        auto result = core::readDicomBytes(bytes);
        if (result.status != core::DicomReadStatus::Ok) throw sdk::Error(sdk::ErrorCode::Corrupted, result.reason);
        return std::move(result.object);
    };
    auto host = std::make_unique<core::PluginHost>(std::move(options));
    host->loadLibrary(moduleDir / "tessera-file.so");
    host->loadLibrary(moduleDir / "tessera-xapian.so");
    return host;
}

}  // namespace tessera::test
