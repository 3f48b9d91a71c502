// A plugin whose configure() rejects its settings. It has a provider, which must never be
// registered.

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

namespace sdk = tessera::sdk;

class NeverRegistered final : public sdk::WebServiceProvider {
public:
    std::string name() const override { return "test-configure-throws-web"; }
    std::vector<sdk::WebRoute> routes() override { return {}; }
};

class BadSettingsSet final : public sdk::PluginSet {
public:
    explicit BadSettingsSet(sdk::HostServices&) {}
    std::string name() const override { return "test-configure-throws"; }
    void configure(sdk::SettingsSection&) override {
        throw sdk::Error(sdk::ErrorCode::InvalidArgument, "test: the setting 'mode' must be 'fast' or 'safe'");
    }
    std::vector<sdk::WebServiceProvider*> webServiceProviders() override { return {&web_}; }

private:
    NeverRegistered web_;
};

}  // namespace

TESSERA_PLUGIN(BadSettingsSet, "test-configure-throws", "0.0.1")
