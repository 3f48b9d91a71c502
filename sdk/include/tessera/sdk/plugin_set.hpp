#pragma once
/// @file plugin_set.hpp
/// A PluginSet is what one shared library contributes: a named group of providers.
///
/// Life cycle, as the host runs it: factory(host) → configure(host.settings()) → the provider
/// lists are read once and registered → ... → shutdown() → destruction. A factory or configure()
/// that throws marks the set dead; the server goes on without it.
///
/// Ownership: the set owns its providers; the pointers in the lists stay valid until the set is
/// destroyed.
/// Thread-safety: the host calls the life-cycle methods from one thread; providers follow their
/// own headers.
/// @since 1.0

#include <string>
#include <vector>

#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/sdk/settings_section.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/web_service_provider.hpp"

namespace tessera::sdk {

/// @since 1.0
class PluginSet {
public:
    virtual ~PluginSet() = default;

    /// The set's name, unique among loaded sets, `[A-Za-z0-9_.-]`.
    virtual std::string name() const = 0;

    /// Reads (and may write defaults to) the set's settings. Called once, before registration.
    virtual void configure(SettingsSection& /*settings*/) {}

    virtual std::vector<IndexProvider*> indexProviders() { return {}; }
    virtual std::vector<QueryProvider*> queryProviders() { return {}; }
    virtual std::vector<StorageProvider*> storageProviders() { return {}; }
    virtual std::vector<WebServiceProvider*> webServiceProviders() { return {}; }

    /// Flush and release resources. Called once, in reverse load order, before destruction.
    virtual void shutdown() {}
};

}  // namespace tessera::sdk
