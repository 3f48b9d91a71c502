#pragma once
/// @file search_result.hpp
/// One hit of a query: where the object is stored and the fields that were asked for.
///
/// Thread-safety: value type.
/// @since 1.0

#include <map>
#include <string>

#include "tessera/sdk/uri.hpp"

namespace tessera::sdk {

/// @since 1.0
struct SearchResult {
    Uri uri;
    /// Requested fields that the object has, by DICOM keyword; values as indexed (UTF-8, trimmed).
    std::map<std::string, std::string> fields;
    double score = 0.0;
};

}  // namespace tessera::sdk
