#include "dicom/dicom_listener_config.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <limits>

#include "tessera/core/server_settings.hpp"

namespace tessera::server {
namespace {

// DCMTK refuses PDU sizes outside [4096, 131072] for what it offers; clamp rather than fail.
constexpr long long kMinPdu = 4096;
constexpr long long kMaxPduOffered = 131072;

std::uint32_t pduSize(const core::ServerSettings& settings, const std::string& key, long long fallback,
                      long long ceiling) {
    const long long value = settings.getInt(key, fallback);
    if (value <= 0) return static_cast<std::uint32_t>(fallback);
    return static_cast<std::uint32_t>(std::clamp(value, kMinPdu, ceiling));
}

std::chrono::seconds seconds(const core::ServerSettings& settings, const std::string& key, long long fallback) {
    const long long value = settings.getInt(key, fallback);
    // 0 would mean "no timeout" to some DCMTK calls and "poll" to others: keep a floor.
    return std::chrono::seconds(value > 0 ? value : fallback);
}

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

std::vector<std::string> repeated(const core::ServerSettings& settings, const std::string& key) {
    std::vector<std::string> values;
    for (std::size_t i = 0;; ++i) {
        const auto value = settings.get(key + "[" + std::to_string(i) + "]");
        if (!value) break;
        if (auto title = trimmed(*value); !title.empty()) values.push_back(std::move(title));
    }
    return values;
}

DicomListenerConfig common(const core::ServerSettings& settings, std::string name, const std::string& element) {
    DicomListenerConfig config;
    config.name = std::move(name);
    config.hostname = settings.getString("dicom-services." + element + "[@hostname]", "");
    config.aeTitles.push_back(settings.aeTitle());
    const auto nodeName = trimmed(settings.getString("archive.node-name", ""));
    if (!nodeName.empty() && nodeName.size() <= 16 && nodeName != config.aeTitles.front())
        config.aeTitles.push_back(nodeName);
    config.allowedCallingAeTitles = repeated(settings, "dicom-services.allowed-aetitles");
    config.maxPduReceive = pduSize(settings, "dicom-services.query-retrieve.max-pdu-length-receive", 16364,
                                   kMaxPduOffered);
    config.maxPduSend = pduSize(settings, "dicom-services.query-retrieve.max-pdu-length-send", 16364,
                                std::numeric_limits<std::uint32_t>::max());
    return config;
}

}  // namespace

const std::vector<std::string>& echoTransferSyntaxes() {
    static const std::vector<std::string> kSyntaxes = {UID_LittleEndianExplicitTransferSyntax,
                                                       UID_LittleEndianImplicitTransferSyntax,
                                                       UID_BigEndianExplicitTransferSyntax};
    return kSyntaxes;
}

DicomListenerConfig storageListenerConfig(const core::ServerSettings& settings) {
    auto config = common(settings, "storage", "storage");
    config.port = settings.storagePort();
    config.maxAssociations =
        static_cast<std::size_t>(std::max<long long>(1, settings.getInt("dicom-services.storage.max-associations", 50)));
    config.acseTimeout = seconds(settings, "dicom-services.storage.accept-timeout", 30);
    config.dimseTimeout = seconds(settings, "dicom-services.storage.dimse-timeout", 60);
    config.idleTimeout = seconds(settings, "dicom-services.storage.idle-timeout", 3600);
    return config;
}

DicomListenerConfig queryListenerConfig(const core::ServerSettings& settings) {
    auto config = common(settings, "query", "query-retrieve");
    config.port = settings.queryPort();
    config.maxAssociations = static_cast<std::size_t>(
        std::max<long long>(1, settings.getInt("dicom-services.query-retrieve.max-client-assocs", 20)));
    config.acseTimeout = seconds(settings, "dicom-services.query-retrieve.accept-timeout", 60);
    config.dimseTimeout = seconds(settings, "dicom-services.query-retrieve.dimse-rsp-timeout", 60);
    config.idleTimeout = seconds(settings, "dicom-services.query-retrieve.idle-timeout", 60);
    return config;
}

}  // namespace tessera::server
