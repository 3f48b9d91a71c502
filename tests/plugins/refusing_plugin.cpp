// A plugin whose query provider refuses to be switched on or off (enable()/disable() return
// false), for the 500 "Could not disable plugin" answer of POST /plugins/{type}/{name}/{action}.

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

namespace sdk = tessera::sdk;

class StubbornQuery final : public sdk::QueryProvider {
public:
    std::string name() const override { return "test-refusing"; }
    bool enable() override { return false; }
    bool disable() override { return false; }
    sdk::QueryResponse query(const sdk::QueryRequest&) override { return {}; }
};

class RefusingSet final : public sdk::PluginSet {
public:
    explicit RefusingSet(sdk::HostServices&) {}
    std::string name() const override { return "test-refusing"; }
    std::vector<sdk::QueryProvider*> queryProviders() override { return {&query_}; }

private:
    StubbornQuery query_;
};

}  // namespace

TESSERA_PLUGIN(RefusingSet, "test-refusing", "0.0.1")
