// Search: /search, /searchDIM and /dump in Dicoogle 3's shapes (behaviour reference §1 Search,
// §2). The JSON is written by hand with jsonQuote: a page can hold many results, and jsonQuote
// keeps the output valid whatever bytes an index holds.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "request_values.hpp"
#include "search_parameters.hpp"
#include "tessera/core/dim_builder.hpp"
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

using sdk::AccessPolicy;
using sdk::HttpRequest;
using sdk::HttpResponse;

// Dicoogle's default field list (§2; `uri` left out since #644).
const std::vector<std::string> kDefaultFields = {
    "SOPInstanceUID", "StudyInstanceUID",  "SeriesInstanceUID", "PatientID",     "PatientName",
    "PatientSex",     "Modality",          "StudyDate",         "StudyID",       "StudyDescription",
    "SeriesNumber",   "SeriesDescription", "InstitutionName",   "InstanceNumber"};

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.search");
}

// `{"results":[],"error":"..."}`, the shape of every search-style error.
HttpResponse searchError(int status, std::string_view message) {
    return HttpResponse::json("{\"results\":[],\"error\":" + jsonQuote(message) + "}", status);
}

// Runs a handler body, turning failures into the endpoint's error shape.
template <typename Body, typename ErrorShape>
HttpResponse guarded(const HttpRequest& request, Body body, ErrorShape errorShape) {
    try {
        return body();
    } catch (const sdk::Error& e) {
        const int status = httpStatusFor(e.code());
        if (status >= 500) logger().error("%s %s: %s", request.method, request.path, std::string(e.what()));
        return errorShape(status, e.what());
    } catch (const std::exception& e) {
        logger().error("%s %s: %s", request.method, request.path, std::string(e.what()));
    }
    return errorShape(500, "Could not generate results");
}

long long elapsedMs(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
}

void appendFields(std::string& out, const std::map<std::string, std::string>& fields) {
    out.push_back('{');
    bool first = true;
    for (const auto& [name, value] : fields) {
        if (!first) out.push_back(',');
        first = false;
        out += jsonQuote(name);
        out.push_back(':');
        out += jsonQuote(value);
    }
    out.push_back('}');
}

// The parameters /search and /searchDIM share; throws ParameterError for a bad one.
struct SearchRequest {
    std::string query;
    core::SearchOptions options;
};

SearchRequest readSearchRequest(const HttpRequest& request) {
    SearchRequest out;
    out.query = requireQuery(request.param("query"));
    out.options.providers = nonEmptyValues(request.paramList("provider"));
    out.options.offset = nonNegativeParam(request, "offset").value_or(0);
    out.options.limit = nonNegativeParam(request, "psize");
    out.options.expand = parseBooleanParam(request.param("expand"), true);
    out.options.dimOnly = true;
    // `keyword` is accepted and ignored, as Dicoogle does since 2017.
    return out;
}

HttpResponse search(ServerContext& context, const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    return guarded(
        request,
        [&] {
            if (request.hasParam("depth"))
                return searchError(400, "Parameter depth is only applicable to /searchDIM endpoint");
            auto parsed = readSearchRequest(request);
            parsed.options.fields = nonEmptyValues(request.paramList("field"));
            if (parsed.options.fields.empty()) parsed.options.fields = kDefaultFields;
            const auto outcome = context.queries.search(parsed.query, parsed.options);

            std::string body = "{\"results\":[";
            bool first = true;
            for (const auto& result : outcome.results) {
                if (!first) body.push_back(',');
                first = false;
                body += "{\"uri\":" + jsonQuote(result.uri.str()) + ",\"fields\":";
                appendFields(body, result.fields);
                body.push_back('}');
            }
            body += "],\"elapsedTime\":" + std::to_string(elapsedMs(started));
            body += ",\"numResults\":" + std::to_string(outcome.total) + "}";
            return HttpResponse::json(std::move(body));
        },
        searchError);
}

void appendDimPatients(std::string& out, const std::vector<core::DimPatient>& patients, core::DimDepth depth) {
    using core::DimDepth;
    out += "[";
    for (std::size_t p = 0; p < patients.size(); ++p) {
        const auto& patient = patients[p];
        if (p) out.push_back(',');
        out += "{\"id\":" + jsonQuote(patient.id) + ",\"name\":" + jsonQuote(patient.name) +
               ",\"gender\":" + jsonQuote(patient.gender) + ",\"birthdate\":" + jsonQuote(patient.birthdate) +
               ",\"nStudies\":" + std::to_string(patient.studies.size());
        if (depth >= DimDepth::Study) {
            out += ",\"studies\":[";
            for (std::size_t s = 0; s < patient.studies.size(); ++s) {
                const auto& study = patient.studies[s];
                if (s) out.push_back(',');
                std::string modalities;
                for (const auto& modality : study.modalities) modalities += (modalities.empty() ? "" : ",") + modality;
                out += "{\"studyInstanceUID\":" + jsonQuote(study.instanceUid) +
                       ",\"studyDate\":" + jsonQuote(study.date) +
                       ",\"studyDescription\":" + jsonQuote(study.description) +
                       ",\"institutionName\":" + jsonQuote(study.institutionName) +
                       ",\"modalities\":" + jsonQuote(modalities);
                if (depth >= DimDepth::Series) {
                    out += ",\"series\":[";
                    for (std::size_t r = 0; r < study.series.size(); ++r) {
                        const auto& series = study.series[r];
                        if (r) out.push_back(',');
                        out += "{\"serieNumber\":" + std::to_string(series.number) +
                               ",\"serieInstanceUID\":" + jsonQuote(series.instanceUid) +
                               ",\"serieDescription\":" + jsonQuote(series.description) +
                               ",\"serieModality\":" + jsonQuote(series.modality);
                        if (depth >= DimDepth::Image) {
                            out += ",\"images\":[";
                            for (std::size_t i = 0; i < series.images.size(); ++i) {
                                const auto& image = series.images[i];
                                if (i) out.push_back(',');
                                out += "{\"sopInstanceUID\":" + jsonQuote(image.sopInstanceUid) +
                                       ",\"uri\":" + jsonQuote(image.uri) + ",\"rawPath\":" + jsonQuote(image.rawPath) +
                                       ",\"filename\":" + jsonQuote(image.filename);
                                if (image.number) out += ",\"number\":" + std::to_string(*image.number);
                                out.push_back('}');
                            }
                            out.push_back(']');
                        }
                        out.push_back('}');
                    }
                    out.push_back(']');
                }
                out.push_back('}');
            }
            out.push_back(']');
        }
        out.push_back('}');
    }
    out += "]";
}

// The DIM view asks providers for the fields it shows (DimBuilder::fields()); a `field`
// parameter is accepted and ignored (the official client never sends one).
HttpResponse searchDim(ServerContext& context, const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    return guarded(
        request,
        [&] {
            auto parsed = readSearchRequest(request);
            core::DimDepth depth = core::DimDepth::Image;
            if (auto text = request.param("depth")) {
                auto chosen = core::parseDimDepth(*text);
                if (!chosen)
                    return searchError(400,
                                       "Invalid parameter depth: must be one of none, patient, study, series, image");
                depth = *chosen;
            }
            const sdk::QueryNode query = parsed.options.expand ? core::QueryService::expandFreeText(parsed.query)
                                                               : core::parseQuery(parsed.query);
            core::DimSearchOptions options;
            options.providers = parsed.options.providers;
            options.offset = parsed.options.offset;
            options.limit = parsed.options.limit;
            options.depth = depth;
            const auto page = core::searchDim(context.queries, query, parsed.query, options);

            std::string body = "{\"numResults\":" + std::to_string(page.totalPatients);
            body += ",\"elapsedTime\":" + std::to_string(elapsedMs(started));
            if (depth != core::DimDepth::None) {
                body += ",\"results\":";
                appendDimPatients(body, page.patients, depth);
            }
            body.push_back('}');
            return HttpResponse::json(std::move(body));
        },
        searchError);
}

// Several matches give the first one (Dicoogle merges their fields, mixing objects); none gives
// Dicoogle's `{"results":{"fields":{}}}`, which clients render as an empty dump.
HttpResponse dump(ServerContext& context, const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    return guarded(
        request,
        [&] {
            const auto uid = trimmedValue(request.param("uid").value_or(""));
            if (uid.empty()) return jsonError(400, "No uid supplied!");
            core::SearchOptions options;
            options.providers = nonEmptyValues(request.paramList("provider"));
            options.fields = {"*"};
            options.limit = 1;
            options.dimOnly = true;
            const auto outcome = context.queries.search(sdk::TermQuery{"SOPInstanceUID", uid},
                                                        "SOPInstanceUID:\"" + uid + "\"", options);
            std::string body = "{\"results\":{";
            if (!outcome.results.empty()) body += "\"uri\":" + jsonQuote(outcome.results.front().uri.str()) + ",";
            body += "\"fields\":";
            if (outcome.results.empty())
                body += "{}";
            else
                appendFields(body, outcome.results.front().fields);
            body += "},\"elapsedTime\":" + std::to_string(elapsedMs(started)) + "}";
            return HttpResponse::json(std::move(body));
        },
        [](int status, std::string_view message) { return jsonError(status, message); });
}

}  // namespace

void addSearchRoutes(Router& router, ServerContext& context) {
    auto* ctx = &context;
    router.add(route("GET", "/search", AccessPolicy::User,
                     "Search: query, provider*, field*, psize, offset, expand → {results, elapsedTime, numResults}",
                     [ctx](const HttpRequest& r) { return search(*ctx, r); }));
    router.add(route("GET", "/searchDIM", AccessPolicy::User,
                     "Search grouped patient/study/series/image: query, provider*, psize, offset (patients), depth",
                     [ctx](const HttpRequest& r) { return searchDim(*ctx, r); }));
    router.add(route("GET", "/dump", AccessPolicy::User, "Every indexed attribute of one instance: uid, provider*",
                     [ctx](const HttpRequest& r) { return dump(*ctx, r); }));
}

}  // namespace tessera::server
