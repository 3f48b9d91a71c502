#pragma once
// The providers of every loaded plugin set, by kind and name.
//
// Names are unique per kind and compared case-insensitively (ASCII), because they appear in URLs
// (`/ext/<name>`, `?provider=<name>`) where clients do not agree on case.
//
// Ownership: the registry never owns a provider; the PluginHost removes a set's entries before
// it destroys the set.
// Thread-safety: every method may be called from any thread; lookups run concurrently with each
// other and are serialised only against add()/removeSet(). Provider code (name(), isEnabled(),
// handles()) is never called while the registry's lock is held, so a provider may itself look
// things up in the registry.

#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/index_provider.hpp"
#include "tessera/sdk/provider.hpp"
#include "tessera/sdk/query_provider.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/uri.hpp"
#include "tessera/sdk/web_service_provider.hpp"

namespace tessera::core {

enum class ProviderKind { Index, Query, Storage, WebService };

/// "index", "query", "storage", "servlet" (the last is Dicoogle's word for web services).
std::string_view toString(ProviderKind kind);

struct ProviderEntry {
    std::string name;         // provider name
    ProviderKind kind;
    std::string setName;      // owning plugin set
    sdk::Provider* provider;  // non-owning; the concrete kind is reachable via the typed getters
};

class ProviderRegistry {
public:
    ProviderRegistry() = default;
    ProviderRegistry(const ProviderRegistry&) = delete;
    ProviderRegistry& operator=(const ProviderRegistry&) = delete;

    // Throws sdk::Error(Conflict) when a provider of the same kind has the same name
    // (case-insensitive), Error(InvalidArgument) for a null provider, a name outside
    // `[A-Za-z0-9_.-]`, or a provider that is not of `kind`.
    void add(ProviderKind kind, std::string setName, sdk::Provider* provider);
    // Typed overloads: the same rules, without a dynamic_cast across the plugin boundary.
    void add(std::string setName, sdk::IndexProvider* provider);
    void add(std::string setName, sdk::QueryProvider* provider);
    void add(std::string setName, sdk::StorageProvider* provider);
    void add(std::string setName, sdk::WebServiceProvider* provider);

    void removeSet(const std::string& setName);

    // Case-insensitive; nullptr if none. Disabled providers are returned too.
    sdk::IndexProvider* index(std::string_view name) const;
    sdk::QueryProvider* query(std::string_view name) const;
    sdk::StorageProvider* storage(std::string_view name) const;
    sdk::WebServiceProvider* webService(std::string_view name) const;
    // First ENABLED storage, in registration order, whose handles(uri) is true; nullptr if none.
    sdk::StorageProvider* storageForUri(const sdk::Uri& uri) const;
    // First ENABLED storage whose scheme() equals `scheme` (case-insensitive); nullptr if none.
    sdk::StorageProvider* storageForScheme(std::string_view scheme) const;

    std::vector<ProviderEntry> list(ProviderKind kind) const;  // registration order
    std::vector<ProviderEntry> list() const;                   // all kinds, registration order

private:
    struct Record {
        ProviderEntry entry;
        std::string key;  // lower-cased name
        sdk::IndexProvider* index = nullptr;
        sdk::QueryProvider* query = nullptr;
        sdk::StorageProvider* storage = nullptr;
        sdk::WebServiceProvider* webService = nullptr;
    };

    void insert(Record record);
    const Record* find(ProviderKind kind, std::string_view name) const;  // caller holds the lock
    std::vector<sdk::StorageProvider*> storages() const;

    mutable std::shared_mutex mutex_;
    std::vector<Record> records_;
};

}  // namespace tessera::core
