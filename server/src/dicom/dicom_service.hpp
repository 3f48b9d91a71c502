#pragma once
// One DICOM network service: an SCP listening on one TCP port (the storage SCP on 6666, the
// query/retrieve SCP on 1045). Application owns one of each; the service-control routes
// (/management/dicom/storage, /management/dicom/query) start and stop them while the process
// runs, so a port, hostname or AE title change takes effect without a restart.
//
// Ownership: a service borrows the ServerContext services it needs, which outlive it.
// Thread-safety: every method may be called from any thread; start() and stop() serialise.
#include <cstdint>
#include <string>

namespace tessera::server {

class DicomService {
public:
    virtual ~DicomService() = default;

    /// "storage" or "query": the name the REST routes and the log use.
    virtual std::string name() const = 0;
    /// Reads its settings (port, hostname, AE title, limits, timeouts, accepted presentation
    /// contexts) from ServerSettings as they are now, binds and starts accepting associations.
    /// Port 0 picks a free port (see port()). Throws sdk::Error(Unavailable) naming the port when
    /// it cannot bind; already running → no-op.
    virtual void start() = 0;
    /// Stops accepting, ends the open associations (each within about a second) and returns
    /// when none remains. Idempotent.
    virtual void stop() = 0;
    virtual bool running() const = 0;
    /// The bound port while running (0 resolved to the real one); 0 when stopped.
    virtual std::uint16_t port() const = 0;
};

}  // namespace tessera::server
