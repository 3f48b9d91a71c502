// The loadable `xapian` plugin set: one provider, `xapian`, that indexes and answers queries.
// Settings: `path` (database directory; default <data directory>/index), `commitEvery`
// (documents between automatic commits; default 2000), `shards` (writer shards of a new index:
// a count from 1 to 64, or `auto` = min(hardware threads, 4); an existing index keeps its count).

#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "tessera/plugins/xapian/shard_layout.hpp"
#include "tessera/plugins/xapian/xapian_provider.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/plugin_export.hpp"

namespace tessera::plugins::xapian {

class XapianPluginSet final : public sdk::PluginSet {
public:
    explicit XapianPluginSet(sdk::HostServices& host) : host_(host), provider_(&host) {}

    std::string name() const override { return "xapian"; }

    void configure(sdk::SettingsSection& settings) override {
        const std::string configuredPath = settings.getOr("path", "");
        const std::filesystem::path path =
            configuredPath.empty() ? host_.dataDirectory() / "index" : std::filesystem::path(configuredPath);
        XapianIndexOptions options;
        const std::string commitEvery = settings.getOrInit("commitEvery", std::to_string(options.commitEvery));
        std::size_t value = 0;
        auto [end, ec] = std::from_chars(commitEvery.data(), commitEvery.data() + commitEvery.size(), value);
        if (ec != std::errc() || end != commitEvery.data() + commitEvery.size())
            throw sdk::Error(sdk::ErrorCode::InvalidArgument, "xapian: commitEvery must be a whole number");
        options.commitEvery = value;
        const std::string shardsText = settings.getOrInit("shards", "auto");
        std::size_t shards = 0;  // auto
        if (shardsText != "auto") {
            auto [shardsEnd, shardsEc] = std::from_chars(shardsText.data(), shardsText.data() + shardsText.size(), shards);
            if (shardsEc != std::errc() || shardsEnd != shardsText.data() + shardsText.size() || shards == 0 || shards > kMaxShards)
                throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                                 "xapian: shards must be 'auto' or a count from 1 to " + std::to_string(kMaxShards));
        }
        provider_.open(path, options, shards);
        host_.log(sdk::LogLevel::Information, "xapian index at " + path.string() + " (" +
                                                  std::to_string(provider_.shardCount()) + " shard" +
                                                  (provider_.shardCount() == 1 ? "" : "s") + ")");
    }

    std::vector<sdk::IndexProvider*> indexProviders() override { return {&provider_}; }
    std::vector<sdk::QueryProvider*> queryProviders() override { return {&provider_}; }

    void shutdown() override { provider_.close(); }

private:
    sdk::HostServices& host_;
    XapianProvider provider_;
};

}  // namespace tessera::plugins::xapian

TESSERA_PLUGIN(tessera::plugins::xapian::XapianPluginSet, "xapian", "1.0.0")
