#pragma once
// Loads plugin sets from shared libraries and registers their providers.
//
// A library is checked before any of its code runs: the plain C record exported by
// TESSERA_PLUGIN (ABI integer, standard library tag) must match this host, and only then is the
// factory called. Every way a plugin can be bad — missing, not a shared library, not a plugin,
// built for another ABI, a throwing factory or configure(), a provider name already taken —
// becomes exactly one Error log line and one entry in dead(); the host and the other sets go on.
//
// Life cycle of a set: factory(host services) → configure(settings) → providers registered →
// ... → shutdown() (reverse load order) → providers unregistered → set destroyed → library
// unloaded. The library stays loaded while anything from it (the set, its HostServices-facing
// objects) exists.
//
// Ownership: the host owns the sets, their HostServices and the libraries. Whoever keeps things
// that came from a plugin (route handlers from WebServiceProvider::routes(), provider pointers)
// must drop them before shutdown().
// Thread-safety: loading, addSet() and shutdown() are meant for one thread (start-up, stop);
// sets(), dead() and registry() lookups may be called from any thread at any time.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/provider_registry.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/host_services.hpp"
#include "tessera/sdk/plugin_set.hpp"
#include "tessera/sdk/settings_section.hpp"

namespace tessera::core {

struct PluginSetInfo {
    std::string name;
    std::string version;
    std::string file;  // the library it came from; empty for sets added with addSet()
};

struct DeadPlugin {
    std::string name;        // plugin name from the record if readable, else the file name
    std::string causeClass;  // short class of failure: "LoadError", "NotAPlugin", "AbiMismatch",
                             // "InvalidName", "FactoryError", "NameMismatch", "DuplicateSet",
                             // "ConfigureError", "DuplicateProvider", "ProviderError",
                             // "DataDirError", "SettingsError"
    std::string message;     // one clear human sentence
    std::string file;        // the library; empty for sets added with addSet()
};

struct PluginHostOptions {
    std::filesystem::path dataRoot;  // each set gets dataRoot/<setName>/ (created)
    // The set's settings section (owned by the caller, outlives the host). When empty, each set
    // gets an in-memory section that lives as long as the host.
    std::function<sdk::SettingsSection&(const std::string& setName)> settingsFor;
    // Writes one log line (the host prefixes nothing; the caller's logger adds time/level).
    std::function<void(sdk::LogLevel, const std::string&)> log;
    // Parses DICOM bytes for HostServices::parseDicom; may be empty → parseDicom throws
    // Error(Unavailable).
    std::function<std::unique_ptr<sdk::DicomObjectView>(std::span<const std::uint8_t>)> parseDicom;
};

class PluginHost {
public:
    // Creates a set from the services the host made for it (the shape of TESSERA_PLUGIN's
    // factory, usable for statically linked sets).
    using SetFactory = std::function<std::unique_ptr<sdk::PluginSet>(sdk::HostServices&)>;

    explicit PluginHost(PluginHostOptions options);
    ~PluginHost();  // calls shutdown()
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Loads every regular file ending in ".so" directly in dir, sorted by file name. A missing
    // directory is logged (warning) and skipped. Never throws for a bad library.
    void loadDirectory(const std::filesystem::path& dir);
    void loadLibrary(const std::filesystem::path& file);  // same rules for one file

    // For sets linked statically (unit tests, built-ins): register like a loaded one. The set
    // was built without this host's services; prefer the factory overload when it needs them.
    // Throws Error(InvalidArgument) for a null set; every other failure is a dead entry.
    void addSet(std::unique_ptr<sdk::PluginSet> set, std::string version = {});
    // The same path a library takes after its record was checked: the set gets HostServices for
    // `setName` (settings, data dir), must report that name, is configured and registered.
    void addSet(std::string setName, SetFactory factory, std::string version = {});

    const ProviderRegistry& registry() const;
    ProviderRegistry& registry();
    std::vector<PluginSetInfo> sets() const;  // load order
    std::vector<DeadPlugin> dead() const;     // failure order

    // Calls shutdown() on each set in reverse load order, then destroys sets, then unloads
    // libraries. Idempotent. Exceptions from a set's shutdown are logged, not thrown.
    void shutdown();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::core
