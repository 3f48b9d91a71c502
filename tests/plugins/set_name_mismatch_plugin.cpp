// The record says one name, the set another: settings and data directory were handed out under
// the record's name, so the host refuses the set.

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

class MisnamedSet final : public tessera::sdk::PluginSet {
public:
    explicit MisnamedSet(tessera::sdk::HostServices&) {}
    std::string name() const override { return "test-some-other-name"; }
};

}  // namespace

TESSERA_PLUGIN(MisnamedSet, "test-name-mismatch", "0.0.1")
