#pragma once
// Turning providers on and off, and remembering it across restarts (Dicoogle forgets: its
// POST /plugins/{type}/{name}/{enable|disable} is not persisted).
//
// The state lives in the configuration file under one key, `plugins.disabled-providers`: a
// comma-separated list of `<kind>:<name>` (kind as toString(ProviderKind): index, query, storage,
// servlet). One element with a list in its text, rather than repeated elements, because the
// settings file has no "remove element" operation and re-enabling must shrink the list.
//
// What is saved is the state the registry really has after a switch, not the request: one object
// may be several providers (xapian is both the index and the query provider `xapian`, and the
// SDK gives a provider one enabled flag), so disabling `query:xapian` disables `index:xapian`
// too, and both are saved. Entries naming providers that are not loaded now (a plugin removed
// for a while) are kept, so they apply again when it comes back.
//
// Thread-safety: every function may be called from any thread; switches are serialised among
// themselves (one process-wide mutex), so two concurrent requests cannot lose each other's entry.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/core/provider_registry.hpp"
#include "tessera/sdk/host_services.hpp"

namespace tessera::core {

class ServerSettings;

/// The configuration key that holds the disabled providers.
inline constexpr const char* kDisabledProvidersKey = "plugins.disabled-providers";

struct ProviderRef {
    ProviderKind kind;
    std::string name;
    friend bool operator==(const ProviderRef&, const ProviderRef&) = default;
};

/// "index" | "query" | "storage" | "servlet" (ASCII case-insensitive) → kind; false otherwise.
bool parseProviderKind(std::string_view text, ProviderKind& kind);

/// The saved list, in saved order; malformed items (no `:`, unknown kind, empty name) are left out.
std::vector<ProviderRef> savedDisabledProviders(const ServerSettings& settings);

/// Disables every loaded provider the saved list names; called once after the plugins are loaded.
/// A saved name that is not loaded, or a provider that refuses, becomes one warning through `log`.
/// Returns how many providers were disabled.
std::size_t applySavedProviderStates(ProviderRegistry& registry, const ServerSettings& settings,
                                     const std::function<void(sdk::LogLevel, const std::string&)>& log);

enum class ProviderSwitchOutcome {
    Done,      // the provider is now in the wanted state, and that is saved
    NotFound,  // no provider of that kind and name is loaded
    Refused,   // the provider's enable()/disable() returned false (or threw); nothing saved
};

/// Enables or disables the provider `kind`/`name` (case-insensitive) and saves the resulting
/// state of every loaded provider. Throws sdk::Error(Unavailable) when the configuration cannot
/// be saved (the provider is then switched back).
ProviderSwitchOutcome switchProvider(ProviderRegistry& registry, ServerSettings& settings, ProviderKind kind,
                                     std::string_view name, bool enable);

}  // namespace tessera::core
