#pragma once
// C-FIND identifiers in and responses out: the DCMTK side of core::FindQuery/FindService.
//
// In: every top-level attribute of the identifier becomes a FindKey (public keyword, VR, value
// decoded to UTF-8 by the identifier's Specific Character Set). Group lengths and private
// attributes are dropped; sequences are kept as keys with an empty value (not matched).
// Out: a copy of the identifier's attributes in the same order, each set to the response value
// (a sequence stays an empty sequence), QueryRetrieveLevel echoed, SpecificCharacterSet
// "ISO_IR 192" when a value is not ASCII (added then even when not asked for), RetrieveAETitle
// our AE title and InstanceAvailability ONLINE when asked for.
//
// Thread-safety: pure functions.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <memory>
#include <optional>
#include <string>

#include "tessera/core/dicom/find_service.hpp"

namespace tessera::server {

struct ParsedIdentifier {
    std::optional<core::QueryLevel> level;  ///< nullopt: QueryRetrieveLevel missing or not valid
    std::string levelText;                  ///< as sent, for the error comment
    std::vector<core::FindKey> keys;
    bool hasSequenceKeys = false;  ///< matching on sequence contents is not supported
};

ParsedIdentifier readIdentifier(DcmDataset& identifier);

std::unique_ptr<DcmDataset> responseIdentifier(DcmDataset& identifier, const core::FindResponse& response,
                                               const std::string& retrieveAeTitle);

}  // namespace tessera::server
