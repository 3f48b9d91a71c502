#include "dicom/instance_source.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <Poco/Logger.h>
#include <Poco/TemporaryFile.h>

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

}  // namespace

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
    DcmFileFormat format;
    if (format.loadFile(OFFilename(file.path.c_str()), EXS_Unknown, EGL_noChange, 0, ERM_metaOnly).bad()) {
        logger().warning("Not a DICOM file: %s", uri.str());
        release(file);
        return std::nullopt;
    }
    OFString sopClass, sopInstance, transferSyntax;
    auto* meta = format.getMetaInfo();
    meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
    meta->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sopInstance);
    meta->findAndGetOFString(DCM_TransferSyntaxUID, transferSyntax);
    if (sopClass.empty() || transferSyntax.empty()) {
        logger().warning("No SOP class or transfer syntax in the meta header of %s", uri.str());
        release(file);
        return std::nullopt;
    }
    file.sopClassUid = sopClass.c_str();
    file.sopInstanceUid = sopInstance.c_str();
    file.transferSyntaxUid = transferSyntax.c_str();
    return file;
}

void InstanceSource::release(const RetrievedFile& file) {
    if (!file.temporary) return;
    std::error_code ignored;
    std::filesystem::remove(file.path, ignored);
}

}  // namespace tessera::server
