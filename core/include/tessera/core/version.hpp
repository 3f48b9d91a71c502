#pragma once
// Tessera's own version, and the Dicoogle API version it speaks.

namespace tessera::core {

/// Tessera's release version (from the top-level project()).
const char* tesseraVersion() noexcept;

/// What GET /ext/version reports: the Dicoogle 3 API level Tessera implements, then our version,
/// in Dicoogle's "3.x.y-<build>" form so that clients reading the major version keep working.
const char* dicoogleApiVersion() noexcept;

}  // namespace tessera::core
