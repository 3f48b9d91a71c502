// Indexer settings: /management/settings/index and its single-value children (behaviour §1
// "Indexer settings"), all admin. Shapes are Dicoogle's, with the fixes §12 and the client notes
// ask for: GET and POST of `path` both mean archive.watch-directory; single values are
// `text/plain` (dicoogle-client reads `res.text`, and a path is not JSON); the client's
// `/thumbnailSize` is served beside `/thumbnail/size`; POST /management/settings/index is a
// partial update that takes `saveThumbnail` or `thumbnail`; bad values are a 400 JSON error and
// nothing is changed. Every change is saved at once, and watch-folder changes take effect at
// once (Dicoogle needs a restart).
#include <cctype>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json_output.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/core/thumbnail_store.hpp"
#include "tessera/core/watch_folder.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

namespace fs = std::filesystem;
using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

constexpr const char* kSaveThumbnails = "archive.save-thumbnails";
constexpr const char* kThumbnailSize = "archive.thumbnail-size";
constexpr const char* kEffort = "archive.indexer-effort";
constexpr const char* kWatcherEnabled = "archive.enable-watch-directory";
constexpr const char* kWatchDirectory = "archive.watch-directory";
// Largest thumbnail edge accepted from the API (the settings file itself allows up to 8192).
constexpr long kMaxThumbnailSize = 1024;

using Changes = std::vector<std::pair<std::string, std::string>>;

HttpResponse emptyOk() {
    // No Content-Type: dicoogle-client would fail to parse an empty JSON body.
    HttpResponse response;
    response.contentType.clear();
    return response;
}

[[noreturn]] void invalid(const std::string& what, const std::string& detail) {
    throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Invalid " + what + ": " + detail);
}

// Dicoogle's web app and client send true/false; anything else is refused rather than read as
// false (Java's parseBoolean), so a typo does not silently switch a feature off.
std::string booleanValue(const std::string& name, const std::string& text) {
    std::string lower;
    for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "true" || lower == "false") return lower;
    invalid(name, "expected true or false");
}

std::string integerValue(const std::string& name, const std::string& text, long low, long high) {
    long value = 0;
    const auto* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end || value < low || value > high)
        invalid(name, "expected an integer from " + std::to_string(low) + " to " + std::to_string(high));
    return std::to_string(value);
}

// The watch folder must be absolute, exist, and lie inside a root the `file:` storage serves,
// since watched files are read (and later retrieved) through it. An empty path clears it.
std::string pathValue(ServerContext& context, const std::string& text) {
    if (text.empty()) return text;
    const fs::path path(text);
    if (!path.is_absolute()) invalid("path", "it must be an absolute path");
    std::error_code ec;
    if (!fs::is_directory(path, ec)) invalid("path", text + " is not an existing directory");
    const auto canonical = fs::canonical(path, ec);
    if (ec) invalid("path", text + " cannot be resolved");
    const auto uri = core::WatchFolder::fileUri(canonical);
    auto* storage = context.plugins.registry().storageForUri(uri);
    if (!storage) invalid("path", "no enabled storage provider serves file: URIs");
    try {
        storage->enumerate(uri, [](const sdk::StorageItem&) { return false; });
    } catch (const sdk::Error& e) {
        if (e.code() == sdk::ErrorCode::Forbidden)
            invalid("path", text + " is outside the folders the " + storage->name() +
                                " storage serves (add it, or a folder above it, to that plugin's roots)");
        throw;
    }
    return text;
}

// Saves all changes at once, then lets the watcher follow them.
void saveChanges(ServerContext& context, const Changes& changes) {
    if (changes.empty()) return;
    const auto sizeBefore = context.settings.getInt(kThumbnailSize, 64);
    context.settings.setMany(changes);
    bool watcherChanged = false;
    for (const auto& [key, value] : changes)
        watcherChanged = watcherChanged || key == kWatcherEnabled || key == kWatchDirectory;
    // Stored thumbnails have the old size: drop them (they are re-made on demand or at indexing).
    if (context.thumbnails && context.settings.getInt(kThumbnailSize, 64) != sizeBefore) context.thumbnails->clear();
    if (watcherChanged && context.applyWatchSettings) context.applyWatchSettings();
}

std::string effort(ServerContext& context) { return std::to_string(context.settings.getInt(kEffort, 100)); }
std::string thumbnailSize(ServerContext& context) {
    return std::to_string(context.settings.getInt(kThumbnailSize, 64));
}
bool saveThumbnails(ServerContext& context) { return context.settings.getBool(kSaveThumbnails, false); }
bool watcherEnabled(ServerContext& context) { return context.settings.getBool(kWatcherEnabled, false); }
std::string watchDirectory(ServerContext& context) { return context.settings.getString(kWatchDirectory, ""); }

HttpResponse getAll(ServerContext& context) {
    auto body = newJsonObject();
    body->set("path", watchDirectory(context));
    body->set("zip", false);
    body->set("effort", effort(context));  // strings, as Dicoogle sends them (§12 keeps this)
    body->set("thumbnail", saveThumbnails(context));
    body->set("thumbnailSize", thumbnailSize(context));
    body->set("watcher", watcherEnabled(context));
    return jsonResponse(body);
}

// POST /management/settings/index: only what is given changes.
HttpResponse postAll(ServerContext& context, const HttpRequest& request) {
    Changes changes;
    if (auto path = request.param("path")) changes.emplace_back(kWatchDirectory, pathValue(context, *path));
    if (auto watcher = request.param("watcher")) changes.emplace_back(kWatcherEnabled, booleanValue("watcher", *watcher));
    // The API page names it saveThumbnail, the per-field endpoint thumbnail: take either. When
    // both come, saveThumbnail wins: dicoogle-client computes it (saveThumbnail || thumbnail)
    // and sends the caller's thumbnail beside it.
    auto save = request.param("saveThumbnail");
    auto thumbnail = request.param("thumbnail");
    if (thumbnail) booleanValue("thumbnail", *thumbnail);  // checked even when not used
    if (save)
        changes.emplace_back(kSaveThumbnails, booleanValue("saveThumbnail", *save));
    else if (thumbnail)
        changes.emplace_back(kSaveThumbnails, booleanValue("thumbnail", *thumbnail));
    if (auto value = request.param("effort")) changes.emplace_back(kEffort, integerValue("effort", *value, 0, 100));
    if (auto value = request.param("thumbnailSize"))
        changes.emplace_back(kThumbnailSize, integerValue("thumbnailSize", *value, 1, kMaxThumbnailSize));
    // `zip` is dead in Dicoogle 3 and the client always sends it: accepted and ignored.
    saveChanges(context, changes);
    return emptyOk();
}

// A single-value setter's parameter; missing or empty is Dicoogle's "Invalid <name>" (as JSON).
std::string required(const HttpRequest& request, const std::string& name) {
    auto value = request.param(name);
    if (!value || value->empty()) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Invalid " + name);
    return *value;
}

}  // namespace

void addIndexSettingsRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    const std::string base = "/management/settings/index";
    router.add(route("GET", base, AccessPolicy::Admin,
                     "Indexer settings {path, zip, effort, thumbnail, thumbnailSize, watcher}",
                     [ctx](const HttpRequest&) { return getAll(*ctx); }));
    router.add(route("POST", base, AccessPolicy::Admin,
                     "Change any of `path` (watch folder), `watcher`, `saveThumbnail`/`thumbnail`, `effort`, "
                     "`thumbnailSize`; the rest stays",
                     [ctx](const HttpRequest& r) { return postAll(*ctx, r); }));

    router.add(route("GET", base + "/path", AccessPolicy::Admin, "The watch folder, as text",
                     [ctx](const HttpRequest&) { return HttpResponse::text(watchDirectory(*ctx)); }));
    router.add(route("POST", base + "/path", AccessPolicy::Admin, "Set the watch folder (`path`)",
                     [ctx](const HttpRequest& r) {
                         const auto path = pathValue(*ctx, required(r, "path"));
                         saveChanges(*ctx, {{kWatchDirectory, path}});
                         return HttpResponse::text("Dir set to: " + path);
                     }));

    router.add(route("GET", base + "/effort", AccessPolicy::Admin, "Indexer effort (0-100, stored only), as text",
                     [ctx](const HttpRequest&) { return HttpResponse::text(effort(*ctx)); }));
    router.add(route("POST", base + "/effort", AccessPolicy::Admin, "Set the indexer effort (`effort`, 0-100)",
                     [ctx](const HttpRequest& r) {
                         const auto value = integerValue("effort", required(r, "effort"), 0, 100);
                         saveChanges(*ctx, {{kEffort, value}});
                         return HttpResponse::text("index effort set to: " + value);
                     }));

    router.add(route("GET", base + "/thumbnail", AccessPolicy::Admin,
                     "Whether thumbnails are made at index time, as text",
                     [ctx](const HttpRequest&) { return HttpResponse::text(saveThumbnails(*ctx) ? "true" : "false"); }));
    router.add(route("POST", base + "/thumbnail", AccessPolicy::Admin,
                     "Make thumbnails at index time or not (`thumbnail`)", [ctx](const HttpRequest& r) {
                         saveChanges(*ctx, {{kSaveThumbnails, booleanValue("thumbnail", required(r, "thumbnail"))}});
                         return emptyOk();
                     }));

    for (const std::string& path : {base + "/thumbnail/size", base + "/thumbnailSize"}) {
        router.add(route("GET", path, AccessPolicy::Admin, "Thumbnail size in pixels, as text",
                         [ctx](const HttpRequest&) { return HttpResponse::text(thumbnailSize(*ctx)); }));
        router.add(route("POST", path, AccessPolicy::Admin, "Set the thumbnail size (`thumbnailSize`, 1-1024)",
                         [ctx](const HttpRequest& r) {
                             const auto value =
                                 integerValue("thumbnailSize", required(r, "thumbnailSize"), 1, kMaxThumbnailSize);
                             saveChanges(*ctx, {{kThumbnailSize, value}});
                             return emptyOk();
                         }));
    }

    router.add(route("GET", base + "/watcher", AccessPolicy::Admin, "Whether the watch folder is on, as text",
                     [ctx](const HttpRequest&) { return HttpResponse::text(watcherEnabled(*ctx) ? "true" : "false"); }));
    router.add(route("POST", base + "/watcher", AccessPolicy::Admin,
                     "Turn the watch folder on or off (`watcher`); takes effect at once", [ctx](const HttpRequest& r) {
                         saveChanges(*ctx, {{kWatcherEnabled, booleanValue("watcher", required(r, "watcher"))}});
                         return emptyOk();
                     }));

    router.add(route("GET", base + "/zip", AccessPolicy::Admin, "Always false (zip indexing is not supported)",
                     [](const HttpRequest&) { return HttpResponse::text("false"); }));
    router.add(route("POST", base + "/zip", AccessPolicy::Admin, "Accepted and ignored, as in Dicoogle 3",
                     [](const HttpRequest& r) {
                         required(r, "zip");
                         return HttpResponse::text("indexZipFiles is no longer supported");
                     }));
}

}  // namespace tessera::server
