#include "tessera/core/dicom/find_service.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "tessera/core/dim_builder.hpp"
#include "tessera/core/query_service.hpp"

namespace tessera::core {
namespace {

const std::string kNone;

const std::string& fieldOf(const std::map<std::string, std::string>& fields, const std::string& name) {
    const auto it = fields.find(name);
    return it == fields.end() ? kNone : it->second;
}

void addUnique(std::vector<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

bool isAscii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

const std::string kStudyUid = "StudyInstanceUID";
const std::string kSeriesUid = "SeriesInstanceUID";
const std::string kSopUid = "SOPInstanceUID";
const std::string kModality = "Modality";

// What pass 1 counts against FindService::maxHeldBytes_ (a generous estimate of the heap an
// Aggregate takes): per entity (its key and first values), per record (its instance UID).
constexpr std::size_t kHeldEntityBytes = 1536;
constexpr std::size_t kHeldRecordBytes = 192;

struct Aggregate {
    std::map<std::string, std::string> values;  // first non-empty value per field
    std::unordered_set<std::string> studies;
    std::unordered_set<std::string> series;
    std::unordered_set<std::string> instances;
    std::vector<std::string> modalities;

    void add(const sdk::SearchResult& result) {
        // Both maps are sorted by name: one merge walk instead of a lookup per field.
        auto at = values.begin();
        for (const auto& [name, value] : result.fields) {
            if (value.empty()) continue;
            int order = 1;
            while (at != values.end() && (order = at->first.compare(name)) < 0) ++at;
            if (at != values.end() && order == 0) continue;  // the first value stays
            at = std::next(values.emplace_hint(at, name, value));
        }
        const auto& study = fieldOf(result.fields, kStudyUid);
        const auto& seriesUid = fieldOf(result.fields, kSeriesUid);
        const auto& sop = fieldOf(result.fields, kSopUid);
        const auto& modality = fieldOf(result.fields, kModality);
        if (!study.empty()) studies.insert(study);
        if (!seriesUid.empty()) series.insert(seriesUid);
        instances.insert(sop.empty() ? result.uri.str() : sop);
        if (!modality.empty()) addUnique(modalities, modality);
    }
};

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

// groupId(groupOf(level, fields)) into `key`, reusing its buffer (called once per record).
// Returns whether the record has the entity's value (at PATIENT level: an ID or a name).
bool groupKeyOf(QueryLevel level, const std::map<std::string, std::string>& fields, std::string& key) {
    if (level == QueryLevel::Patient) {
        const auto& id = fieldOf(fields, "PatientID");
        const bool byId = !id.empty();
        const auto& value = byId ? id : fieldOf(fields, "PatientName");
        key.assign(byId ? "PatientID" : "PatientName").append(1, '\n').append(value);
        return !value.empty();
    }
    // Named once: a std::string built from uniqueKey() per record would be an allocation each.
    static const std::string kSeriesKey = FindService::uniqueKey(QueryLevel::Series);
    static const std::string kImageKey = FindService::uniqueKey(QueryLevel::Image);
    const std::string& field = level == QueryLevel::Study    ? kStudyUid
                               : level == QueryLevel::Series ? kSeriesKey
                                                             : kImageKey;
    const auto& value = fieldOf(fields, field);
    key.assign(field).append(1, '\n').append(value);
    return !value.empty();
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
        const auto count = [](const std::unordered_set<std::string>& set) { return std::to_string(set.size()); };
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

FindService::FindService(const QueryService& queries) : FindService(queries, kMaxHeldBytes) {}

FindService::FindService(const QueryService& queries, std::size_t maxHeldBytes)
    : queries_(queries), maxHeldBytes_(maxHeldBytes) {}

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
        addField(fields, kSopUid);
        std::unordered_set<std::string> seen;
        queries_.forEach(query.query(), query.text(), providers, fields, [&](const sdk::SearchResult& result) {
            if (!query.matches(result.fields)) return true;
            const auto& sop = fieldOf(result.fields, kSopUid);
            if (!seen.insert(sop.empty() ? result.uri.str() : sop).second) return true;
            ++visited;
            return visit(shaper.shape(result.fields, nullptr));
        });
        return visited;
    }

    // What both passes fetch: the response values, the aggregates' fields and the conditions'.
    auto fields = shaper.valueFields();
    for (const char* field : {"PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                              "Modality"})
        addField(fields, field);
    for (const auto& field : query.fields()) addField(fields, field);

    // Pass 1: the matching entities, in first-appearance order. While the aggregates fit in
    // maxHeldBytes_, every record the providers return (matching or not) is also aggregated into
    // its entity, so that pass 2 needs only the records the query did not reach.
    std::vector<std::pair<std::string, std::string>> groups;
    std::unordered_map<std::string, Aggregate> held;
    bool holding = true;
    std::size_t heldBytes = 0;
    {
        std::unordered_set<std::string> seen;
        std::string key;
        queries_.forEach(query.query(), query.text(), providers, fields, [&](const sdk::SearchResult& result) {
            const bool named = groupKeyOf(request.level, result.fields, key);
            if (!named && request.level != QueryLevel::Patient) return true;
            const bool match = query.matches(result.fields);
            if (match && !seen.contains(key)) {
                seen.insert(key);
                groups.push_back(groupOf(request.level, result.fields));
            }
            // The anonymous patient is aggregated over its matching records only (no term finds
            // the rest), as below.
            if (!holding || (!named && !match)) return true;
            auto it = held.find(key);
            heldBytes += kHeldRecordBytes + (it == held.end() ? kHeldEntityBytes : 0);
            if (heldBytes > maxHeldBytes_) {
                holding = false;  // too much to hold: pass 2 reads every record of the entities
                held = {};
                return true;
            }
            if (it == held.end()) it = held.try_emplace(key).first;
            it->second.add(result);
            return true;
        });
    }

    // Emits the aggregates of `chunk`, in order; false when the visitor stopped.
    const auto emit = [&](const std::vector<std::pair<std::string, std::string>>& chunk,
                          std::unordered_map<std::string, Aggregate>& aggregates) {
        for (const auto& group : chunk) {
            const auto it = aggregates.find(groupId(group));
            if (it == aggregates.end() || it->second.instances.empty()) continue;  // removed between the passes
            ++visited;
            const bool more = visit(shaper.shape(it->second.values, &it->second));
            aggregates.erase(it);
            if (!more) return false;
        }
        return true;
    };
    // Aggregates the records of `chunk` found by `chunkQuery` into `aggregates`.
    const auto aggregateChunk = [&](const std::vector<std::pair<std::string, std::string>>& chunk,
                                    const sdk::QueryNode& chunkQuery, const std::string& text, bool mustMatch,
                                    std::unordered_map<std::string, Aggregate>& aggregates) {
        for (const auto& group : chunk) aggregates.try_emplace(groupId(group));
        std::string key;
        queries_.forEach(chunkQuery, text, providers, fields, [&](const sdk::SearchResult& result) {
            // Providers match terms by words too: only records of exactly these entities count.
            groupKeyOf(request.level, result.fields, key);
            const auto it = aggregates.find(key);
            if (it == aggregates.end() || (mustMatch && !query.matches(result.fields))) return true;
            it->second.add(result);
            return true;
        });
    };

    // Pass 2, kGroupsPerQuery entities at a time: the records of the entities that pass 1 did
    // not aggregate. When it held them, those are the records outside the query (none when the
    // query is universal); otherwise every record of the entities.
    const bool complementOnly = holding;
    std::vector<std::pair<std::string, std::string>> chunk;
    const auto flush = [&] {
        if (chunk.empty()) return true;
        if (complementOnly && query.universal()) {
            const bool more = emit(chunk, held);
            chunk.clear();
            return more;
        }
        sdk::BooleanQuery anyOf;
        std::string text;
        for (const auto& group : chunk) {
            anyOf.clauses.push_back({sdk::Occur::Should, sdk::TermQuery{group.first, group.second}});
            text += (text.empty() ? "" : " OR ") + group.first + ":\"" + group.second + "\"";
        }
        sdk::QueryNode chunkQuery =
            anyOf.clauses.size() == 1 ? anyOf.clauses.front().node : sdk::QueryNode(std::move(anyOf));
        std::unordered_map<std::string, Aggregate> fresh;
        auto& aggregates = complementOnly ? held : fresh;
        if (complementOnly) {
            sdk::BooleanQuery outside;
            outside.clauses.push_back({sdk::Occur::Must, std::move(chunkQuery)});
            outside.clauses.push_back({sdk::Occur::MustNot, query.query()});
            chunkQuery = std::move(outside);
            text = "(" + text + ") AND NOT (" + query.text() + ")";
        }
        aggregateChunk(chunk, chunkQuery, text, false, aggregates);
        const bool more = emit(chunk, aggregates);
        chunk.clear();
        return more;
    };
    for (auto& group : groups) {
        if (group.second.empty()) {
            // A patient with neither ID nor name has no term to find its records by: its
            // matching records are all we can know of it.
            if (!flush()) return visited;
            std::vector<std::pair<std::string, std::string>> alone{group};
            if (complementOnly) {
                if (!emit(alone, held)) return visited;
                continue;
            }
            std::unordered_map<std::string, Aggregate> aggregates;
            aggregateChunk(alone, query.query(), query.text(), true, aggregates);
            if (!emit(alone, aggregates)) return visited;
            continue;
        }
        chunk.push_back(std::move(group));
        if (chunk.size() == kGroupsPerQuery && !flush()) return visited;
    }
    flush();
    return visited;
}

}  // namespace tessera::core
