// Mounts plugin WebServiceProvider routes under /ext/<provider name>.
#include <Poco/Logger.h>

#include "tessera/core/plugin_host.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/web_service_provider.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {

void addWebServiceProviderRoutes(Router& router, ServerContext& context) {
    auto& log = Poco::Logger::get("tessera.plugins");
    for (const auto& entry : context.plugins.registry().list(core::ProviderKind::WebService)) {
        auto* provider = context.plugins.registry().webService(entry.name);
        if (!provider) continue;
        std::vector<sdk::WebRoute> routes;
        try {
            routes = provider->routes();
        } catch (const std::exception& e) {
            log.error("Web service '%s' of plugin set '%s' failed to list its routes: %s", entry.name, entry.setName,
                      std::string(e.what()));
            continue;
        }
        const std::string mount = "/ext/" + entry.name;
        for (auto& webRoute : routes) {
            const std::string relative = webRoute.path;
            webRoute.path = relative == "/" || relative.empty() ? mount : mount + relative;
            // A disabled provider keeps its routes mounted but answers 503, so enabling it again
            // needs no re-mount.
            auto handler = std::move(webRoute.handler);
            webRoute.handler = [provider, handler = std::move(handler)](const sdk::HttpRequest& request) {
                if (!provider->isEnabled())
                    throw sdk::Error(sdk::ErrorCode::Unavailable, "Service " + provider->name() + " is disabled");
                return handler(request);
            };
            const std::string description = webRoute.method + " " + webRoute.path;
            try {
                router.add(std::move(webRoute));
                log.information("Mounted %s (%s)", description, entry.name);
            } catch (const sdk::Error& e) {
                log.error("Route %s of web service '%s' not mounted: %s", description, entry.name, std::string(e.what()));
            }
        }
    }
}

}  // namespace tessera::server
