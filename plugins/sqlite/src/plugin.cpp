// The loadable `sqlite` plugin set: one provider, `sqlite`, that indexes and answers queries.
// Settings: `path` (index file; default <data directory>/index.sqlite), `commitEvery` (records
// between automatic commits; default 2000), `enabled` (default false).
//
// Disabled unless `enabled` is true: the host loads every module in its plugin directory, and a
// second index provider enabled beside `xapian` would index every object twice and answer every
// DIM query twice. An administrator turns it on (or makes it the DIM provider) in settings.

#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "tessera/plugins/sqlite/sqlite_provider.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/plugin_export.hpp"

namespace tessera::plugins::sqlite {

class SqlitePluginSet final : public sdk::PluginSet {
public:
    explicit SqlitePluginSet(sdk::HostServices& host) : host_(host), provider_(&host) {}

    std::string name() const override { return "sqlite"; }

    void configure(sdk::SettingsSection& settings) override {
        const std::string configuredPath = settings.getOr("path", "");
        const std::filesystem::path path =
            configuredPath.empty() ? host_.dataDirectory() / "index.sqlite" : std::filesystem::path(configuredPath);
        SqliteIndexOptions options;
        const std::string commitEvery = settings.getOrInit("commitEvery", std::to_string(options.commitEvery));
        std::size_t value = 0;
        auto [end, ec] = std::from_chars(commitEvery.data(), commitEvery.data() + commitEvery.size(), value);
        if (ec != std::errc() || end != commitEvery.data() + commitEvery.size())
            throw sdk::Error(sdk::ErrorCode::InvalidArgument, "sqlite: commitEvery must be a whole number");
        options.commitEvery = value;
        const std::string enabled = settings.getOrInit("enabled", "false");
        if (enabled != "true" && enabled != "false")
            throw sdk::Error(sdk::ErrorCode::InvalidArgument, "sqlite: enabled must be true or false");
        provider_.open(path, options);
        if (enabled == "false") provider_.disable();
        host_.log(sdk::LogLevel::Information,
                  "sqlite index at " + path.string() + (enabled == "true" ? "" : " (disabled; setting 'enabled')"));
    }

    std::vector<sdk::IndexProvider*> indexProviders() override { return {&provider_}; }
    std::vector<sdk::QueryProvider*> queryProviders() override { return {&provider_}; }

    void shutdown() override { provider_.close(); }

private:
    sdk::HostServices& host_;
    SqliteProvider provider_;
};

}  // namespace tessera::plugins::sqlite

TESSERA_PLUGIN(tessera::plugins::sqlite::SqlitePluginSet, "sqlite", "1.0.0")
