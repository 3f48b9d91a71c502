// The right ABI integer, but a record claiming another C++ standard library: std types could not
// cross the boundary safely. Its factory aborts, so the host must stop at the record.

#include <cstdlib>

#include "tessera/sdk/plugin_export.hpp"

namespace {

std::unique_ptr<tessera::sdk::PluginSet> neverCalled(tessera::sdk::HostServices&) { std::abort(); }

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const TesseraPluginRecord tessera_plugin_record = {
    tessera::sdk::kSdkAbiVersion, "libc++-test-not-this-one", "test-stdlib-mismatch", "0.0.1",
    TESSERA_SDK_VERSION_STRING};

BOOST_DLL_ALIAS(neverCalled, tessera_plugin_factory)
