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

/// Walks data written by DocumentEncoder without copying or allocating (what a search does for
/// every hit). The views point into `data`, which must outlive the reader.
class DocumentReader {
public:
    explicit DocumentReader(std::string_view data) noexcept;

    /// False when the header is damaged or of another version.
    bool valid() const noexcept { return valid_; }
    std::string_view uri() const noexcept { return uri_; }

    /// The next attribute; false at the end or at damage (then valid() turns false).
    /// Inline for the common case (id and length below 128, one byte each): a search walks
    /// every attribute of every hit up to the ones it wants.
    bool next(std::uint32_t& fieldId, std::string_view& value) noexcept {
        if (valid_ && rest_.size() >= 2) {
            const auto id = static_cast<unsigned char>(rest_[0]);
            const auto length = static_cast<unsigned char>(rest_[1]);
            if (id != 0 && id < 0x80 && length < 0x80 && length <= rest_.size() - 2) {
                fieldId = id;
                value = rest_.substr(2, length);
                rest_.remove_prefix(2 + std::size_t{length});
                return true;
            }
        }
        return nextSlow(fieldId, value);
    }

private:
    bool nextSlow(std::uint32_t& fieldId, std::string_view& value) noexcept;

    std::string_view rest_;
    std::string_view uri_;
    bool valid_ = false;
};

}  // namespace tessera::plugins::xapian
