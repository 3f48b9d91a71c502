#pragma once
// One accepted association as a DicomListener hands it to a service's command handler: the
// DCMTK association (for DIMSE calls) plus what was negotiated, already decoded.
//
// Ownership: the listener owns the association; a handler borrows this object for one call.
// Thread-safety: one association is served by one thread; stopRequested() may be read anywhere.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <atomic>
#include <chrono>
#include <string>

namespace tessera::server {

class DicomAssociation {
public:
    DicomAssociation(T_ASC_Association* association, std::string callingAeTitle, std::string calledAeTitle,
                     std::string peer, std::chrono::seconds dimseTimeout, const std::atomic<bool>& stopping)
        : association_(association),
          callingAeTitle_(std::move(callingAeTitle)),
          calledAeTitle_(std::move(calledAeTitle)),
          peer_(std::move(peer)),
          dimseTimeout_(dimseTimeout),
          stopping_(stopping) {}

    T_ASC_Association* raw() const noexcept { return association_; }
    /// Trimmed AE titles as the peer sent them.
    const std::string& callingAeTitle() const noexcept { return callingAeTitle_; }
    const std::string& calledAeTitle() const noexcept { return calledAeTitle_; }
    /// The peer's address as DCMTK reports it (host name or IP).
    const std::string& peer() const noexcept { return peer_; }
    /// For DIMSE calls made by the handler (data sets, responses, sub-operations).
    std::chrono::seconds dimseTimeout() const noexcept { return dimseTimeout_; }
    int dimseTimeoutSeconds() const noexcept { return static_cast<int>(dimseTimeout_.count()); }
    /// The service is stopping: long handlers (C-MOVE, C-FIND) should end early.
    bool stopRequested() const noexcept { return stopping_.load(std::memory_order_relaxed); }

    /// "CALLING@peer -> CALLED", for log lines.
    std::string describe() const { return callingAeTitle_ + "@" + peer_ + " -> " + calledAeTitle_; }

private:
    T_ASC_Association* association_;
    std::string callingAeTitle_;
    std::string calledAeTitle_;
    std::string peer_;
    std::chrono::seconds dimseTimeout_;
    const std::atomic<bool>& stopping_;
};

}  // namespace tessera::server
