// Accounts: /login, /logout, /user — Dicoogle 3's shapes, with the Dicoogle 2 forms the
// official 5.1.0 client still sends (PUT /user, DELETE /user?username=).
#include <Poco/Logger.h>

#include "json_output.hpp"
#include "request_values.hpp"
#include "tessera/server/http_server.hpp"
#include "tessera/core/session_store.hpp"
#include "tessera/core/user_store.hpp"
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

Poco::Logger& logger() { return Poco::Logger::get("tessera.accounts"); }

Poco::JSON::Array::Ptr rolesArray(const std::vector<std::string>& roles) {
    auto array = newJsonArray();
    for (const auto& role : roles) array->add(role);
    return array;
}

HttpResponse successResponse(bool success) {
    auto body = newJsonObject();
    body->set("success", success);
    return jsonResponse(body);
}

HttpResponse login(ServerContext& context, const HttpRequest& request) {
    const auto username = request.param("username");
    const auto password = request.param("password");
    if (!username || !password || username->empty()) return jsonError(401, "Login failed");
    const auto user = context.users.verify(*username, *password);
    if (!user) {
        logger().warning("Failed login for user '%s'", *username);
        return jsonError(401, "Login failed");
    }
    auto body = newJsonObject();
    body->set("user", user->username);
    body->set("admin", user->admin);
    body->set("roles", rolesArray(user->roles));
    body->set("token", context.sessions.create(*user));
    logger().information("User '%s' logged in", user->username);
    return jsonResponse(body);
}

// GET /login is public (it is how a client asks "who am I?"); the router has already resolved
// a valid token into request.user.
HttpResponse whoAmI(ServerContext& context, const HttpRequest& request) {
    if (request.user.empty()) return jsonError(401, "Not logged in");
    const auto user = context.users.find(request.user);
    if (!user) return jsonError(401, "Not logged in");
    auto body = newJsonObject();
    body->set("user", user->username);
    body->set("admin", user->admin);
    body->set("roles", rolesArray(user->roles));
    return jsonResponse(body);
}

// Unlike Dicoogle, a token-only client learns that its token was revoked (success: true).
HttpResponse logout(ServerContext& context, const HttpRequest& request) {
    const auto token = authorizationToken(request);
    const bool revoked = token && context.sessions.revoke(*token);
    if (revoked) logger().information("User '%s' logged out", request.user);
    return successResponse(revoked);
}

HttpResponse addUser(ServerContext& context, const HttpRequest& request) {
    const auto username = request.param("username");
    const auto password = request.param("password");
    if (!username || username->empty()) return jsonError(400, "Username not provided");
    if (!password || password->empty()) return jsonError(400, "Password not provided");
    const bool admin = parseBooleanParam(request.param("admin"));
    const bool added = context.users.add(*username, *password, admin);
    if (added) logger().information("User '%s' added by '%s' (admin: %s)", *username, request.user, std::string(admin ? "yes" : "no"));
    return successResponse(added);
}

HttpResponse listUsers(ServerContext& context, const HttpRequest&) {
    auto users = newJsonArray();
    for (const auto& user : context.users.list()) {
        auto entry = newJsonObject();
        entry->set("username", user.username);
        users->add(entry);
    }
    auto body = newJsonObject();
    body->set("users", users);
    return jsonResponse(body);
}

HttpResponse removeUser(ServerContext& context, const std::string& username, const std::string& by) {
    if (username.empty()) return jsonError(400, "Username not provided");
    const auto result = context.users.remove(username);
    if (result == core::RemoveUserResult::Removed) {
        context.sessions.revokeUser(username);
        logger().information("User '%s' removed by '%s'", username, by);
    } else if (result == core::RemoveUserResult::LastAdmin) {
        logger().warning("Refused to remove '%s': the last administrator", username);
    }
    return successResponse(result == core::RemoveUserResult::Removed);
}

}  // namespace

void addAccountRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("POST", "/login", AccessPolicy::Public, "Log in with username and password; returns a token",
                     [ctx](const HttpRequest& r) { return login(*ctx, r); }));
    router.add(route("GET", "/login", AccessPolicy::Public, "The logged-in user of the Authorization token",
                     [ctx](const HttpRequest& r) { return whoAmI(*ctx, r); }));
    for (const char* method : {"POST", "GET"})
        router.add(route(method, "/logout", AccessPolicy::Public, "Revoke the Authorization token",
                         [ctx](const HttpRequest& r) { return logout(*ctx, r); }));
    for (const char* method : {"POST", "PUT"})
        router.add(route(method, "/user", AccessPolicy::Admin, "Create a user (username, password, admin)",
                         [ctx](const HttpRequest& r) { return addUser(*ctx, r); }));
    router.add(route("GET", "/user", AccessPolicy::Admin, "List users",
                     [ctx](const HttpRequest& r) { return listUsers(*ctx, r); }));
    router.add(route("DELETE", "/user/{username}", AccessPolicy::Admin, "Delete a user (never the last admin)",
                     [ctx](const HttpRequest& r) { return removeUser(*ctx, r.pathParams.at("username"), r.user); }));
    router.add(route("DELETE", "/user", AccessPolicy::Admin, "Delete the user named by ?username= (Dicoogle 2 form)",
                     [ctx](const HttpRequest& r) { return removeUser(*ctx, r.param("username").value_or(""), r.user); }));
}

}  // namespace tessera::server
