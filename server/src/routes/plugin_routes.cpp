// Plugins and providers: GET /plugins[/{type}], GET /providers and
// POST /plugins/{type}/{name}/{enable|disable}, in Dicoogle's shapes.
#include <algorithm>

#include "json_output.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/provider_switches.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

using core::ProviderKind;
using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
}

// A repeated element of the configuration as a list ("archive.dim-providers.dim-provider").
std::vector<std::string> configList(const core::ServerSettings& settings, const std::string& key) {
    std::vector<std::string> values;
    for (int i = 0;; ++i) {
        auto value = settings.get(key + "[" + std::to_string(i) + "]");
        if (!value) break;
        if (!value->empty()) values.push_back(*value);
    }
    return values;
}

// Dicoogle: a provider is "dim"/"default" when the list is empty or names it.
bool listedOrListEmpty(const std::vector<std::string>& list, const std::string& name) {
    if (list.empty()) return true;
    return std::any_of(list.begin(), list.end(), [&](const std::string& entry) { return lower(entry) == lower(name); });
}

Poco::JSON::Array::Ptr pluginEntries(ServerContext& context, std::optional<ProviderKind> only) {
    const auto dimProviders = context.settings.dimProviders();
    const auto defaultStorages = configList(context.settings, "archive.default-storages.default-storage");
    auto entries = context.plugins.registry().list();
    std::stable_sort(entries.begin(), entries.end(), [](const core::ProviderEntry& a, const core::ProviderEntry& b) {
        const bool aEnabled = a.provider->isEnabled(), bEnabled = b.provider->isEnabled();
        if (aEnabled != bEnabled) return !aEnabled;  // disabled first, as Dicoogle lists them
        return a.name < b.name;
    });
    auto array = newJsonArray();
    for (const auto& entry : entries) {
        if (only && entry.kind != *only) continue;
        auto item = newJsonObject();
        item->set("name", entry.name);
        item->set("type", std::string(core::toString(entry.kind)));
        item->set("enabled", entry.provider->isEnabled());
        if (entry.kind == ProviderKind::Index || entry.kind == ProviderKind::Query)
            item->set("dim", listedOrListEmpty(dimProviders, entry.name));
        if (entry.kind == ProviderKind::Storage) {
            auto* storage = dynamic_cast<sdk::StorageProvider*>(entry.provider);
            item->set("scheme", storage ? storage->scheme() : std::string());
            item->set("default", listedOrListEmpty(defaultStorages, entry.name));
        }
        array->add(item);
    }
    return array;
}

Poco::JSON::Array::Ptr setNames(ServerContext& context) {
    auto array = newJsonArray();
    for (const auto& set : context.plugins.sets()) array->add(set.name);
    return array;
}

Poco::JSON::Array::Ptr deadEntries(ServerContext& context) {
    auto array = newJsonArray();
    for (const auto& dead : context.plugins.dead()) {
        auto cause = newJsonObject();
        cause->set("class", dead.causeClass);
        cause->set("message", dead.message);
        auto item = newJsonObject();
        item->set("name", dead.name);
        item->set("cause", cause);
        array->add(item);
    }
    return array;
}

HttpResponse listPlugins(ServerContext& context, const HttpRequest&) {
    auto body = newJsonObject();
    body->set("plugins", pluginEntries(context, std::nullopt));
    body->set("sets", setNames(context));
    body->set("dead", deadEntries(context));
    return jsonResponse(body);
}

HttpResponse listPluginsOfType(ServerContext& context, const HttpRequest& request) {
    const std::string type = lower(request.pathParams.at("type"));
    auto body = newJsonObject();
    if (type == "set") {
        body->set("sets", setNames(context));
    } else if (type == "dead") {
        body->set("dead", deadEntries(context));
    } else {
        static const std::pair<const char*, ProviderKind> kKinds[] = {{"query", ProviderKind::Query},
                                                                      {"index", ProviderKind::Index},
                                                                      {"storage", ProviderKind::Storage},
                                                                      {"servlet", ProviderKind::WebService}};
        const auto* kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& k) { return type == k.first; });
        if (kind == std::end(kKinds))
            return jsonError(400, "Invalid plugin type: must be one of query, index, storage, servlet, set, dead");
        body->set("plugins", pluginEntries(context, kind->second));
    }
    return jsonResponse(body);
}

HttpResponse listProviders(ServerContext& context, const HttpRequest& request) {
    const std::string type = lower(request.param("type").value_or("query"));
    ProviderKind kind;
    if (type == "query") kind = ProviderKind::Query;
    else if (type == "index") kind = ProviderKind::Index;
    else if (type == "storage") kind = ProviderKind::Storage;
    else return jsonError(400, "Invalid provider type: must be query, index or storage");
    auto names = newJsonArray();
    for (const auto& entry : context.plugins.registry().list(kind))
        if (entry.provider->isEnabled()) names->add(entry.name);
    return jsonResponse(names);
}

// Dicoogle's answers (behaviour §1): empty 200, 400 JSON for a bad type, name or action, 500
// JSON when the provider refuses. Unlike Dicoogle the new state is saved in server.xml.
HttpResponse switchPlugin(ServerContext& context, const HttpRequest& request) {
    const auto& type = request.pathParams.at("type");
    const auto& name = request.pathParams.at("name");
    const std::string action = lower(request.pathParams.at("action"));
    ProviderKind kind;
    if (!core::parseProviderKind(type, kind))
        return jsonError(400, "Invalid plugin type: must be one of query, index, storage, servlet");
    if (action != "enable" && action != "disable")
        return jsonError(400, "Invalid action: must be enable or disable");
    const bool enable = action == "enable";
    switch (core::switchProvider(context.plugins.registry(), context.settings, kind, name, enable)) {
        case core::ProviderSwitchOutcome::NotFound:
            return jsonError(400, "No " + std::string(core::toString(kind)) + " plugin named " + name);
        case core::ProviderSwitchOutcome::Refused:
            return jsonError(500, enable ? "Could not enable plugin" : "Could not disable plugin");
        case core::ProviderSwitchOutcome::Done: break;
    }
    // An empty body with no Content-Type: dicoogle-client would fail to parse an empty JSON body.
    HttpResponse response;
    response.contentType.clear();
    return response;
}

}  // namespace

void addPluginRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("GET", "/plugins", AccessPolicy::Admin, "Loaded providers, plugin sets and dead plugins",
                     [ctx](const HttpRequest& r) { return listPlugins(*ctx, r); }));
    router.add(route("GET", "/plugins/{type}", AccessPolicy::Admin,
                     "Providers of one type (query|index|storage|servlet), or the sets or dead plugins",
                     [ctx](const HttpRequest& r) { return listPluginsOfType(*ctx, r); }));
    router.add(route("POST", "/plugins/{type}/{name}/{action}", AccessPolicy::Admin,
                     "Enable or disable a provider (type query|index|storage|servlet, action enable|disable); "
                     "saved in server.xml",
                     [ctx](const HttpRequest& r) { return switchPlugin(*ctx, r); }));
    router.add(route("GET", "/providers", AccessPolicy::User, "Names of the enabled providers of ?type=query|index|storage",
                     [ctx](const HttpRequest& r) { return listProviders(*ctx, r); }));
}

}  // namespace tessera::server
