#pragma once
// The process's DICOM services, by name: what the service-control routes
// (/management/dicom/{storage,query}) and Application work with. The query/retrieve service may
// be absent (query() null) until it is installed.
//
// Port overrides: --storage-port / --query-port choose the port for this run without touching
// server.xml. A service reads portFor() when it starts; a port set through the REST API clears
// the override, since the operator has chosen explicitly.
//
// Ownership: owns the services.
// Thread-safety: the getters and the override methods may be called from any thread; install
// services (setStorage/setQuery) before any other thread uses the object.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dicom/dicom_service.hpp"

namespace tessera::server {

class DicomServices {
public:
    DicomServices() = default;
    /// Stops every service.
    ~DicomServices();
    DicomServices(const DicomServices&) = delete;
    DicomServices& operator=(const DicomServices&) = delete;

    void setStorage(std::unique_ptr<DicomService> service) { storage_ = std::move(service); }
    void setQuery(std::unique_ptr<DicomService> service) { query_ = std::move(service); }
    DicomService* storage() const { return storage_.get(); }
    DicomService* query() const { return query_.get(); }
    /// "storage" or "query"; null when absent or unknown.
    DicomService* byName(std::string_view name) const;

    /// The port a service should bind now: the override when there is one, else `configured`.
    std::uint16_t portFor(std::string_view name, std::uint16_t configured) const;
    void setPortOverride(std::string_view name, std::optional<std::uint16_t> port);
    std::optional<std::uint16_t> portOverride(std::string_view name) const;

    /// Stops the query service, then the storage service. Idempotent.
    void stopAll();

private:
    std::unique_ptr<DicomService> storage_;
    std::unique_ptr<DicomService> query_;
    mutable std::mutex mutex_;
    std::map<std::string, std::uint16_t, std::less<>> overrides_;
};

}  // namespace tessera::server
