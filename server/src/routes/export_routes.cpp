// Export: the query results as CSV (behaviour reference §1 "CSV format", "Other endpoints").
//
//  GET  /export/cvs  query, fields*, providers*, keyword (not "true" → the query is expanded)
//  GET  /export      query, fields*, providers*         (no expansion)
//  POST /export      JSON-DATA = {"queryString", "extraFields": [..], "providers": [..]}
//  POST /exportFile  query, fields = a JSON array string, providers*, expand → {"uid"}
//  GET  /exportFile  UID → the file written by the POST, as an application/csv attachment
//  GET  /export/list every keyword of the data dictionary, as a JSON array
//
// Exports default to every enabled query provider (not only the DIM ones), as in Dicoogle. The
// query is parsed and the providers resolved before the answer starts, so those errors are
// 400 JSON; the rows are then streamed from the providers chunk by chunk, never held whole.
// Files of /exportFile live in <data>/exports/<uuid>.csv and are deleted kExportLifetime after
// they were written (swept whenever /exportFile is called).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/UUIDGenerator.h>

#include "request_values.hpp"
#include "search_parameters.hpp"
#include "tessera/core/csv_export.hpp"
#include "tessera/core/dicom/dicom_dictionary.hpp"
#include "tessera/core/query/query_parser.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/error_mapping.hpp"
#include "tessera/server/json_text.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"

namespace tessera::server {
namespace {

namespace fs = std::filesystem;
using sdk::AccessPolicy;
using sdk::Error;
using sdk::ErrorCode;
using sdk::HttpRequest;
using sdk::HttpResponse;

constexpr auto kExportLifetime = std::chrono::hours(1);
constexpr const char* kAttachment = "attachment; filename=\"QueryResultsExport.csv\"";

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.export");
}

// What to export, checked and resolved before any byte is sent.
struct ExportJob {
    sdk::QueryNode query;
    std::string text;
    std::vector<std::string> fields;
    std::vector<sdk::QueryProvider*> providers;
};

ExportJob prepare(ServerContext& context, const std::optional<std::string>& queryText, bool expand,
                  std::vector<std::string> fields, const std::vector<std::string>& providers) {
    ExportJob job;
    job.text = requireQuery(queryText);
    fields = nonEmptyValues(fields);
    if (fields.empty()) throw Error(ErrorCode::InvalidArgument, "No fields supplied!");
    job.fields = std::move(fields);
    job.query = expand ? core::QueryService::expandFreeText(job.text) : core::parseQuery(job.text);
    job.providers = context.queries.resolveProviders(nonEmptyValues(providers), false);
    return job;
}

// Streams the header and one row per result; stops when the client goes away.
void writeCsv(const core::QueryService& queries, const ExportJob& job, std::ostream& out) {
    core::CsvWriter csv(out, job.fields);
    queries.forEach(job.query, job.text, job.providers, job.fields, [&](const sdk::SearchResult& result) {
        csv.writeRow(result.fields);
        return static_cast<bool>(out);
    });
}

HttpResponse csvAttachment(ServerContext& context, ExportJob job, std::string contentType) {
    HttpResponse response;
    response.contentType = std::move(contentType);
    response.headers.emplace_back("Content-Disposition", kAttachment);
    auto shared = std::make_shared<ExportJob>(std::move(job));
    const core::QueryService* queries = &context.queries;
    response.writer = [queries, shared](std::ostream& out) { writeCsv(*queries, *shared, out); };
    return response;
}

template <typename Body>
HttpResponse guarded(const HttpRequest& request, Body body) {
    try {
        return body();
    } catch (const Error& e) {
        const int status = httpStatusFor(e.code());
        if (status >= 500) logger().error("%s %s: %s", request.method, request.path, std::string(e.what()));
        return jsonError(status, e.what());
    }
}

// Text export types: a client reads text/csv as text (application/csv arrives as bytes).
constexpr const char* kCsvText = "text/csv; charset=utf-8";

HttpResponse exportCvs(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        // Dicoogle's inverted default: expanded unless keyword=true.
        const bool expand = !parseBooleanParam(request.param("keyword"));
        return csvAttachment(context,
                             prepare(context, request.param("query"), expand, request.paramList("fields"),
                                     request.paramList("providers")),
                             kCsvText);
    });
}

HttpResponse exportGet(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        return csvAttachment(context,
                             prepare(context, request.param("query"), false, request.paramList("fields"),
                                     request.paramList("providers")),
                             kCsvText);
    });
}

std::vector<std::string> stringArray(const Poco::JSON::Array::Ptr& array, const std::string& what) {
    std::vector<std::string> values;
    if (!array) return values;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto value = array->get(static_cast<unsigned>(i));
        if (!value.isString())
            throw Error(ErrorCode::InvalidArgument, "Invalid " + what + ": must be an array of strings");
        values.push_back(value.convert<std::string>());
    }
    return values;
}

Poco::Dynamic::Var parseJson(const std::string& text, const std::string& what) {
    try {
        return Poco::JSON::Parser().parse(text);
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::InvalidArgument, "Invalid " + what + ": not JSON");
    }
}

// POST /export: the pieces come in one JSON form field.
HttpResponse exportPost(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        const auto data = request.param("JSON-DATA");
        if (!data || trimmedValue(*data).empty()) throw Error(ErrorCode::InvalidArgument, "No JSON-DATA supplied!");
        const auto parsed = parseJson(*data, "JSON-DATA");
        if (parsed.type() != typeid(Poco::JSON::Object::Ptr))
            throw Error(ErrorCode::InvalidArgument, "Invalid JSON-DATA: must be an object");
        const auto object = parsed.extract<Poco::JSON::Object::Ptr>();
        std::optional<std::string> query;
        if (object->has("queryString")) {
            const auto value = object->get("queryString");
            if (!value.isString()) throw Error(ErrorCode::InvalidArgument, "Invalid queryString: must be a string");
            query = value.convert<std::string>();
        }
        const auto fields = object->has("extraFields") ? stringArray(object->getArray("extraFields"), "extraFields")
                                                       : std::vector<std::string>{};
        if (object->has("extraFields") && !object->getArray("extraFields"))
            throw Error(ErrorCode::InvalidArgument, "Invalid extraFields: must be an array of strings");
        const auto providers = object->has("providers") ? stringArray(object->getArray("providers"), "providers")
                                                        : std::vector<std::string>{};
        return csvAttachment(context, prepare(context, query, false, fields, providers), kCsvText);
    });
}

fs::path exportDir(const ServerContext& context) {
    return context.dataDir / "exports";
}

// Deletes export files (and abandoned partial ones) older than kExportLifetime.
void sweepExports(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    const auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code entryError;
        const auto written = it->last_write_time(entryError);
        if (entryError || now - written < kExportLifetime) continue;
        fs::remove(it->path(), entryError);
        if (!entryError) logger().debug("Removed expired export %s", it->path().filename().string());
    }
}

// `fields` is a JSON array string for this endpoint; repeated plain names are accepted too.
std::vector<std::string> exportFileFields(const HttpRequest& request) {
    const auto values = request.paramList("fields");
    if (values.size() == 1 && trimmedValue(values.front()).rfind('[', 0) == 0) {
        const auto parsed = parseJson(values.front(), "fields");
        if (parsed.type() != typeid(Poco::JSON::Array::Ptr))
            throw Error(ErrorCode::InvalidArgument, "Invalid fields: must be a JSON array of strings");
        return stringArray(parsed.extract<Poco::JSON::Array::Ptr>(), "fields");
    }
    return values;
}

HttpResponse exportFilePost(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        const bool expand = parseBooleanParam(request.param("expand"), true);
        const auto job =
            prepare(context, request.param("query"), expand, exportFileFields(request), request.paramList("providers"));
        const fs::path dir = exportDir(context);
        sweepExports(dir);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw Error(ErrorCode::Unavailable, "Cannot create the export directory");
        const std::string uid = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
        const fs::path partial = dir / (uid + ".csv.part");
        const fs::path final = dir / (uid + ".csv");
        try {
            {
                std::ofstream out(partial, std::ios::binary | std::ios::trunc);
                if (!out) throw Error(ErrorCode::Unavailable, "Cannot write the export file");
                writeCsv(context.queries, job, out);
                out.flush();
                if (!out) throw Error(ErrorCode::Unavailable, "Cannot write the export file");
            }
            fs::rename(partial, final);
        } catch (...) {
            fs::remove(partial, ec);
            throw;
        }
        return HttpResponse::json("{\"uid\":" + jsonQuote(uid) + "}");
    });
}

bool isUuid(const std::string& text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

HttpResponse exportFileGet(ServerContext& context, const HttpRequest& request) {
    return guarded(request, [&] {
        std::string uid = trimmedValue(request.param("UID").value_or(""));
        if (!isUuid(uid)) return jsonError(400, "Invalid UID: must be the uid POST /exportFile returned");
        for (auto& c : uid) c = static_cast<char>(c >= 'A' && c <= 'F' ? c + ('a' - 'A') : c);
        const fs::path dir = exportDir(context);
        sweepExports(dir);
        // Opened here, so a sweep after this point cannot take the file from under the download.
        auto in = std::make_shared<std::ifstream>(dir / (uid + ".csv"), std::ios::binary);
        if (!*in) return jsonError(404, "No export with this UID (exports expire after an hour)");
        HttpResponse response;
        response.contentType = "application/csv";
        response.headers.emplace_back("Content-Disposition", kAttachment);
        response.writer = [in](std::ostream& out) { out << in->rdbuf(); };
        return response;
    });
}

HttpResponse exportList(const HttpRequest&) {
    std::string body = "[";
    bool first = true;
    for (const auto& keyword : core::allKeywords()) {
        if (!first) body.push_back(',');
        first = false;
        body += jsonQuote(keyword);
    }
    body.push_back(']');
    return HttpResponse::json(std::move(body));
}

}  // namespace

void addExportRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("GET", "/export/cvs", AccessPolicy::User,
                     "CSV of a query: query, fields*, providers*, keyword (not true = free-text expansion)",
                     [ctx](const HttpRequest& r) { return exportCvs(*ctx, r); }));
    router.add(route("GET", "/export", AccessPolicy::User, "CSV of a query: query, fields*, providers*",
                     [ctx](const HttpRequest& r) { return exportGet(*ctx, r); }));
    router.add(route("POST", "/export", AccessPolicy::User,
                     "CSV of a query: JSON-DATA = {queryString, extraFields, providers}",
                     [ctx](const HttpRequest& r) { return exportPost(*ctx, r); }));
    router.add(route("POST", "/exportFile", AccessPolicy::User,
                     "Write a CSV export: query, fields (JSON array), providers*, expand → {uid}",
                     [ctx](const HttpRequest& r) { return exportFilePost(*ctx, r); }));
    router.add(route("GET", "/exportFile", AccessPolicy::User, "Download a written export: UID",
                     [ctx](const HttpRequest& r) { return exportFileGet(*ctx, r); }));
    router.add(route("GET", "/export/list", AccessPolicy::User, "Every attribute keyword of the data dictionary",
                     [](const HttpRequest& r) { return exportList(r); }));
}

}  // namespace tessera::server
