#pragma once
// Registration of the built-in REST API, one function per area. Each route states its access
// policy where it is added (route() has no default), so none can be forgotten.

#include <functional>
#include <string>

#include "tessera/sdk/http.hpp"
#include "tessera/sdk/web_service_provider.hpp"

namespace tessera::core {
class MoveDestinations;
}

namespace tessera::server {

class Router;
struct ServerContext;

/// Builds a route; the policy is a required argument on purpose.
sdk::WebRoute route(std::string method, std::string pathTemplate, sdk::AccessPolicy policy, std::string summary,
                    std::function<sdk::HttpResponse(const sdk::HttpRequest&)> handler);

void addAccountRoutes(Router& router, ServerContext& context);   // /login /logout /user
void addPluginRoutes(Router& router, ServerContext& context);    // /plugins /providers
void addInfoRoutes(Router& router, ServerContext& context);      // /ext/version /health /logger /routes
/// /management/tasks/{index,unindex,remove} and /index/task (all admin).
void addTaskRoutes(Router& router, ServerContext& context);
/// /management/settings/index and its children (all admin).
void addIndexSettingsRoutes(Router& router, ServerContext& context);
void addSearchRoutes(Router& router, ServerContext& context);   // /search /searchDIM /dump
/// /export/cvs, /export (GET, POST), /exportFile (POST, GET), /export/list
void addExportRoutes(Router& router, ServerContext& context);
/// /wado (URI lookup and WADO-URI), /dic2png, /legacy/wado
void addImageRoutes(Router& router, ServerContext& context);
/// DICOM service control and settings (all admin): /management/dicom/{storage,query},
/// /management/settings/dicom (aetitle), /management/settings/dicom/query,
/// /management/settings/transfer.
void addDicomRoutes(Router& router, ServerContext& context);
/// GET/POST /management/settings/storage/dicom: the C-MOVE destinations (admin).
void addMoveDestinationRoutes(Router& router, ServerContext& context, core::MoveDestinations& destinations);
/// Mounts every WebServiceProvider's routes under /ext/<provider name>. A route that clashes
/// with an existing one is logged and skipped.
void addWebServiceProviderRoutes(Router& router, ServerContext& context);

}  // namespace tessera::server
