#include "tessera/core/dicom/transfer_settings.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "tessera/core/server_settings.hpp"

namespace tessera::core {
namespace {

constexpr const char* kDefaultTs = "dicom-services.default-ts";
constexpr const char* kSopClasses = "dicom-services.sop-classes";
constexpr const char* kAdditional = "dicom-services.additional-sop-classes.additional-sop-class";

const std::vector<std::pair<std::string, std::string>> kTransferSyntaxes = {
    {"ImplicitVRLittleEndian", UID_LittleEndianImplicitTransferSyntax},
    {"ExplicitVRLittleEndian", UID_LittleEndianExplicitTransferSyntax},
    {"DeflatedExplicitVRLittleEndian", UID_DeflatedExplicitVRLittleEndianTransferSyntax},
    {"ExplicitVRBigEndian", UID_BigEndianExplicitTransferSyntax},
    {"JPEGLossless", UID_JPEGProcess14SV1TransferSyntax},
    {"JPEGLSLossless", UID_JPEGLSLosslessTransferSyntax},
    {"JPEGLosslessNonHierarchical14", UID_JPEGProcess14TransferSyntax},
    {"JPEG2000LosslessOnly", UID_JPEG2000LosslessOnlyTransferSyntax},
    {"JPEGBaseline1", UID_JPEGProcess1TransferSyntax},
    {"JPEGExtended24", UID_JPEGProcess2_4TransferSyntax},
    {"JPEGLSLossyNearLossless", UID_JPEGLSLossyTransferSyntax},
    {"JPEG2000", UID_JPEG2000TransferSyntax},
    {"RLELossless", UID_RLELosslessTransferSyntax},
    {"MPEG2", UID_MPEG2MainProfileAtMainLevelTransferSyntax},
};

// Preference when one proposed context offers several: explicit little endian (what most
// senders hold), implicit, then the rest in list order.
int preference(const std::string& uid) {
    if (uid == UID_LittleEndianExplicitTransferSyntax) return -2;
    if (uid == UID_LittleEndianImplicitTransferSyntax) return -1;
    for (std::size_t i = 0; i < kTransferSyntaxes.size(); ++i)
        if (kTransferSyntaxes[i].second == uid) return static_cast<int>(i);
    return 1000;
}

bool isKnownTs(const std::string& uid) {
    return std::any_of(kTransferSyntaxes.begin(), kTransferSyntaxes.end(),
                       [&](const auto& entry) { return entry.second == uid; });
}

std::vector<std::string> readList(const ServerSettings& settings, const std::string& prefix) {
    std::vector<std::string> values;
    for (std::size_t i = 0;; ++i) {
        const auto value = settings.get(prefix + "[" + std::to_string(i) + "]");
        if (!value) break;
        if (!value->empty()) values.push_back(*value);
    }
    return values;
}

// Same members, whatever the order.
bool sameSet(std::vector<std::string> a, std::vector<std::string> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    return a == b;
}

}  // namespace

struct TransferSettings::Impl {
    ServerSettings& settings;
    mutable std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> classes;  // {uid, name}, listing order
    std::vector<std::string> defaultTs;
    std::map<std::string, std::vector<std::string>> own;  // classes with their own list (any UID)

    explicit Impl(ServerSettings& s) : settings(s) {}

    bool known(const std::string& uid) const {
        return std::any_of(classes.begin(), classes.end(), [&](const auto& entry) { return entry.first == uid; });
    }

    std::vector<std::string> listOf(const std::string& uid) const {
        const auto it = own.find(uid);
        return it != own.end() ? it->second : defaultTs;
    }

    std::vector<std::pair<std::string, std::string>> serialised() const {
        std::vector<std::pair<std::string, std::string>> values{{kSopClasses, ""}};
        std::size_t index = 0;
        auto add = [&](const std::string& uid, const std::vector<std::string>& list) {
            const std::string entry = std::string(kSopClasses) + ".sop-class[" + std::to_string(index++) + "]";
            values.emplace_back(entry + ".uid", uid);
            values.emplace_back(entry + ".transfer-syntaxes", "");
            for (std::size_t j = 0; j < list.size(); ++j)
                values.emplace_back(entry + ".transfer-syntaxes.ts[" + std::to_string(j) + "]", list[j]);
        };
        // Known classes in listing order, then any others the file had, as they were.
        for (const auto& [uid, name] : classes)
            if (auto it = own.find(uid); it != own.end()) add(uid, it->second);
        for (const auto& [uid, list] : own)
            if (!known(uid)) add(uid, list);
        return values;
    }
};

TransferSettings::TransferSettings(ServerSettings& settings) : impl_(std::make_unique<Impl>(settings)) {
    for (std::size_t i = 0;; ++i) {
        const std::string entry = std::string(kAdditional) + "[" + std::to_string(i) + "]";
        if (!settings.get(entry)) break;
        const auto uid = settings.getString(entry + "[@uid]", "");
        if (uid.empty()) continue;
        impl_->classes.emplace_back(uid, settings.getString(entry + "[@alias]", uid));
    }
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i) {
        const std::string uid = dcmAllStorageSOPClassUIDs[i];
        if (impl_->known(uid)) continue;
        impl_->classes.emplace_back(uid, dcmFindNameOfUID(uid.c_str(), uid.c_str()));
    }

    if (settings.get(kDefaultTs)) {
        impl_->defaultTs = readList(settings, std::string(kDefaultTs) + ".ts");
    } else {
        impl_->defaultTs = defaultTransferSyntaxes();
        std::vector<std::pair<std::string, std::string>> values{{kDefaultTs, ""}};
        for (std::size_t j = 0; j < impl_->defaultTs.size(); ++j)
            values.emplace_back(std::string(kDefaultTs) + ".ts[" + std::to_string(j) + "]", impl_->defaultTs[j]);
        settings.setMany(values);
    }

    for (std::size_t i = 0;; ++i) {
        const std::string entry = std::string(kSopClasses) + ".sop-class[" + std::to_string(i) + "]";
        if (!settings.get(entry)) break;
        const auto uid = settings.getString(entry + ".uid", "");
        // A class without <transfer-syntaxes> inherits default-ts (Dicoogle's rule).
        if (uid.empty() || !settings.get(entry + ".transfer-syntaxes")) continue;
        impl_->own[uid] = readList(settings, entry + ".transfer-syntaxes.ts");
    }
}

TransferSettings::~TransferSettings() = default;

const std::vector<std::pair<std::string, std::string>>& TransferSettings::transferSyntaxNames() {
    return kTransferSyntaxes;
}

std::vector<std::string> TransferSettings::defaultTransferSyntaxes() {
    std::vector<std::string> uids;
    for (const auto& [name, uid] : kTransferSyntaxes) uids.push_back(uid);
    return uids;
}

std::vector<SopClassTransfer> TransferSettings::list() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<SopClassTransfer> result;
    result.reserve(impl_->classes.size());
    for (const auto& [uid, name] : impl_->classes) {
        SopClassTransfer entry{uid, name, {}};
        const auto accepted = impl_->listOf(uid);
        for (const auto& [tsName, tsUid] : kTransferSyntaxes) {
            const bool on = std::find(accepted.begin(), accepted.end(), tsUid) != accepted.end();
            entry.options.push_back({tsUid, tsName, on});
        }
        result.push_back(std::move(entry));
    }
    return result;
}

std::vector<std::string> TransferSettings::acceptedFor(const std::string& sopClassUid) const {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->known(sopClassUid)) return {};
    std::vector<std::string> list;
    for (const auto& uid : impl_->listOf(sopClassUid))
        if (isKnownTs(uid) && std::find(list.begin(), list.end(), uid) == list.end()) list.push_back(uid);
    std::stable_sort(list.begin(), list.end(),
                     [](const std::string& a, const std::string& b) { return preference(a) < preference(b); });
    return list;
}

std::vector<AcceptedSopClass> TransferSettings::accepted() const {
    std::vector<std::string> uids;
    {
        std::lock_guard lock(impl_->mutex);
        for (const auto& [uid, name] : impl_->classes) uids.push_back(uid);
    }
    std::vector<AcceptedSopClass> result;
    for (auto& uid : uids) {
        auto list = acceptedFor(uid);
        if (!list.empty()) result.push_back({std::move(uid), std::move(list)});
    }
    return result;
}

bool TransferSettings::set(const std::string& sopClassUid, const std::string& optionName, bool value) {
    const auto option = std::find_if(kTransferSyntaxes.begin(), kTransferSyntaxes.end(),
                                     [&](const auto& entry) { return entry.first == optionName; });
    if (option == kTransferSyntaxes.end()) return false;
    std::lock_guard lock(impl_->mutex);
    if (!impl_->known(sopClassUid)) return false;

    auto list = impl_->listOf(sopClassUid);
    const auto present = std::find(list.begin(), list.end(), option->second);
    if (value && present == list.end()) list.push_back(option->second);
    if (!value && present != list.end()) list.erase(present);

    const auto previous = impl_->own;
    if (sameSet(list, impl_->defaultTs))
        impl_->own.erase(sopClassUid);
    else
        impl_->own[sopClassUid] = list;
    try {
        impl_->settings.update({kSopClasses}, impl_->serialised());
    } catch (...) {
        impl_->own = previous;
        throw;
    }
    return true;
}

}  // namespace tessera::core
