#include "tessera/core/version.hpp"

namespace tessera::core {

const char* tesseraVersion() noexcept { return TESSERA_VERSION; }

const char* dicoogleApiVersion() noexcept { return "3.5.1-tessera-" TESSERA_VERSION; }

}  // namespace tessera::core
