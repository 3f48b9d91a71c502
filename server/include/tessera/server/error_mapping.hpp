#pragma once
// The one table from sdk::ErrorCode to an HTTP status and to a DIMSE status.

#include <cstdint>

#include "tessera/sdk/error.hpp"

namespace tessera::server {

/// HTTP status for an error code (400, 401, 403, 404, 409, 413, 500, 503, 504, ...).
int httpStatusFor(sdk::ErrorCode code) noexcept;

/// DIMSE status for a failed DIMSE operation with this cause (PS3.7 Annex C; the service-class
/// specific codes are chosen by the SCP where the standard gives a better one).
std::uint16_t dimseStatusFor(sdk::ErrorCode code) noexcept;

}  // namespace tessera::server
