// Small informational endpoints: version, health, recent log.
#include <chrono>

#include "json_output.hpp"
#include "tessera/core/logging.hpp"
#include "tessera/core/version.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {

void addInfoRoutes(Router& router, ServerContext& context) {
    using sdk::AccessPolicy;
    using sdk::HttpRequest;
    using sdk::HttpResponse;
    auto* ctx = &context;
    router.add(route("GET", "/ext/version", AccessPolicy::Public, "Server version (Dicoogle API level, then Tessera's)",
                     [](const HttpRequest&) {
                         auto body = newJsonObject();
                         body->set("version", std::string(core::dicoogleApiVersion()));
                         return jsonResponse(body);
                     }));
    // For load balancers and scripts: no patient data, no configuration details.
    router.add(route("GET", "/health", AccessPolicy::Public, "Liveness: status, version and uptime",
                     [ctx](const HttpRequest&) {
                         const auto uptime = std::chrono::steady_clock::now() - ctx->startedAt;
                         auto body = newJsonObject();
                         body->set("status", std::string("ok"));
                         body->set("version", std::string(core::tesseraVersion()));
                         body->set("uptimeSeconds",
                                   static_cast<Poco::Int64>(std::chrono::duration_cast<std::chrono::seconds>(uptime).count()));
                         return jsonResponse(body);
                     }));
    router.add(route("GET", "/logger", AccessPolicy::Admin, "Recent server log lines (text/plain)",
                     [ctx](const HttpRequest&) { return HttpResponse::text(ctx->recentLog.text()); }));
    // The route table itself, so that operators, docs and the access-policy test read the truth.
    auto* table = &router;
    router.add(route("GET", "/routes", AccessPolicy::Admin, "Every route with its method, policy and summary",
                     [table](const HttpRequest&) {
                         auto routes = newJsonArray();
                         for (const auto* r : table->routes()) {
                             auto entry = newJsonObject();
                             entry->set("method", r->method);
                             entry->set("path", r->path);
                             entry->set("policy", std::string(sdk::toString(r->policy)));
                             entry->set("summary", r->summary);
                             routes->add(entry);
                         }
                         auto body = newJsonObject();
                         body->set("routes", routes);
                         return jsonResponse(body);
                     }));
}

}  // namespace tessera::server
