#include "dicom/instance_source.hpp"

#include <Poco/Logger.h>
#include <Poco/TemporaryFile.h>

#include <cstring>
#include <fstream>

#include "tessera/core/dicom/find_service.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom.query");
}

std::vector<std::string> splitUids(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\\', start);
        if (end == std::string::npos) end = text.size();
        std::string value = text.substr(start, end - start);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
        while (!value.empty() && value.front() == ' ') value.erase(value.begin());
        if (!value.empty()) out.push_back(std::move(value));
        start = end + 1;
    }
    return out;
}

std::uint32_t le16(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// Explicit VR encodings with a 4-byte length (PS3.5 7.1.2).
bool hasLongLength(const unsigned char* vr) {
    static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* candidate : kLong) {
        if (vr[0] == candidate[0] && vr[1] == candidate[1]) return true;
    }
    return false;
}

// Enough for any meta group we have seen; a longer one is read again from the whole file.
constexpr std::size_t kHeaderPrefix = 8192;

std::optional<Part10Header> readHeader(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string bytes(kHeaderPrefix, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    auto header = parsePart10Header(bytes.data(), bytes.size());
    if (header || bytes.size() < kHeaderPrefix) return header;
    in.clear();
    in.seekg(0);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return parsePart10Header(bytes.data(), bytes.size());
}

}  // namespace

std::optional<Part10Header> parsePart10Header(const char* bytes, std::size_t size) {
    const auto* data = reinterpret_cast<const unsigned char*>(bytes);
    if (size < 132 || std::memcmp(data + 128, "DICM", 4) != 0) return std::nullopt;
    Part10Header header;
    std::size_t pos = 132;
    while (true) {
        // The data set must follow: running out of bytes inside the meta group is a failure.
        if (pos + 8 > size) return std::nullopt;
        if (le16(data + pos) != 0x0002) break;
        const std::uint32_t element = le16(data + pos + 2);
        std::size_t headerLength = 8;
        std::uint64_t length = le16(data + pos + 6);
        if (hasLongLength(data + pos + 4)) {
            if (pos + 12 > size) return std::nullopt;
            headerLength = 12;
            length = le32(data + pos + 8);
        }
        if (length == 0xFFFFFFFFu || pos + headerLength + length > size) return std::nullopt;
        if (element == 0x0002 || element == 0x0003 || element == 0x0010) {
            std::string value(bytes + pos + headerLength, static_cast<std::size_t>(length));
            while (!value.empty() && (value.back() == '\0' || value.back() == ' ')) value.pop_back();
            (element == 0x0002   ? header.sopClassUid
             : element == 0x0003 ? header.sopInstanceUid
                                 : header.transferSyntaxUid) = std::move(value);
        }
        pos += headerLength + static_cast<std::size_t>(length);
    }
    if (header.sopClassUid.empty() || header.transferSyntaxUid.empty()) return std::nullopt;
    header.dataSetOffset = pos;
    return header;
}

InstanceSource::InstanceSource(const core::QueryService& queries, const core::ProviderRegistry& registry)
    : queries_(queries), registry_(registry) {}

std::vector<sdk::Uri> InstanceSource::urisFor(core::QueryLevel level, const std::string& uids) const {
    const auto values = splitUids(uids);
    if (values.empty()) return {};
    return queries_.urisMatching(core::FindService::uniqueKey(level), values);
}

std::optional<RetrievedFile> InstanceSource::open(const sdk::Uri& uri) const {
    RetrievedFile file;
    try {
        auto* storage = registry_.storageForUri(uri);
        if (!storage) {
            logger().warning("No storage provider serves %s", uri.str());
            return std::nullopt;
        }
        if (auto local = storage->localPath(uri)) {
            file.path = *local;
        } else {
            auto in = storage->open(uri);
            file.path = Poco::TemporaryFile::tempName() + ".dcm";
            file.temporary = true;
            std::ofstream out(file.path, std::ios::binary);
            out << in->rdbuf();
            if (!out) {
                release(file);
                return std::nullopt;
            }
        }
    } catch (const std::exception& e) {
        logger().warning("Cannot open %s: %s", uri.str(), std::string(e.what()));
        return std::nullopt;
    }
    const auto header = readHeader(file.path);
    if (!header) {
        logger().warning("Not a DICOM Part 10 file with a SOP class and transfer syntax: %s", uri.str());
        release(file);
        return std::nullopt;
    }
    file.sopClassUid = header->sopClassUid;
    file.sopInstanceUid = header->sopInstanceUid;
    file.transferSyntaxUid = header->transferSyntaxUid;
    file.dataSetOffset = header->dataSetOffset;
    return file;
}

void InstanceSource::release(const RetrievedFile& file) {
    if (!file.temporary) return;
    std::error_code ignored;
    std::filesystem::remove(file.path, ignored);
}

}  // namespace tessera::server
