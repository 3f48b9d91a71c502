#pragma once
// The stored data of one indexed document: the URI and every attribute as (field id, raw value)
// in visiting order, in a compact binary form (LEB128 lengths). Keywords are not repeated in
// every document; the FieldCatalogue maps ids back to keywords.
//
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::plugins::xapian {

class DocumentEncoder {
public:
    explicit DocumentEncoder(std::string_view uri);
    void add(std::uint32_t fieldId, std::string_view value);
    const std::string& data() const noexcept { return data_; }

private:
    std::string data_;
};

struct DecodedDocument {
    std::string uri;
    std::vector<std::pair<std::uint32_t, std::string_view>> attributes;  ///< views into the data
};

/// Decodes data written by DocumentEncoder; nullopt when it is damaged or of another version.
/// The string_views point into `data`.
std::optional<DecodedDocument> decodeDocument(std::string_view data);

}  // namespace tessera::plugins::xapian
