#include "tessera/core/dicom/find_service.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "tessera/core/dim_builder.hpp"
#include "tessera/core/query_service.hpp"

namespace tessera::core {
namespace {

struct Aggregate {
    std::map<std::string, std::string> values;  // first non-empty value per field
    std::set<std::string> studies;
    std::set<std::string> series;
    std::set<std::string> instances;
    std::vector<std::string> modalities;
};

std::string fieldOf(const std::map<std::string, std::string>& fields, const std::string& name) {
    const auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
}

void addUnique(std::vector<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

bool isAscii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The entity a record belongs to at an aggregated level, with the field that names it; an
// empty value when the record has none.
std::pair<std::string, std::string> groupOf(QueryLevel level, const std::map<std::string, std::string>& fields) {
    if (level == QueryLevel::Patient) {
        return {DimBuilder::keyIsPatientId(fields) ? "PatientID" : "PatientName", DimBuilder::patientKey(fields)};
    }
    const std::string field = FindService::uniqueKey(level);
    return {field, fieldOf(fields, field)};
}

std::string groupId(const std::pair<std::string, std::string>& group) {
    return group.first + '\n' + group.second;
}

void addField(std::vector<std::string>& fields, const std::string& field) {
    addUnique(fields, field);
}

class ResponseShaper {
public:
    explicit ResponseShaper(const FindRequest& request) : request_(request) {}

    // What the providers must return for the responses.
    std::vector<std::string> valueFields() const {
        std::vector<std::string> fields;
        for (const auto& key : request_.keys) {
            if (key.keyword.empty() || FindQuery::isReturnOnly(key.keyword)) continue;
            addField(fields, key.keyword == "ModalitiesInStudy" ? "Modality" : key.keyword);
        }
        return fields;
    }

    FindResponse shape(const std::map<std::string, std::string>& values, const Aggregate* aggregate) const {
        FindResponse response;
        bool ascii = true;
        for (const auto& key : request_.keys) {
            if (key.keyword.empty()) continue;
            std::string value = computed(key.keyword, aggregate)
                                    .value_or(FindQuery::isReturnOnly(key.keyword) || key.keyword == "ModalitiesInStudy"
                                                  ? std::string()
                                                  : fieldOf(values, key.keyword));
            ascii = ascii && isAscii(value);
            response[key.keyword] = std::move(value);
        }
        response["QueryRetrieveLevel"] = std::string(toString(request_.level));
        response["SpecificCharacterSet"] = ascii ? "" : "ISO_IR 192";
        return response;
    }

private:
    std::optional<std::string> computed(const std::string& keyword, const Aggregate* aggregate) const {
        if (!aggregate) return std::nullopt;
        const auto count = [](const std::set<std::string>& set) { return std::to_string(set.size()); };
        switch (request_.level) {
            case QueryLevel::Patient:
                if (keyword == "NumberOfPatientRelatedStudies") return count(aggregate->studies);
                if (keyword == "NumberOfPatientRelatedSeries") return count(aggregate->series);
                if (keyword == "NumberOfPatientRelatedInstances") return count(aggregate->instances);
                break;
            case QueryLevel::Study:
                if (keyword == "NumberOfStudyRelatedSeries") return count(aggregate->series);
                if (keyword == "NumberOfStudyRelatedInstances") return count(aggregate->instances);
                if (keyword == "ModalitiesInStudy") {
                    std::string joined;
                    for (const auto& modality : aggregate->modalities)
                        joined += (joined.empty() ? "" : "\\") + modality;
                    return joined;
                }
                break;
            case QueryLevel::Series:
                if (keyword == "NumberOfSeriesRelatedInstances") return count(aggregate->instances);
                break;
            case QueryLevel::Image:
                break;
        }
        return std::nullopt;
    }

    const FindRequest& request_;
};

}  // namespace

FindService::FindService(const QueryService& queries) : queries_(queries) {}

const char* FindService::uniqueKey(QueryLevel level) {
    switch (level) {
        case QueryLevel::Patient:
            return "PatientID";
        case QueryLevel::Study:
            return "StudyInstanceUID";
        case QueryLevel::Series:
            return "SeriesInstanceUID";
        case QueryLevel::Image:
            return "SOPInstanceUID";
    }
    return "SOPInstanceUID";
}

std::size_t FindService::find(const FindRequest& request, const std::function<bool(const FindResponse&)>& visit) const {
    const FindQuery query(request.keys);
    const ResponseShaper shaper(request);
    const auto providers = queries_.resolveProviders({}, true);
    std::size_t visited = 0;

    if (request.level == QueryLevel::Image) {
        auto fields = shaper.valueFields();
        for (const auto& field : query.fields()) addField(fields, field);
        addField(fields, "SOPInstanceUID");
        std::unordered_set<std::string> seen;
        queries_.forEach(query.query(), query.text(), providers, fields, [&](const sdk::SearchResult& result) {
            if (!query.matches(result.fields)) return true;
            const auto sop = fieldOf(result.fields, "SOPInstanceUID");
            if (!seen.insert(sop.empty() ? result.uri.str() : sop).second) return true;
            ++visited;
            return visit(shaper.shape(result.fields, nullptr));
        });
        return visited;
    }

    // Pass 1: the matching entities, in first-appearance order.
    std::vector<std::pair<std::string, std::string>> groups;
    {
        auto fields = query.fields();
        addField(fields, uniqueKey(request.level));
        if (request.level == QueryLevel::Patient) addField(fields, "PatientName");
        std::unordered_set<std::string> seen;
        queries_.forEach(query.query(), query.text(), providers, fields, [&](const sdk::SearchResult& result) {
            if (!query.matches(result.fields)) return true;
            auto group = groupOf(request.level, result.fields);
            if (group.second.empty() && request.level != QueryLevel::Patient) return true;
            if (seen.insert(groupId(group)).second) groups.push_back(std::move(group));
            return true;
        });
    }

    // Pass 2: every record of a chunk of entities, aggregated.
    auto fields = shaper.valueFields();
    for (const char* field :
         {"PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality"})
        addField(fields, field);
    for (const auto& field : query.fields()) addField(fields, field);
    // Aggregates the records of `chunk` found by `chunkQuery`; false when the visitor stopped.
    const auto aggregateChunk = [&](const std::vector<std::pair<std::string, std::string>>& chunk,
                                    const sdk::QueryNode& chunkQuery, const std::string& text, bool mustMatch) {
        std::unordered_map<std::string, Aggregate> aggregates;
        for (const auto& group : chunk) aggregates.emplace(groupId(group), Aggregate{});
        queries_.forEach(chunkQuery, text, providers, fields, [&](const sdk::SearchResult& result) {
            // Providers match terms by words too: only records of exactly these entities count.
            const auto it = aggregates.find(groupId(groupOf(request.level, result.fields)));
            if (it == aggregates.end() || (mustMatch && !query.matches(result.fields))) return true;
            auto& aggregate = it->second;
            for (const auto& [name, value] : result.fields) {
                if (!value.empty()) aggregate.values.emplace(name, value);
            }
            const auto study = fieldOf(result.fields, "StudyInstanceUID");
            const auto series = fieldOf(result.fields, "SeriesInstanceUID");
            const auto sop = fieldOf(result.fields, "SOPInstanceUID");
            const auto modality = fieldOf(result.fields, "Modality");
            if (!study.empty()) aggregate.studies.insert(study);
            if (!series.empty()) aggregate.series.insert(series);
            aggregate.instances.insert(sop.empty() ? result.uri.str() : sop);
            if (!modality.empty()) addUnique(aggregate.modalities, modality);
            return true;
        });
        for (const auto& group : chunk) {
            const auto& aggregate = aggregates.at(groupId(group));
            if (aggregate.instances.empty()) continue;  // removed from the index between the passes
            ++visited;
            if (!visit(shaper.shape(aggregate.values, &aggregate))) return false;
        }
        return true;
    };
    std::vector<std::pair<std::string, std::string>> chunk;
    const auto flush = [&] {
        if (chunk.empty()) return true;
        sdk::BooleanQuery anyOf;
        std::string text;
        for (const auto& group : chunk) {
            anyOf.clauses.push_back({sdk::Occur::Should, sdk::TermQuery{group.first, group.second}});
            text += (text.empty() ? "" : " OR ") + group.first + ":\"" + group.second + "\"";
        }
        const sdk::QueryNode chunkQuery =
            anyOf.clauses.size() == 1 ? anyOf.clauses.front().node : sdk::QueryNode(std::move(anyOf));
        const bool more = aggregateChunk(chunk, chunkQuery, text, false);
        chunk.clear();
        return more;
    };
    for (auto& group : groups) {
        if (group.second.empty()) {
            // A patient with neither ID nor name has no term to find its records by: its
            // matching records are all we can know of it.
            if (!flush() || !aggregateChunk({group}, query.query(), query.text(), true)) return visited;
            continue;
        }
        chunk.push_back(std::move(group));
        if (chunk.size() == kGroupsPerQuery && !flush()) return visited;
    }
    flush();
    return visited;
}

}  // namespace tessera::core
