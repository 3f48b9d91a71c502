#include "dicom/dicom_services.hpp"

namespace tessera::server {

DicomServices::~DicomServices() {
    try {
        stopAll();
    } catch (...) {
        // Destructors must not throw; each service logs its own failures.
    }
}

DicomService* DicomServices::byName(std::string_view name) const {
    if (name == "storage") return storage_.get();
    if (name == "query") return query_.get();
    return nullptr;
}

std::uint16_t DicomServices::portFor(std::string_view name, std::uint16_t configured) const {
    return portOverride(name).value_or(configured);
}

void DicomServices::setPortOverride(std::string_view name, std::optional<std::uint16_t> port) {
    std::lock_guard lock(mutex_);
    if (port)
        overrides_[std::string(name)] = *port;
    else if (auto it = overrides_.find(name); it != overrides_.end())
        overrides_.erase(it);
}

std::optional<std::uint16_t> DicomServices::portOverride(std::string_view name) const {
    std::lock_guard lock(mutex_);
    if (auto it = overrides_.find(name); it != overrides_.end()) return it->second;
    return std::nullopt;
}

void DicomServices::stopAll() {
    if (query_) query_->stop();
    if (storage_) storage_->stop();
}

}  // namespace tessera::server
