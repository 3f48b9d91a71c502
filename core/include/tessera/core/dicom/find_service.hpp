#pragma once
// C-FIND answers from the index: a FindQuery run over the DIM providers, one response per
// patient, study, series or instance as the level asks.
//
// How a level is answered:
//  - IMAGE: one response per matching instance (by SOPInstanceUID, each once), streamed.
//  - SERIES, STUDY, PATIENT: the counts and ModalitiesInStudy cover the whole entity, not only
//    the records that matched (a study with CT and PR found by ModalitiesInStudy=CT answers
//    `CT\PR`). Pass 1 collects the distinct entities (SeriesInstanceUID, StudyInstanceUID,
//    PatientID or PatientName when the ID is empty) of the matching records, in
//    first-appearance order, and aggregates every record the providers return for the query
//    (matching or not) into its entity. Pass 2, kGroupsPerQuery entities at a time, adds the
//    records of those entities that the query did not reach (`entities AND NOT query`; nothing
//    when the query is universal), so each record is read once. Memory: the aggregates of the
//    records pass 1 saw, up to maxHeldBytes (an estimate); past that pass 1 drops them and
//    pass 2 reads every record of the entities instead (the entity list plus one chunk in
//    memory). Records without the entity's UID are left out, except at PATIENT level, where
//    the records with neither PatientID nor PatientName form one anonymous patient (as in the
//    DIM view), aggregated over its matching records only (no term finds the rest).
//  - Every requested key is in the response: its value from the first record of the entity that
//    has one (when pass 1 held the aggregates, the records the query reached come first),
//    "" when none has. Computed keys:
//    NumberOfPatientRelated{Studies,Series,Instances} (PATIENT), NumberOfStudyRelated{Series,
//    Instances} and ModalitiesInStudy, every distinct modality in first-appearance order, in the
//    same record order (STUDY), NumberOfSeriesRelatedInstances (SERIES);
//    QueryRetrieveLevel is echoed; SpecificCharacterSet is "ISO_IR 192" when any value is not
//    ASCII, else "" (values are UTF-8 as indexed).
//
// Thread-safety: const methods may run concurrently (QueryService allows it).
// Ownership: borrows the QueryService.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tessera/core/dicom/find_query.hpp"

namespace tessera::core {

class QueryService;

struct FindRequest {
    QueryLevel level = QueryLevel::Study;
    std::vector<FindKey> keys;  ///< the identifier's attributes (QueryRetrieveLevel may be among them)
};

/// One response: a value for every requested keyword plus QueryRetrieveLevel and
/// SpecificCharacterSet.
using FindResponse = std::map<std::string, std::string>;

class FindService {
public:
    /// Entities aggregated per provider query in the second pass.
    static constexpr std::size_t kGroupsPerQuery = 64;

    /// What pass 1 may hold of aggregates (estimated bytes) before it falls back to reading
    /// every record of the matching entities in pass 2.
    static constexpr std::size_t kMaxHeldBytes = std::size_t{16} << 20;

    explicit FindService(const QueryService& queries);
    /// With another budget for pass 1 (0: always read every record of the entities in pass 2).
    FindService(const QueryService& queries, std::size_t maxHeldBytes);

    /// Calls `visit` for each response in order; `visit` returns false to stop (C-CANCEL).
    /// Returns how many responses were visited. Throws what QueryService throws (sdk::Error).
    std::size_t find(const FindRequest& request, const std::function<bool(const FindResponse&)>& visit) const;

    /// The field that identifies an entity of a level (PatientID, StudyInstanceUID,
    /// SeriesInstanceUID, SOPInstanceUID): what C-MOVE and C-GET retrieve by.
    static const char* uniqueKey(QueryLevel level);

private:
    const QueryService& queries_;
    std::size_t maxHeldBytes_ = kMaxHeldBytes;
};

}  // namespace tessera::core
