#include "tessera/server/routes.hpp"

namespace tessera::server {

sdk::WebRoute route(std::string method, std::string pathTemplate, sdk::AccessPolicy policy, std::string summary,
                    std::function<sdk::HttpResponse(const sdk::HttpRequest&)> handler) {
    sdk::WebRoute r;
    r.method = std::move(method);
    r.path = std::move(pathTemplate);
    r.policy = policy;
    r.summary = std::move(summary);
    r.handler = std::move(handler);
    return r;
}

}  // namespace tessera::server
