#include "tessera/core/provider_switches.hpp"

#include <algorithm>
#include <mutex>

#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

std::string lowerAscii(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::mutex& switchMutex() {
    static std::mutex mutex;
    return mutex;
}

// The loaded provider of `kind` called `name` (case-insensitive), with its registered name.
const ProviderEntry* findEntry(const std::vector<ProviderEntry>& entries, std::string_view name) {
    const auto wanted = lowerAscii(name);
    for (const auto& entry : entries)
        if (lowerAscii(entry.name) == wanted) return &entry;
    return nullptr;
}

std::string formatList(const std::vector<ProviderRef>& refs) {
    std::string text;
    for (const auto& ref : refs) {
        if (!text.empty()) text.push_back(',');
        text += std::string(toString(ref.kind)) + ":" + ref.name;
    }
    return text;
}

bool sameRef(const ProviderRef& a, ProviderKind kind, const std::string& name) {
    return a.kind == kind && lowerAscii(a.name) == lowerAscii(name);
}

// What to save: every loaded provider that is disabled now, then the saved entries about
// providers that are not loaded (kept for when they come back).
std::vector<ProviderRef> currentState(const ProviderRegistry& registry, const std::vector<ProviderRef>& saved) {
    std::vector<ProviderRef> state;
    const auto entries = registry.list();
    for (const auto& entry : entries)
        if (!entry.provider->isEnabled()) state.push_back({entry.kind, entry.name});
    for (const auto& ref : saved) {
        const bool loaded = std::any_of(entries.begin(), entries.end(),
                                        [&](const ProviderEntry& e) { return sameRef(ref, e.kind, e.name); });
        const bool listed = std::any_of(state.begin(), state.end(),
                                        [&](const ProviderRef& s) { return sameRef(s, ref.kind, ref.name); });
        if (!loaded && !listed) state.push_back(ref);
    }
    return state;
}

bool callSwitch(sdk::Provider& provider, bool enable) {
    try {
        return enable ? provider.enable() : provider.disable();
    } catch (...) {
        return false;  // a throwing provider refuses; nothing escapes into the caller's handler
    }
}

}  // namespace

bool parseProviderKind(std::string_view text, ProviderKind& kind) {
    const auto lowered = lowerAscii(text);
    for (auto candidate : {ProviderKind::Index, ProviderKind::Query, ProviderKind::Storage, ProviderKind::WebService}) {
        if (lowered == toString(candidate)) {
            kind = candidate;
            return true;
        }
    }
    return false;
}

std::vector<ProviderRef> savedDisabledProviders(const ServerSettings& settings) {
    std::vector<ProviderRef> refs;
    const std::string text = settings.get(kDisabledProvidersKey).value_or("");
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(start, end - start);
        item.erase(0, item.find_first_not_of(" \t\r\n"));
        item.erase(item.find_last_not_of(" \t\r\n") + 1);
        const auto colon = item.find(':');
        ProviderKind kind;
        if (colon != std::string::npos && colon + 1 < item.size() && parseProviderKind(item.substr(0, colon), kind))
            refs.push_back({kind, item.substr(colon + 1)});
        start = end + 1;
    }
    return refs;
}

std::size_t applySavedProviderStates(ProviderRegistry& registry, const ServerSettings& settings,
                                     const std::function<void(sdk::LogLevel, const std::string&)>& log) {
    std::size_t disabled = 0;
    for (const auto& ref : savedDisabledProviders(settings)) {
        const auto entries = registry.list(ref.kind);
        const auto* entry = findEntry(entries, ref.name);
        const std::string label = std::string(toString(ref.kind)) + " provider " + ref.name;
        if (!entry) {
            if (log) log(sdk::LogLevel::Warning, "The configuration disables the " + label + ", which is not loaded");
            continue;
        }
        if (!entry->provider->isEnabled()) continue;  // the same object under another kind
        if (callSwitch(*entry->provider, false)) {
            ++disabled;
            if (log) log(sdk::LogLevel::Information, "Disabled the " + label + " as the configuration says");
        } else if (log) {
            log(sdk::LogLevel::Warning, "The " + label + " refused to be disabled as the configuration says");
        }
    }
    return disabled;
}

ProviderSwitchOutcome switchProvider(ProviderRegistry& registry, ServerSettings& settings, ProviderKind kind,
                                     std::string_view name, bool enable) {
    std::lock_guard lock(switchMutex());
    const auto entries = registry.list(kind);
    const auto* entry = findEntry(entries, name);
    if (!entry) return ProviderSwitchOutcome::NotFound;
    sdk::Provider& provider = *entry->provider;
    const bool before = provider.isEnabled();
    if (!callSwitch(provider, enable)) return ProviderSwitchOutcome::Refused;

    const auto saved = savedDisabledProviders(settings);
    const auto text = formatList(currentState(registry, saved));
    if (settings.get(kDisabledProvidersKey).value_or("") != text) {
        try {
            settings.set(kDisabledProvidersKey, text);
        } catch (...) {
            if (before != enable) callSwitch(provider, before);
            throw;
        }
    }
    return ProviderSwitchOutcome::Done;
}

}  // namespace tessera::core
