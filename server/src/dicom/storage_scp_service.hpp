#pragma once
// The storage SCP (behaviour §6): C-STORE of the SOP classes and transfer syntaxes that
// TransferSettings accepts, C-ECHO, on dicom-services.storage[@port] (6666).
//
// One C-STORE, in this order:
//   1. the data set's bytes are received as they arrive (no DcmDataset), in memory, behind a
//      file meta header built for the presentation context's transfer syntax, with
//      (0002,0016/0017) = calling AE and (0002,0018) = called AE when
//      dicom-services.storage.save-ae-titles (default true); nothing touches the disk before the
//      data set is complete, so a peer that drops the association leaves nothing behind;
//   2. parsed once and checked against the request (SOP class and instance UIDs, else A900;
//      presentation context and transfer syntax);
//   3. the storage providers chosen by archive.default-storages (none listed = every enabled
//      one) named; none → A700;
//   4. journaled (StoreIntake::submit → IntakeJournal: the Part 10 bytes, AE titles and provider
//      names in one record, fdatasync'd, one flush shared by the concurrent associations): the
//      durability point. A journal failure answers A700 and nothing is stored. Then Success;
//   5. in the background: each provider's store() (durable on its own; retried with backoff if
//      it fails: the record stays in the journal), then the parsed object is indexed (the file
//      is never re-read), then the record is marked done. See store_intake.hpp.
// Everything before Success is checks and one journal append, so the association receives its
// next C-STORE while the last one is stored and indexed.
//
// Ownership: borrows everything it is given; it must be stopped before they go.
// Thread-safety: see DicomService.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "dicom/dicom_service.hpp"

namespace tessera::core {
class IndexService;
class ProviderRegistry;
class QueryService;
class ServerSettings;
class TransferSettings;
}  // namespace tessera::core

namespace tessera::server {

class DicomListener;
class DicomServices;

class StorageScpService final : public DicomService {
public:
    StorageScpService(core::ServerSettings& settings, core::TransferSettings& transfer,
                      core::ProviderRegistry& registry, core::IndexService& indexing, core::QueryService& queries,
                      const DicomServices& services, std::filesystem::path journalDir = {});
    ~StorageScpService() override;

    std::string name() const override { return "storage"; }
    void start() override;
    void stop() override;
    bool running() const override;
    std::uint16_t port() const override;

    class Receiver;  // the C-STORE handler (public so the .cpp can name it)

private:
    core::ServerSettings& settings_;
    core::TransferSettings& transfer_;
    std::unique_ptr<Receiver> receiver_;
    const DicomServices& services_;
    mutable std::mutex mutex_;  // start()/stop()
    std::unique_ptr<DicomListener> listener_;
};

}  // namespace tessera::server
