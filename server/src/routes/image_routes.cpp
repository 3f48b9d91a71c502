// Images and objects by UID: /wado (Dicoogle's URI lookup, and PS3.18 WADO-URI with
// requestType=WADO), /dic2png (Dicoogle's PNG renderer and thumbnails) and /legacy/wado
// (Dicoogle 2's download). Behaviour reference §1 "Other endpoints", §7, §8.
//
// Objects are found through QueryService (SOPInstanceUID term, answers re-checked for the exact
// UID) and read through the StorageProvider serving their URI, whose root checks also guard the
// `uri` parameter of /dic2png: no route reads a path a storage provider does not serve.
// Rendering failures map through error_mapping: Corrupted 422, Unsupported 400, TooLarge 413,
// InvalidArgument 400.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "request_values.hpp"
#include "search_parameters.hpp"
#include "tessera/core/imaging/dicom_transcoder.hpp"
#include "tessera/core/imaging/image_renderer.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/core/thumbnail_store.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/error_mapping.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

using sdk::AccessPolicy;
using sdk::Error;
using sdk::ErrorCode;
using sdk::HttpRequest;
using sdk::HttpResponse;

// Objects read into memory (storage without local files) may not be larger than this.
constexpr std::uintmax_t kMaxObjectBytes = 2ULL * 1024 * 1024 * 1024;

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.image");
}

template <typename Body>
HttpResponse guarded(const HttpRequest& request, Body body) {
    try {
        return body();
    } catch (const Error& e) {
        const int status = httpStatusFor(e.code());
        if (status >= 500) logger().error("%s %s: %s", request.method, request.path, std::string(e.what()));
        return jsonError(status, e.what());
    } catch (const std::exception& e) {
        logger().error("%s %s: %s", request.method, request.path, std::string(e.what()));
    }
    return jsonError(500, "The image could not be produced");
}

bool isUid(const std::string& text) {
    static const std::regex kUid("[0-9]+(\\.[0-9]+)*");
    return !text.empty() && text.size() <= 64 && std::regex_match(text, kUid);
}

std::string requireUid(const HttpRequest& request, const std::string& name) {
    const auto value = trimmedValue(request.param(name).value_or(""));
    if (value.empty()) throw Error(ErrorCode::InvalidArgument, "Missing parameter: " + name);
    if (!isUid(value)) throw Error(ErrorCode::InvalidArgument, "Invalid parameter " + name + ": not a DICOM UID");
    return value;
}

// The instances whose SOPInstanceUID is `uid`, as the providers answer (with the UIDs of study
// and series), in provider order. A provider matching words rather than whole values cannot
// widen the answer: results naming another UID are dropped.
std::vector<sdk::SearchResult> findInstances(ServerContext& context, const std::string& uid,
                                             const std::vector<std::string>& providers, bool dimOnly,
                                             std::optional<std::size_t> limit) {
    core::SearchOptions options;
    options.providers = providers;
    options.fields = {"SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"};
    options.dimOnly = dimOnly;
    options.limit = limit;
    auto outcome =
        context.queries.search(sdk::TermQuery{"SOPInstanceUID", uid}, "SOPInstanceUID:\"" + uid + "\"", options);
    std::vector<sdk::SearchResult> found;
    for (auto& result : outcome.results) {
        const auto it = result.fields.find("SOPInstanceUID");
        if (it != result.fields.end() && !it->second.empty() && trimmedValue(it->second) != uid) continue;
        found.push_back(std::move(result));
    }
    return found;
}

// Where an object's bytes are: a local file when the storage keeps one, else its bytes.
struct StoredObject {
    sdk::Uri uri;
    sdk::StorageProvider* storage = nullptr;
    std::optional<std::filesystem::path> path;
    std::vector<std::uint8_t> bytes;
};

sdk::StorageProvider& storageFor(ServerContext& context, const sdk::Uri& uri) {
    auto* storage = context.plugins.registry().storageForUri(uri);
    if (storage == nullptr) throw Error(ErrorCode::NotFound, "No storage provider serves " + uri.str());
    return *storage;
}

// Root checks happen in localPath()/open() (Error Forbidden outside the served roots).
StoredObject openObject(ServerContext& context, const sdk::Uri& uri, bool needBytes) {
    StoredObject object;
    object.uri = uri;
    object.storage = &storageFor(context, uri);
    object.path = object.storage->localPath(uri);
    if (object.path) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*object.path, ec))
            throw Error(ErrorCode::NotFound, "The stored object is missing: " + uri.str());
        return object;
    }
    if (needBytes) {
        auto in = object.storage->open(uri);
        std::vector<char> buffer(1 << 16);
        while (*in) {
            in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            object.bytes.insert(object.bytes.end(), buffer.begin(), buffer.begin() + in->gcount());
            if (object.bytes.size() > kMaxObjectBytes)
                throw Error(ErrorCode::TooLarge, "The stored object is too large");
        }
    }
    return object;
}

core::RenderedImage render(const StoredObject& object, const core::RenderOptions& options) {
    if (object.path) return core::renderFrame(*object.path, options);
    return core::renderFrame(std::span<const std::uint8_t>(object.bytes), options);
}

HttpResponse imageResponse(const std::string& contentType, const std::vector<std::uint8_t>& bytes) {
    HttpResponse response;
    response.contentType = contentType;
    response.body.assign(bytes.begin(), bytes.end());
    return response;
}

// The object's bytes as stored, streamed from its storage provider.
HttpResponse dicomDownload(ServerContext& context, const sdk::Uri& uri, bool attachment) {
    auto& storage = storageFor(context, uri);
    std::shared_ptr<std::istream> in = storage.open(uri);
    HttpResponse response;
    response.contentType = "application/dicom";
    if (attachment) {
        std::string name = std::filesystem::path(uri.decodedPath().value_or("")).filename().string();
        if (name.empty() || name.find_first_of("\"\r\n") != std::string::npos) name = "Downloaded.dcm";
        response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
    }
    response.writer = [in](std::ostream& out) { out << in->rdbuf(); };
    return response;
}

// A thumbnail made at index time (<data>/thumbnails/), if there is one. The store is emptied
// when the size setting changes, so what it holds is at the current size.
std::optional<std::vector<std::uint8_t>> storedThumbnail(ServerContext& context, const sdk::Uri& uri) {
    if (context.thumbnails == nullptr) return std::nullopt;
    return context.thumbnails->get(uri);
}

unsigned thumbnailSize(ServerContext& context) {
    const long long size = context.settings.getInt("archive.thumbnail-size", 64);
    return static_cast<unsigned>(std::clamp<long long>(size, 1, core::kMaxOutputSide));
}

// ---- /dic2png --------------------------------------------------------------------------------

HttpResponse dic2png(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        const auto uidText = trimmedValue(request.param("SOPInstanceUID").value_or(""));
        const auto uriText = trimmedValue(request.param("uri").value_or(""));
        if (uidText.empty() && uriText.empty()) return jsonError(400, "Missing parameter: SOPInstanceUID or uri");
        core::RenderOptions options;
        options.frame =
            static_cast<unsigned>(std::min<std::size_t>(nonNegativeParam(request, "frame").value_or(0), 0xFFFFFFFFu));
        const bool thumbnail = parseBooleanParam(request.param("thumbnail"), true);

        sdk::Uri uri;
        if (!uidText.empty()) {
            const auto found = findInstances(context, uidText, nonEmptyValues(request.paramList("provider")), true, 1);
            if (found.empty()) return jsonError(404, "No image file for supplied SOP Instance UID");
            uri = found.front().uri;
        } else {
            uri = sdk::Uri::parse(uriText);
        }
        if (thumbnail) {
            const unsigned size = thumbnailSize(context);
            if (options.frame == 0)
                if (auto stored = storedThumbnail(context, uri)) return imageResponse("image/png", *stored);
            options.rows = size;
            options.columns = size;
        }
        const auto object = openObject(context, uri, true);
        return imageResponse("image/png", render(object, options).bytes);
    });
}

// ---- /wado -----------------------------------------------------------------------------------

std::optional<double> decimalParam(const HttpRequest& request, const std::string& name) {
    const auto value = request.param(name);
    if (!value) return std::nullopt;
    const std::string text = trimmedValue(*value);
    char* end = nullptr;
    const double number = text.empty() ? NAN : std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number))
        throw Error(ErrorCode::InvalidArgument, "Invalid parameter " + name + ": must be a decimal number");
    return number;
}

std::optional<unsigned> positiveParam(const HttpRequest& request, const std::string& name) {
    const auto value = nonNegativeParam(request, name);
    if (!value) return std::nullopt;
    if (*value == 0 || *value > 0xFFFFFFFFu)
        throw Error(ErrorCode::InvalidArgument, "Invalid parameter " + name + ": must be a positive integer");
    return static_cast<unsigned>(*value);
}

// PS3.18 region: xmin,ymin,xmax,ymax as fractions.
core::ImageRegion regionParam(const std::string& text) {
    std::vector<double> values;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = std::min(text.find(',', start), text.size());
        const std::string part = trimmedValue(text.substr(start, comma - start));
        char* end = nullptr;
        const double number = part.empty() ? NAN : std::strtod(part.c_str(), &end);
        if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(number))
            throw Error(ErrorCode::InvalidArgument, "Invalid parameter region: must be xmin,ymin,xmax,ymax fractions");
        values.push_back(number);
        start = comma + 1;
    }
    if (values.size() != 4)
        throw Error(ErrorCode::InvalidArgument, "Invalid parameter region: must be xmin,ymin,xmax,ymax fractions");
    return {values[0], values[1], values[2], values[3]};
}

// The first media type of the `contentType` list that we produce; "" when none is acceptable.
std::string chooseContentType(const std::string& list) {
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto comma = std::min(list.find(',', start), list.size());
        std::string type = trimmedValue(list.substr(start, comma - start));
        if (const auto semicolon = type.find(';'); semicolon != std::string::npos)
            type = trimmedValue(type.substr(0, semicolon));
        for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (type == "application/dicom" || type == "image/jpeg" || type == "image/png") return type;
        if (type == "image/*" || type == "*/*") return "image/jpeg";
        start = comma + 1;
    }
    return "";
}

const char* const kImageOnlyParameters[] = {"rows",        "columns",     "region",      "windowCenter",
                                            "windowWidth", "frameNumber", "imageQuality"};
const char* const kUnsupportedParameters[] = {"anonymize", "annotation", "presentationUID", "presentationSeriesUID"};

HttpResponse wadoUri(ServerContext& context, const HttpRequest& request) {
    if (request.param("requestType").value_or("") != "WADO")
        return jsonError(400, "Invalid parameter requestType: must be WADO");
    const auto study = requireUid(request, "studyUID");
    const auto series = requireUid(request, "seriesUID");
    const auto object = requireUid(request, "objectUID");
    for (const char* name : kUnsupportedParameters)
        if (request.hasParam(name)) return jsonError(400, std::string("Parameter ") + name + " is not supported");
    const std::string contentType = chooseContentType(request.param("contentType").value_or("image/jpeg"));
    if (contentType.empty())
        return jsonError(406, "contentType: only application/dicom, image/jpeg and image/png are available");

    std::optional<sdk::Uri> uri;
    for (const auto& result : findInstances(context, object, {}, false, std::nullopt)) {
        const auto fieldIs = [&](const char* name, const std::string& want) {
            const auto it = result.fields.find(name);
            return it == result.fields.end() || it->second.empty() || trimmedValue(it->second) == want;
        };
        if (fieldIs("StudyInstanceUID", study) && fieldIs("SeriesInstanceUID", series)) {
            uri = result.uri;
            break;
        }
    }
    if (!uri) return jsonError(404, "No object " + object + " in series " + series + " of study " + study);

    if (contentType == "application/dicom") {
        for (const char* name : kImageOnlyParameters)
            if (request.hasParam(name))
                return jsonError(400, std::string("Parameter ") + name + " does not apply to application/dicom");
        const auto wanted = trimmedValue(request.param("transferSyntax").value_or(""));
        const auto stored = openObject(context, *uri, false);
        if (wanted.empty() || !stored.path) return dicomDownload(context, *uri, false);
        if (!isUid(wanted)) return jsonError(400, "Invalid parameter transferSyntax: not a DICOM UID");
        if (wanted == core::storedTransferSyntax(*stored.path)) return dicomDownload(context, *uri, false);
        return imageResponse("application/dicom", core::transcodePart10(*stored.path, wanted));
    }

    if (request.hasParam("transferSyntax"))
        return jsonError(400, "Parameter transferSyntax applies to application/dicom only");
    core::RenderOptions options;
    options.format = contentType == "image/png" ? core::ImageFormat::Png : core::ImageFormat::Jpeg;
    options.frame = positiveParam(request, "frameNumber").value_or(1) - 1;
    options.rows = positiveParam(request, "rows");
    options.columns = positiveParam(request, "columns");
    options.windowCenter = decimalParam(request, "windowCenter");
    options.windowWidth = decimalParam(request, "windowWidth");
    if (const auto region = request.param("region")) options.region = regionParam(*region);
    if (const auto quality = positiveParam(request, "imageQuality")) {
        if (*quality > 100) return jsonError(400, "Invalid parameter imageQuality: must be 1 to 100");
        options.jpegQuality = static_cast<int>(*quality);
    }
    const auto stored = openObject(context, *uri, true);
    const auto image = render(stored, options);
    return imageResponse(image.contentType, image.bytes);
}

HttpResponse wado(ServerContext& context, const HttpRequest& request) {
    if (request.hasParam("requestType")) return guarded(request, [&] { return wadoUri(context, request); });
    // Dicoogle's /wado: the URI of the file, as text, or "not".
    return guarded(request, [&] {
        const auto uid = trimmedValue(request.param("uid").value_or(""));
        if (uid.empty()) return HttpResponse::text("No uid supplied!\n/wado?uid=UID", 400);
        const auto found = findInstances(context, uid, {}, false, 1);
        return HttpResponse::text(found.empty() ? "not" : found.front().uri.str());
    });
}

// ---- /legacy/wado ------------------------------------------------------------------------------

// Dicoogle 2: the file by objectUID (last hit over every provider wins), as an attachment;
// every other WADO parameter is ignored.
HttpResponse legacyWado(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        if (request.param("requestType").value_or("") != "WADO")
            return jsonError(400, "Invalid parameter requestType: must be WADO");
        const auto object = requireUid(request, "objectUID");
        const auto found = findInstances(context, object, {}, false, std::nullopt);
        if (found.empty()) return jsonError(404, "No object with objectUID " + object);
        return dicomDownload(context, found.back().uri, true);
    });
}

}  // namespace

void addImageRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("GET", "/wado", AccessPolicy::User,
                     "uid → the object's URI as text; requestType=WADO → WADO-URI (studyUID, seriesUID, objectUID, "
                     "contentType, frameNumber, rows, columns, windowCenter, windowWidth, region, imageQuality, "
                     "transferSyntax)",
                     [ctx](const HttpRequest& r) { return wado(*ctx, r); }));
    router.add(route("GET", "/dic2png", AccessPolicy::User,
                     "PNG of a frame: SOPInstanceUID or uri, frame (from 0), thumbnail, provider*",
                     [ctx](const HttpRequest& r) { return dic2png(*ctx, r); }));
    router.add(route("GET", "/legacy/wado", AccessPolicy::User,
                     "Dicoogle 2 download: requestType=WADO, objectUID → the stored file as an attachment",
                     [ctx](const HttpRequest& r) { return legacyWado(*ctx, r); }));
}

}  // namespace tessera::server
