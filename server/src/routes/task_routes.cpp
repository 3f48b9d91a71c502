// Indexing tasks: start (/management/tasks/index), list/close/stop (/index/task), unindex and
// remove stored files, in Dicoogle 3's shapes (behaviour §1 "Tasks").
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "json_output.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/uri.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

constexpr const char* kUnindexArgumentsError =
    "No arguments provided; must include either one of `uri`, `SOPInstanceUID`, `SeriesInstanceUID` or "
    "`StudyInstanceUID`";

// Dicoogle replaces spaces by %20 before parsing, so pasted paths with spaces work.
sdk::Uri parseClientUri(const std::string& text) {
    std::string escaped;
    for (char c : text) {
        if (c == ' ')
            escaped += "%20";
        else
            escaped.push_back(c);
    }
    if (escaped.empty()) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Bad URI: empty");
    return sdk::Uri::parse(escaped);
}

std::vector<sdk::Uri> parseClientUris(const std::vector<std::string>& texts) {
    std::vector<sdk::Uri> uris;
    uris.reserve(texts.size());
    for (const auto& text : texts) uris.push_back(parseClientUri(text));
    return uris;
}

std::vector<std::string> nonEmpty(std::vector<std::string> values) {
    std::erase_if(values, [](const std::string& value) { return value.empty(); });
    return values;
}

// ISO local date-time without a zone, as Java's LocalDateTime prints it: 2022-07-05T14:48:50.490.
std::string localTimestamp(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local{};
    localtime_r(&seconds, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &local);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis < 0 ? millis + 1000 : millis));
    return std::string(text) + fraction;
}

HttpResponse startIndexing(ServerContext& context, const HttpRequest& request) {
    const auto uriTexts = request.paramList("uri");
    if (uriTexts.empty()) return jsonError(400, "Missing parameter: uri");
    const auto uris = parseClientUris(uriTexts);
    const auto tasks = context.indexing.index(uris, nonEmpty(request.paramList("plugin")));
    auto list = newJsonArray();
    for (const auto& task : tasks) {
        auto item = newJsonObject();
        item->set("uid", task.uid);
        item->set("name", task.name);
        item->set("progress", task.progress);
        item->set("done", task.done);
        item->set("canceled", task.cancelled);
        list->add(item);
    }
    auto body = newJsonObject();
    body->set("tasks", list);
    return jsonResponse(body);
}

HttpResponse listTasks(ServerContext& context, const HttpRequest&) {
    auto results = newJsonArray();
    std::size_t unfinished = 0;
    for (const auto& task : context.tasks.list()) {
        auto item = newJsonObject();
        item->set("taskUid", task.uid);
        item->set("taskName", task.name);
        item->set("taskProgress", task.progress);
        item->set("taskTimeCreated", localTimestamp(task.created));
        if (task.done && !task.cancelled) {
            item->set("complete", true);
            if (task.report) {
                item->set("elapsedTime", static_cast<Poco::Int64>(task.report->elapsed.count()));
                item->set("nIndexed", static_cast<Poco::UInt64>(task.report->indexed));
                item->set("nErrors", static_cast<Poco::UInt64>(task.report->errors));
                item->set("nSkipped", static_cast<Poco::UInt64>(task.report->skipped));
            }
        } else if (task.cancelled) {
            item->set("canceled", true);
        }
        if (!task.done) ++unfinished;
        results->add(item);
    }
    auto body = newJsonObject();
    body->set("results", results);
    body->set("count", static_cast<Poco::UInt64>(unfinished));
    return jsonResponse(body);
}

HttpResponse changeTask(ServerContext& context, const HttpRequest& request) {
    if (auto action = request.param("action"); action && *action != "delete")
        return jsonError(400, "Invalid action: only `delete` is supported");
    const auto uid = request.param("uid");
    const auto type = request.param("type");
    if (!uid || uid->empty()) return jsonError(400, "Missing parameter: uid");
    if (!type || type->empty()) return jsonError(400, "Missing parameter: type");
    auto body = newJsonObject();
    if (*type == "close") {
        body->set("removed", context.tasks.close(*uid));
    } else if (*type == "stop") {
        body->set("stopped", context.tasks.stop(*uid));
    } else {
        return jsonError(400, "Invalid type: must be `close` or `stop`");
    }
    return jsonResponse(body);
}

HttpResponse unindex(ServerContext& context, const HttpRequest& request) {
    // The parameter names are the DICOM keywords the UIDs are looked up by.
    static const char* const kKinds[] = {"uri", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"};
    const char* chosen = nullptr;
    int given = 0;
    for (const auto& kind : kKinds) {
        if (!request.hasParam(kind)) continue;
        ++given;
        chosen = kind;
    }
    if (given != 1) return jsonError(400, kUnindexArgumentsError);

    const auto providers = nonEmpty(request.paramList("provider"));
    context.indexing.resolveIndexers(providers);  // a bad name is a 400 before any work
    const auto values = request.paramList(chosen);
    std::vector<sdk::Uri> uris;
    std::size_t unresolved = 0;
    if (std::string_view(chosen) == "uri") {
        uris = parseClientUris(values);
    } else {
        static const std::regex kUid("[0-9]+(\\.[0-9]+)*");
        for (const auto& uid : values)
            if (!std::regex_match(uid, kUid)) return jsonError(400, "Invalid DICOM UID");
        uris = context.queries.urisMatching(chosen, values, &unresolved);
    }
    const auto report = context.indexing.unindex(uris, providers);
    auto body = newJsonObject();
    body->set("indexed", static_cast<Poco::UInt64>(report.removed));
    body->set("failed", static_cast<Poco::UInt64>(report.failed));
    body->set("notFound", static_cast<Poco::UInt64>(report.notFound + unresolved));
    return jsonResponse(body);
}

HttpResponse removeFiles(ServerContext& context, const HttpRequest& request) {
    const auto uriTexts = request.paramList("uri");
    if (uriTexts.empty()) return jsonError(400, "Missing parameter: uri");
    const auto uris = parseClientUris(uriTexts);
    std::vector<sdk::StorageProvider*> storages;
    for (const auto& uri : uris) {
        auto* storage = context.plugins.registry().storageForUri(uri);
        if (!storage) return jsonError(400, "No storage provider serves " + uri.str());
        storages.push_back(storage);
    }
    for (std::size_t i = 0; i < uris.size(); ++i) storages[i]->remove(uris[i]);
    // An empty body with no Content-Type: dicoogle-client would fail to parse an empty JSON body.
    HttpResponse response;
    response.contentType.clear();
    return response;
}

}  // namespace

void addTaskRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("POST", "/management/tasks/index", AccessPolicy::Admin,
                     "Index stored items under each `uri` with the `plugin` indexers (default all); one task per URI",
                     [ctx](const HttpRequest& r) { return startIndexing(*ctx, r); }));
    router.add(route("GET", "/index/task", AccessPolicy::Admin, "Indexing tasks with progress and results",
                     [ctx](const HttpRequest& r) { return listTasks(*ctx, r); }));
    router.add(route("POST", "/index/task", AccessPolicy::Admin,
                     "Close (`type=close`) or stop (`type=stop`) task `uid`",
                     [ctx](const HttpRequest& r) { return changeTask(*ctx, r); }));
    router.add(route("POST", "/management/tasks/unindex", AccessPolicy::Admin,
                     "Remove index records by `uri`, `SOPInstanceUID`, `SeriesInstanceUID` or `StudyInstanceUID`",
                     [ctx](const HttpRequest& r) { return unindex(*ctx, r); }));
    router.add(route("POST", "/management/tasks/remove", AccessPolicy::Admin,
                     "Delete stored files by `uri` (does not unindex them)",
                     [ctx](const HttpRequest& r) { return removeFiles(*ctx, r); }));
}

}  // namespace tessera::server
