// A plugin whose set refuses to be built: the factory throws.

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

class ThrowingSet final : public tessera::sdk::PluginSet {
public:
    explicit ThrowingSet(tessera::sdk::HostServices&) {
        throw tessera::sdk::Error(tessera::sdk::ErrorCode::Unavailable, "test: the factory refuses to build");
    }
    std::string name() const override { return "test-factory-throws"; }
};

}  // namespace

TESSERA_PLUGIN(ThrowingSet, "test-factory-throws", "0.0.1")
