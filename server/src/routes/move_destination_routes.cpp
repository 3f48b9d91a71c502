// The C-MOVE destinations ("remote servers"): GET/POST /management/settings/storage/dicom in
// Dicoogle 3's shapes (behaviour §1), with two fixes: `remove` works without `port` (what
// dicoogle-client's removeRemoteServer("AE") sends; with a port only that entry goes), and a
// missing `type` is a 400 instead of a 500. Each change is saved at once and used by the next
// C-MOVE.
#include <charconv>
#include <optional>
#include <string>

#include "json_output.hpp"
#include "request_values.hpp"
#include "tessera/core/dicom/move_destinations.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"

namespace tessera::server {
namespace {

using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

constexpr const char* kBadPort = "Illegal port parameter: must be a valid TCP port";
constexpr const char* kBadType = "Illegal type parameter: must be either \"add\" or \"remove\"";

std::optional<std::uint16_t> parsePort(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    int port = 0;
    const auto* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, port);
    if (ec != std::errc() || ptr != end || port < 1 || port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

HttpResponse listDestinations(const core::MoveDestinations& destinations) {
    auto list = newJsonArray();
    for (const auto& destination : destinations.list()) {
        auto item = newJsonObject();
        item->set("AETitle", destination.aeTitle);
        item->set("ipAddrs", destination.address);
        item->set("port", static_cast<int>(destination.port));
        item->set("description", destination.description);
        item->set("isPublic", destination.isPublic);
        item->set("public", destination.isPublic);
        list->add(item);
    }
    return jsonResponse(list);
}

HttpResponse changeDestinations(core::MoveDestinations& destinations, const HttpRequest& request) {
    const auto type = request.param("type");
    if (!type || (*type != "add" && *type != "remove")) return jsonError(400, kBadType);
    const auto portText = request.param("port");
    const auto port = parsePort(portText);
    if (portText && !port) return jsonError(400, kBadPort);
    const std::string aeTitle = request.param("aetitle").value_or("");
    auto result = newJsonObject();
    if (*type == "add") {
        if (!port) return jsonError(400, kBadPort);
        core::MoveDestination destination{aeTitle, request.param("ip").value_or(""), *port,
                                          parseBooleanParam(request.param("public"), true),
                                          request.param("description").value_or("")};
        try {
            destinations.add(destination);
        } catch (const sdk::Error& e) {
            if (e.code() != sdk::ErrorCode::InvalidArgument) throw;
            return jsonError(400, e.what());
        }
        result->set("added", true);
    } else {
        // Dicoogle removes every entry with the AE title; the address the client also sends is
        // not a condition there either.
        result->set("removed", destinations.remove(aeTitle, port) > 0);
    }
    return jsonResponse(result);
}

}  // namespace

void addMoveDestinationRoutes(Router& router, ServerContext& /*context*/, core::MoveDestinations& destinations) {
    auto* d = &destinations;
    router.add(route("GET", "/management/settings/storage/dicom", AccessPolicy::Admin,
                     "C-MOVE destinations: [{AETitle, ipAddrs, port, description, isPublic, public}]",
                     [d](const HttpRequest&) { return listDestinations(*d); }));
    router.add(route("POST", "/management/settings/storage/dicom", AccessPolicy::Admin,
                     "Add (type=add&aetitle&ip&port[&public][&description]) or remove (type=remove&aetitle[&port]) "
                     "a C-MOVE destination",
                     [d](const HttpRequest& r) { return changeDestinations(*d, r); }));
}

}  // namespace tessera::server
