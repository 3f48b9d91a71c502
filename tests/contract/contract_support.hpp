#pragma once
// The provider contract suite's shared parts: what to run against (options), the plugins loaded
// through the real core loader, the sample corpus indexed into them, and the query table.
//
// The suite runs against whatever plugin directory it is given, so a third party can run it
// against its own plugin (docs/sdk-guide.md, "Running the contract suite"):
//   --plugin-dir <dir>[:<dir>...]   or env TESSERA_CONTRACT_PLUGIN_DIR (default: the build's
//                                   lib/tessera/plugins)
//   --provider <name>[,<name>...]   or env TESSERA_CONTRACT_PROVIDERS (default: every query
//                                   provider loaded; a named one that is not loaded fails)
//   --samples <dir>                 or env TESSERA_CONTRACT_SAMPLES_DIR (default: the
//                                   ../shared/dicom-samples the build knows)

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/plugin_host.hpp"
#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/test/manifest.hpp"
#include "tessera/test/temp_dir.hpp"

namespace tessera::contract {

struct ContractOptions {
    std::vector<std::filesystem::path> pluginDirs;
    std::vector<std::string> providers;  // query provider names; empty = all loaded
    std::filesystem::path samplesDir;
};

/// Filled by main() from the command line and the environment before any test runs.
ContractOptions& options();

/// The manifest of options().samplesDir, parsed once.
const test::Manifest& manifest();

/// `file:` + the absolute path of a sample.
std::string sampleUri(const std::string& relative);

/// A plugin host over a fresh temp data directory with every plugin of options().pluginDirs
/// loaded through core::PluginHost, as the server loads them.
class LoadedPlugins {
public:
    LoadedPlugins();
    ~LoadedPlugins();
    LoadedPlugins(const LoadedPlugins&) = delete;
    LoadedPlugins& operator=(const LoadedPlugins&) = delete;

    core::PluginHost& host() { return *host_; }
    /// The query providers under test (options().providers, or all), in registration order.
    /// Fails the test (REQUIRE) when a requested one is not loaded.
    std::vector<std::pair<std::string, sdk::QueryProvider*>> queryProviders();
    /// The index providers of the plugin sets that hold the providers under test (so indexing
    /// for `--provider x` does not pay for every other plugin in the directory).
    std::vector<std::pair<std::string, sdk::IndexProvider*>> indexProviders();
    /// The index providers of the same plugin set as query provider `queryName`.
    std::vector<sdk::IndexProvider*> indexProvidersBeside(const std::string& queryName);

private:
    std::vector<std::string> setsUnderTest();

    test::TempDir dir_{"tessera-contract-"};
    std::unique_ptr<core::PluginHost> host_;
};

/// Parsed sample files ready to index: the views stay alive as long as this object.
struct ParsedSamples {
    std::vector<std::unique_ptr<sdk::DicomObjectView>> views;
    std::vector<sdk::IndexItem> items;
    std::vector<std::string> files;  // manifest path of each item
};

/// Reads `files` (manifest paths) with core's DICOM reader; those it does not accept are left
/// out (and listed in `rejected` when given).
ParsedSamples parseSamples(const std::vector<std::string>& files, std::vector<std::string>* rejected = nullptr);

/// Indexes in batches of 64 and commits; REQUIREs that every item was indexed without error.
void indexAll(sdk::IndexProvider& index, const ParsedSamples& samples);

/// The answer of one query as the suite compares it.
struct Answer {
    std::size_t total = 0;
    std::vector<std::string> files;  // sorted manifest paths (unknown URIs kept, marked)
    std::vector<std::string> uris;   // in the provider's order
};

/// Runs `text` (parsed by core's parseQuery) on `provider`.
Answer runQuery(sdk::QueryProvider& provider, const std::string& text, std::vector<std::string> fields = {"SOPInstanceUID"},
                std::size_t offset = 0, std::optional<std::size_t> limit = std::nullopt);

/// Manifest path of a sample URI; "<not a sample URI> ..." otherwise, so comparisons fail visibly.
std::string fileOfUri(const std::string& uri);

/// One query of the table. `expect` (when set) computes the matching rows from the manifest;
/// queries on attributes the manifest does not hold have none and are only compared across
/// providers. `mayBeEmpty`: an empty expectation is intended (a no-match query).
struct ContractQuery {
    std::string text;
    std::optional<test::RowPredicate> expect;
    bool mayBeEmpty = false;
};

/// The table: at least 60 queries, built from the manifest (UIDs are picked from it).
const std::vector<ContractQuery>& queryTable();

/// The rows the whole corpus indexes into (core's reader accepts them), and their files.
const test::RowSet& indexedRows();

}  // namespace tessera::contract
