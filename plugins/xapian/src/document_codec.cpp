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

std::optional<DecodedDocument> decodeDocument(std::string_view data) {
    if (data.empty() || data.front() != kVersion) return std::nullopt;
    data.remove_prefix(1);
    DecodedDocument doc;
    std::string_view uri;
    if (!getBytes(data, uri)) return std::nullopt;
    doc.uri = std::string(uri);
    while (!data.empty()) {
        std::uint64_t id = 0;
        std::string_view value;
        if (!getVarint(data, id) || id == 0 || id > 0xffffffffu || !getBytes(data, value)) return std::nullopt;
        doc.attributes.emplace_back(static_cast<std::uint32_t>(id), value);
    }
    return doc;
}

}  // namespace tessera::plugins::xapian
