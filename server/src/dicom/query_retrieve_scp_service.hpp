#pragma once
// The query/retrieve SCP (default port 1045, the archive's AE title): Patient Root and Study Root
// C-FIND, C-MOVE and C-GET, plus C-ECHO (answered by the listener), on a DicomListener.
//
//  - C-FIND: core::FindService over the DIM providers; one pending response (FF00, or FF01 when
//    the identifier asks to match inside a sequence, which is not supported) per match, then
//    Success. A missing or unknown QueryRetrieveLevel (or PATIENT on Study Root) is A900 with
//    OffendingElement and ErrorComment. A C-CANCEL between responses ends with FE00.
//  - C-MOVE: the destination AE must be in the move-destination list (core::MoveDestinations):
//    an unknown one is refused with A801 (Dicoogle instead sends to the caller's source port).
//    Instances come from QueryService by the level's unique key; one association is opened to
//    the destination offering each SOP class with each file's own transfer syntax (and the
//    uncompressed ones as a fallback for uncompressed files), with TCP_NODELAY; each stored data
//    set is sent byte for byte after a C-STORE-RQ command we encode (no DCMTK parse, so files
//    arrive byte-identical), or through DCMTK when the peer only took another uncompressed
//    syntax, with MoveOriginator AE title and message ID. A pending response with the counts follows every sub-operation; the final
//    status is Success, B000 when any failed (FailedSOPInstanceUIDList in the identifier), FE00
//    after C-CANCEL (with the remaining count), A702 when the destination cannot be reached.
//  - C-GET: the same, on the requesting association, using the storage contexts the requester
//    proposed in the SCP role.
//
// dicom-services.query-retrieve.rsp-delay (ms, default 0) is slept before each C-FIND pending
// response (Dicoogle sleeps once per request): a throttle for slow peers, and what lets a test
// see C-CANCEL arrive mid-answer.
// Settings are read at every start() (dicom-services.query-retrieve.*, aetitle), and the move
// destinations at every C-MOVE, so a change applies without restarting the process.
//
// Ownership: borrows the settings, query service, registry and destinations, which outlive it.
// Thread-safety: as DicomService; associations are served concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dicom/dicom_service.hpp"

namespace tessera::core {
class MoveDestinations;
class ProviderRegistry;
class QueryService;
class ServerSettings;
}  // namespace tessera::core

namespace tessera::server {

class DicomServices;

class QueryRetrieveScpService final : public DicomService {
public:
    /// `services` supplies the port override (--query-port, or one set through the REST API).
    QueryRetrieveScpService(core::ServerSettings& settings, const core::QueryService& queries,
                            const core::ProviderRegistry& registry, core::MoveDestinations& destinations,
                            const DicomServices& services);
    ~QueryRetrieveScpService() override;
    QueryRetrieveScpService(const QueryRetrieveScpService&) = delete;
    QueryRetrieveScpService& operator=(const QueryRetrieveScpService&) = delete;

    std::string name() const override;
    void start() override;
    void stop() override;
    bool running() const override;
    std::uint16_t port() const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    const DicomServices& services_;
};

}  // namespace tessera::server
