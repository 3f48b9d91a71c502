// DICOM service control and settings (behaviour §1 "Transfer settings", "DICOM service control
// and settings"), in Dicoogle 3's shapes, with its bugs fixed (§12): every change is saved in
// server.xml AND applied at once — a port or hostname change restarts a running service, an AE
// title change restarts the running services, a Q/R settings change restarts the Q/R service,
// and a transfer-syntax change reaches the next association without any restart.
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "dicom/dicom_services.hpp"
#include "json_output.hpp"
#include "request_values.hpp"
#include "tessera/core/dicom/transfer_settings.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

constexpr const char* kQueryUnavailable = "query/retrieve service not available";

std::string elementOf(const std::string& service) {
    return service == "storage" ? "storage" : "query-retrieve";
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::optional<long long> parseInteger(const std::string& text) {
    long long value = 0;
    const std::string trimmed = trim(text);
    const auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
    if (ec != std::errc{} || end != trimmed.data() + trimmed.size() || trimmed.empty()) return std::nullopt;
    return value;
}

HttpResponse emptyOk() {
    // No body and no Content-Type: dicoogle-client would fail to parse an empty JSON body.
    HttpResponse response;
    response.contentType.clear();
    return response;
}

HttpResponse failure(int status, const std::string& message) {
    auto body = newJsonObject();
    body->set("success", false);
    body->set("error", message);
    return jsonResponse(body, status);
}

// Stops and starts a running service so that it reads its settings again.
void restartIfRunning(DicomService* service) {
    if (!service || !service->running()) return;
    service->stop();
    service->start();
}

HttpResponse serviceStatus(ServerContext& context, const std::string& name) {
    DicomService* service = context.dicom.byName(name);
    if (!service) return jsonError(503, kQueryUnavailable);
    const std::string element = "dicom-services." + elementOf(name);
    const auto configured = static_cast<std::uint16_t>(context.settings.getInt(element + "[@port]", 0));
    const bool running = service->running();
    auto body = newJsonObject();
    body->set("isRunning", running);
    // The bound port while running (port 0 resolved), else the one the next start would bind.
    body->set("port", static_cast<int>(running ? service->port() : context.dicom.portFor(name, configured)));
    body->set("autostart", context.settings.getBool(element + "[@autostart]", true));
    const auto hostname = context.settings.getString(element + "[@hostname]", "");
    if (!hostname.empty()) body->set("hostname", hostname);
    return jsonResponse(body);
}

HttpResponse controlService(ServerContext& context, const std::string& name, const HttpRequest& request) {
    DicomService* service = context.dicom.byName(name);
    if (!service) return jsonError(503, kQueryUnavailable);
    const std::string element = "dicom-services." + elementOf(name);

    std::optional<std::uint16_t> port;
    if (auto text = request.param("port")) {
        const auto number = parseInteger(*text);
        if (!number || *number < 1 || *number > 65535)
            return failure(400, "Bad service port: must be a valid port number");
        port = static_cast<std::uint16_t>(*number);
    }
    const auto autostart = request.param("autostart");
    const auto hostname = request.param("hostname");
    const auto running = request.param("running");

    auto body = newJsonObject();
    std::vector<std::string> removals;
    std::vector<std::pair<std::string, std::string>> values;
    bool addressChanged = false;
    if (autostart) {
        const bool value = parseBooleanParam(autostart);
        values.emplace_back(element + "[@autostart]", value ? "true" : "false");
        body->set("autostart", value);
    }
    if (port) {
        values.emplace_back(element + "[@port]", std::to_string(*port));
        body->set("port", static_cast<int>(*port));
        addressChanged = true;
    }
    if (hostname) {
        const std::string value = trim(*hostname);
        if (value.empty())
            removals.push_back(element + "[@hostname]");
        else
            values.emplace_back(element + "[@hostname]", value);
        body->set("hostname", value);
        addressChanged = true;
    }
    try {
        if (!removals.empty() || !values.empty()) context.settings.update(removals, values);
        if (port) context.dicom.setPortOverride(name, std::nullopt);  // the operator chose a port

        std::optional<bool> wantRunning;
        if (running) wantRunning = parseBooleanParam(running);
        HttpResponse response;
        if (wantRunning && !*wantRunning) {
            service->stop();
        } else if (wantRunning && service->running() && !addressChanged) {
            body->set("warning", std::string("Service was already running"));
            response.headers.emplace_back("Warning", "299 tessera \"Service was already running\"");
        } else if (wantRunning || (addressChanged && service->running())) {
            restartIfRunning(service);
            service->start();
        }
        if (running) body->set("running", service->running());
        body->set("success", true);
        response.body = stringifyJson(body);
        return response;
    } catch (const sdk::Error& e) {
        // A port that cannot be bound, a value ServerSettings refuses.
        return failure(e.code() == sdk::ErrorCode::InvalidArgument ? 400 : 500, e.what());
    }
}

HttpResponse getAeTitle(ServerContext& context, const HttpRequest&) {
    auto body = newJsonObject();
    body->set("aetitle", context.settings.aeTitle());
    return jsonResponse(body);
}

HttpResponse putAeTitle(ServerContext& context, const HttpRequest& request) {
    const auto title = request.param("aetitle");
    // Dicoogle answers 402 (sic) for a missing or empty title; clients know that status.
    if (!title || trim(*title).empty()) return jsonError(402, "Missing parameter: aetitle");
    context.settings.set("dicom-services.aetitle", trim(*title));  // InvalidArgument → 400
    restartIfRunning(context.dicom.storage());
    restartIfRunning(context.dicom.query());
    auto body = newJsonObject();
    body->set("success", true);
    return jsonResponse(body);
}

struct QuerySetting {
    const char* parameter;
    const char* key;
    long long fallback;
};

// responseTimeout is rsp-delay in Dicoogle (behaviour §1), kept for client compatibility.
const QuerySetting kQuerySettings[] = {
    {"responseTimeout", "dicom-services.query-retrieve.rsp-delay", 0},
    {"connectionTimeout", "dicom-services.query-retrieve.connection-timeout", 60},
    {"idleTimeout", "dicom-services.query-retrieve.idle-timeout", 60},
    {"acceptTimeout", "dicom-services.query-retrieve.accept-timeout", 60},
    {"maxPduSend", "dicom-services.query-retrieve.max-pdu-length-send", 16364},
    {"maxPduReceive", "dicom-services.query-retrieve.max-pdu-length-receive", 16364},
    {"maxAssociations", "dicom-services.query-retrieve.max-client-assocs", 20},
};

HttpResponse getQuerySettings(ServerContext& context, const HttpRequest&) {
    auto body = newJsonObject();
    for (const auto& setting : kQuerySettings)
        body->set(setting.parameter, static_cast<Poco::Int64>(context.settings.getInt(setting.key, setting.fallback)));
    return jsonResponse(body);
}

HttpResponse postQuerySettings(ServerContext& context, const HttpRequest& request) {
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& setting : kQuerySettings) {
        const auto text = request.param(setting.parameter);
        if (!text || trim(*text).empty()) continue;  // only the keys given change
        const auto number = parseInteger(*text);
        if (!number) return jsonError(400, std::string("Bad value for ") + setting.parameter + ": not an integer");
        values.emplace_back(setting.key, std::to_string(*number));
    }
    if (values.empty()) return emptyOk();
    context.settings.setMany(values);  // out of range → InvalidArgument → 400, nothing saved
    restartIfRunning(context.dicom.query());
    return emptyOk();
}

HttpResponse getTransfer(ServerContext& context, const HttpRequest&) {
    auto list = newJsonArray();
    for (const auto& sopClass : context.transfer.list()) {
        auto entry = newJsonObject();
        entry->set("uid", sopClass.uid);
        entry->set("sop_name", sopClass.name);
        auto options = newJsonArray();
        for (const auto& option : sopClass.options) {
            auto item = newJsonObject();
            item->set("uid", option.uid);
            item->set("name", option.name);
            item->set("value", option.value);
            options->add(item);
        }
        entry->set("options", options);
        list->add(entry);
    }
    return jsonResponse(list);
}

HttpResponse setTransfer(ServerContext& context, const HttpRequest& request) {
    for (const char* field : {"uid", "option", "value"}) {
        if (!request.hasParam(field))
            return jsonError(400, std::string("No query ") + (std::string(field) == "uid" ? "UID" : field) +
                                      " Supplied: Please provide the field \"" + field + "\"");
    }
    // Dicoogle answers success for an unknown SOP class or option too; clients rely on it.
    context.transfer.set(*request.param("uid"), *request.param("option"), parseBooleanParam(request.param("value")));
    auto body = newJsonObject();
    body->set("success", true);
    return jsonResponse(body);
}

}  // namespace

void addDicomRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    for (const std::string name : {"storage", "query"}) {
        const std::string path = "/management/dicom/" + name;
        router.add(route("GET", path, AccessPolicy::Admin,
                         "Status of the " + name + " SCP: isRunning, port, autostart, hostname",
                         [ctx, name](const HttpRequest&) { return serviceStatus(*ctx, name); }));
        router.add(route("POST", path, AccessPolicy::Admin,
                         "Start/stop the " + name +
                             " SCP (`running`), set `port`, `autostart`, `hostname`; saved "
                             "and applied at once",
                         [ctx, name](const HttpRequest& r) { return controlService(*ctx, name, r); }));
    }
    router.add(route("GET", "/management/settings/dicom", AccessPolicy::Admin, "The AE title of the DICOM services",
                     [ctx](const HttpRequest& r) { return getAeTitle(*ctx, r); }));
    router.add(route("PUT", "/management/settings/dicom", AccessPolicy::Admin,
                     "Set the AE title (`aetitle`); saved, running services restart with it",
                     [ctx](const HttpRequest& r) { return putAeTitle(*ctx, r); }));
    router.add(route("GET", "/management/settings/dicom/query", AccessPolicy::Admin,
                     "Q/R SCP settings: timeouts, PDU sizes, max associations",
                     [ctx](const HttpRequest& r) { return getQuerySettings(*ctx, r); }));
    router.add(route("POST", "/management/settings/dicom/query", AccessPolicy::Admin,
                     "Change Q/R SCP settings (any of the GET keys); saved, a running Q/R SCP restarts",
                     [ctx](const HttpRequest& r) { return postQuerySettings(*ctx, r); }));
    router.add(route("GET", "/management/settings/transfer", AccessPolicy::Admin,
                     "Storage SOP classes with their accepted transfer syntaxes",
                     [ctx](const HttpRequest& r) { return getTransfer(*ctx, r); }));
    for (const char* method : {"POST", "PUT"}) {
        router.add(route(method, "/management/settings/transfer", AccessPolicy::Admin,
                         "Accept (`value=true`) or refuse transfer syntax `option` for SOP class `uid`; saved, "
                         "new associations see it",
                         [ctx](const HttpRequest& r) { return setTransfer(*ctx, r); }));
    }
}

}  // namespace tessera::server
