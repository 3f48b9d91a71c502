#pragma once
/// @file plugin_export.hpp
/// The one macro a plugin library uses to make itself loadable:
///
///     class MyPlugins : public tessera::sdk::PluginSet { ... };
///     TESSERA_PLUGIN(MyPlugins, "my-plugins", "1.2.0")
///
/// It exports two symbols. `tessera_plugin_record` is a plain C record (ABI integer, standard
/// library tag, plugin name and version) that the host reads *before* calling anything.
/// `tessera_plugin_factory` creates the set, given the host's services; the class must have a
/// constructor taking `tessera::sdk::HostServices&`.
///
/// This is the only SDK header that includes Boost.DLL.
/// @since 1.0

#include <cstdint>
#include <memory>

#include <boost/dll/alias.hpp>

#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/plugin_set.hpp"
#include "tessera/sdk/version.hpp"

extern "C" {
/// The record the host reads before anything else. Plain C, so that it can be read whatever the
/// plugin was built with.
/// @since 1.0
struct TesseraPluginRecord {
    std::uint32_t abiVersion;     ///< must equal the host's tessera::sdk::kSdkAbiVersion
    const char* stdlibTag;        ///< must equal the host's tessera::sdk::kStdlibTag
    const char* pluginName;       ///< for logs and the dead-plugin list
    const char* pluginVersion;    ///< free text, shown in /plugins
    const char* sdkVersion;       ///< the SDK semver the plugin was built with
};
}

namespace tessera::sdk {

/// Signature of the exported factory.
/// @since 1.0
using PluginFactory = std::unique_ptr<PluginSet>(HostServices&);

/// Symbol names the host looks up.
/// @since 1.0
inline constexpr const char* kPluginRecordSymbol = "tessera_plugin_record";
inline constexpr const char* kPluginFactorySymbol = "tessera_plugin_factory";

}  // namespace tessera::sdk

/// Exports `SetClass` (constructible from HostServices&) as this library's plugin set.
/// @since 1.0
#define TESSERA_PLUGIN(SetClass, pluginName, pluginVersion)                                           \
    extern "C" BOOST_SYMBOL_EXPORT const TesseraPluginRecord tessera_plugin_record = {                \
        ::tessera::sdk::kSdkAbiVersion, TESSERA_SDK_STDLIB_TAG, pluginName, pluginVersion,            \
        TESSERA_SDK_VERSION_STRING};                                                                  \
    namespace {                                                                                       \
    std::unique_ptr<::tessera::sdk::PluginSet> tesseraCreatePluginSet(::tessera::sdk::HostServices& host) { \
        return std::make_unique<SetClass>(host);                                                      \
    }                                                                                                 \
    }                                                                                                 \
    BOOST_DLL_ALIAS(tesseraCreatePluginSet, tessera_plugin_factory)
