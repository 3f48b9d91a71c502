#include "tessera/plugins/xapian/document_codec.hpp"

namespace tessera::plugins::xapian {

namespace {

constexpr char kVersion = 1;

void putVarint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

bool getVarint(std::string_view& in, std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        const auto byte = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

bool getBytes(std::string_view& in, std::string_view& out) {
    std::uint64_t length = 0;
    if (!getVarint(in, length) || length > in.size()) return false;
    out = in.substr(0, static_cast<std::size_t>(length));
    in.remove_prefix(static_cast<std::size_t>(length));
    return true;
}

}  // namespace

DocumentEncoder::DocumentEncoder(std::string_view uri) {
    data_.reserve(1024);
    data_.push_back(kVersion);
    putVarint(data_, uri.size());
    data_.append(uri);
}

void DocumentEncoder::add(std::uint32_t fieldId, std::string_view value) {
    putVarint(data_, fieldId);
    putVarint(data_, value.size());
    data_.append(value);
}

DocumentReader::DocumentReader(std::string_view data) noexcept {
    if (data.empty() || data.front() != kVersion) return;
    data.remove_prefix(1);
    if (!getBytes(data, uri_)) return;
    rest_ = data;
    valid_ = true;
}

bool DocumentReader::nextSlow(std::uint32_t& fieldId, std::string_view& value) noexcept {
    if (!valid_ || rest_.empty()) return false;
    std::uint64_t id = 0;
    if (!getVarint(rest_, id) || id == 0 || id > 0xffffffffu || !getBytes(rest_, value)) {
        valid_ = false;
        return false;
    }
    fieldId = static_cast<std::uint32_t>(id);
    return true;
}

std::optional<DecodedDocument> decodeDocument(std::string_view data) {
    DocumentReader reader(data);
    if (!reader.valid()) return std::nullopt;
    DecodedDocument doc;
    doc.uri = std::string(reader.uri());
    std::uint32_t id = 0;
    std::string_view value;
    while (reader.next(id, value)) doc.attributes.emplace_back(id, value);
    if (!reader.valid()) return std::nullopt;
    return doc;
}

}  // namespace tessera::plugins::xapian
