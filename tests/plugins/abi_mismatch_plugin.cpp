// A plugin record from a future SDK: the ABI integer does not match this host. Its factory
// aborts the process, so a test that survives proves the host never called it.

#include <cstdlib>

#include "tessera/sdk/plugin_export.hpp"

namespace {

std::unique_ptr<tessera::sdk::PluginSet> neverCalled(tessera::sdk::HostServices&) { std::abort(); }

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const TesseraPluginRecord tessera_plugin_record = {
    tessera::sdk::kSdkAbiVersion + 1000, TESSERA_SDK_STDLIB_TAG, "test-abi-mismatch", "0.0.1", "99.0.0"};

BOOST_DLL_ALIAS(neverCalled, tessera_plugin_factory)
