#pragma once
// A DICOM upper-layer listener on DCMTK's association API: one accept thread and one thread per
// association, with everything a PACS needs around it —
//   * port 0 picks a free port (port() tells which), a hostname binds one local address;
//   * the called AE title must be one of config.aeTitles, the calling AE title on the
//     allow-list when there is one, else the association is REJECTED (permanent, with the
//     PS3.8 reason), as is one beyond maxAssociations (transient, local limit exceeded) and one
//     for which no presentation context could be accepted;
//   * Verification (C-ECHO) is always accepted and answered here, so every service has it;
//   * every other DIMSE request goes to the service's CommandHandler;
//   * stop() returns within about two seconds whatever the peers do: idle associations notice
//     within one second and abort; ones blocked inside a message get their socket shut down.
//
// DCMTK's DcmSCPPool was not used: it cannot report the port it bound, cannot bind one address,
// and its shutdown waits for every association to end on its own.
//
// Ownership: the listener owns its threads and associations; handlers are borrowed and must
// outlive stop().
// Thread-safety: start(), stop() and the getters may be called from any thread; start() and
// stop() serialise. The CommandHandler and ContextSource run on association threads,
// concurrently with each other.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "dicom/dicom_association.hpp"
#include "dicom/dicom_listener_config.hpp"

namespace tessera::server {

class DicomListener {
public:
    /// Handles one DIMSE request (anything but C-ECHO-RQ) on presentation context `context`,
    /// including reading its data set and sending the response. Returns false when it does
    /// not handle that command: the listener then aborts the association. A DCMTK failure it
    /// cannot recover from should throw (the listener logs and aborts); sdk::Error is fine.
    using CommandHandler =
        std::function<bool(DicomAssociation& association, T_DIMSE_Message& request, T_ASC_PresentationContextID context)>;
    /// The abstract syntaxes (besides Verification) this service accepts, asked once per
    /// association, so a settings change reaches the next association without a restart.
    using ContextSource = std::function<std::vector<AcceptedSyntax>()>;

    DicomListener(DicomListenerConfig config, ContextSource contexts, CommandHandler handler);
    /// Calls stop().
    ~DicomListener();
    DicomListener(const DicomListener&) = delete;
    DicomListener& operator=(const DicomListener&) = delete;

    /// Binds and starts accepting. Throws sdk::Error(Unavailable) naming the service and port
    /// when it cannot bind, (InvalidArgument) for a hostname that does not resolve. Running →
    /// no-op.
    void start();
    /// Stops accepting, aborts open associations and waits for their threads. Idempotent.
    void stop();
    bool running() const;
    /// Bound port while running, else 0.
    std::uint16_t port() const;
    /// Associations being served right now.
    std::size_t activeAssociations() const;
    const DicomListenerConfig& config() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::server
