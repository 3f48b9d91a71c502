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
//   3. stored by every storage provider chosen by archive.default-storages (none listed = every
//      enabled one) — each store() is durable (fsync) when it returns. If one fails, what the
//      others stored is removed again and unindexed, and the response carries the error's
//      DIMSE status (error_mapping: disk full → A700, bad content → A900/C000, else 0110);
//   4. logged and queued for the background indexer (StoreIntake: replace semantics, batches,
//      replay after a crash; see store_intake.hpp), then the Success response goes out;
//   5. the indexer indexes the parsed object (the file is never re-read). Indexing failures are
//      logged; the status was already sent (as in Dicoogle).
// Group commit: associations are served on their own threads and nothing serialises their
// stores, so the fsyncs of concurrent associations reach the file system together and its
// journal commits them as one (ext4/xfs group commit); docs/benchmarks.md has the figures.
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
                      const DicomServices& services, std::filesystem::path intakeLog = {});
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
