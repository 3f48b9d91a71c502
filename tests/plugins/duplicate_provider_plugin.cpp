// A second set that reuses the `good` set's query provider name (in another case: names are
// case-insensitive). Its index provider has a name of its own and is registered first, so a test
// can check that a refused set leaves none of its providers behind. Shutdown is recorded in its
// data directory: the host shuts a refused set down before releasing it.

#include <fstream>

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

namespace sdk = tessera::sdk;

class UniqueIndex final : public sdk::IndexProvider {
public:
    std::string name() const override { return "test-duplicate-index"; }
    sdk::IndexReport index(std::span<const sdk::IndexItem> batch) override { return {batch.size(), 0}; }
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris) override { return {0, uris.size(), 0}; }
};

class ClashingQuery final : public sdk::QueryProvider {
public:
    std::string name() const override { return "TEST-Memory"; }
    sdk::QueryResponse query(const sdk::QueryRequest&) override { return {}; }
};

class DuplicateSet final : public sdk::PluginSet {
public:
    explicit DuplicateSet(sdk::HostServices& host) : dataDir_(host.dataDirectory()) {}
    std::string name() const override { return "test-duplicate"; }
    std::vector<sdk::IndexProvider*> indexProviders() override { return {&index_}; }
    std::vector<sdk::QueryProvider*> queryProviders() override { return {&query_}; }
    void shutdown() override { std::ofstream(dataDir_ / "events.log", std::ios::app) << "shutdown\n"; }

private:
    std::filesystem::path dataDir_;
    UniqueIndex index_;
    ClashingQuery query_;
};

}  // namespace

TESSERA_PLUGIN(DuplicateSet, "test-duplicate", "0.0.1")
