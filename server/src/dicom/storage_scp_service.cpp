#include "dicom/storage_scp_service.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/diutil.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "dicom/dicom_listener.hpp"
#include "dicom/dicom_services.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/dicom/transfer_settings.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/provider_registry.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/error_mapping.hpp"

namespace tessera::server {
namespace {

using sdk::Error;
using sdk::ErrorCode;

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom.storage");
}

constexpr std::size_t kEncodeChunk = 1 << 20;

// A C-STORE outcome other than success: the status to answer and why (for the log).
struct Refusal {
    Uint16 status;
    std::string reason;
};

std::string stringOf(DcmItem& item, const DcmTagKey& tag) {
    OFString value;
    if (item.findAndGetOFString(tag, value).bad()) return {};
    return std::string(value.c_str());
}

// Part-10 bytes of `file` in transfer syntax `xfer`, meta header rebuilt for it.
std::vector<std::uint8_t> encodePart10(DcmFileFormat& file, E_TransferSyntax xfer) {
    std::vector<std::uint8_t> bytes;
    std::vector<char> chunk(kEncodeChunk);
    DcmOutputBufferStream stream(chunk.data(), static_cast<offile_off_t>(chunk.size()));
    file.transferInit();
    OFCondition condition;
    do {
        condition =
            file.write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange, 0, 0, 0, EWM_fileformat);
        void* data = nullptr;
        offile_off_t length = 0;
        stream.flushBuffer(data, length);
        const auto* begin = static_cast<const std::uint8_t*>(data);
        bytes.insert(bytes.end(), begin, begin + length);
    } while (condition == EC_StreamNotifyClient);
    file.transferEnd();
    stream.flush();
    void* data = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(data, length);
    const auto* begin = static_cast<const std::uint8_t*>(data);
    bytes.insert(bytes.end(), begin, begin + length);
    if (condition.bad()) throw Error(ErrorCode::Internal, std::string("cannot encode the object: ") + condition.text());
    return bytes;
}

}  // namespace

class StorageScpService::Receiver {
public:
    Receiver(core::ServerSettings& settings, core::ProviderRegistry& registry, core::IndexService& indexing,
             core::QueryService& queries)
        : settings_(settings), registry_(registry), indexing_(indexing), queries_(queries) {}

    bool handle(DicomAssociation& association, T_DIMSE_Message& message, T_ASC_PresentationContextID context) {
        if (message.CommandField != DIMSE_C_STORE_RQ) return false;
        T_DIMSE_C_StoreRQ& request = message.msg.CStoreRQ;
        if (request.DataSetType == DIMSE_DATASET_NULL) {
            // A C-STORE without a data set: nothing to store, and nothing more to read.
            T_DIMSE_C_StoreRSP response;
            std::memset(&response, 0, sizeof response);
            response.DimseStatus = STATUS_STORE_Error_CannotUnderstand;
            DIMSE_sendStoreResponse(association.raw(), context, &request, &response, nullptr);
            return true;
        }

        DcmDataset* received = nullptr;
        T_ASC_PresentationContextID dataContext = context;
        const OFCondition condition =
            DIMSE_receiveDataSetInMemory(association.raw(), DIMSE_BLOCKING, association.dimseTimeoutSeconds(),
                                         &dataContext, &received, nullptr, nullptr);
        std::unique_ptr<DcmDataset> dataset(received);
        if (condition.bad() || !dataset) {
            // The peer went away or broke the protocol mid-object: nothing was stored.
            throw Error(ErrorCode::Unavailable, "C-STORE of " + std::string(request.AffectedSOPInstanceUID) + " from " +
                                                    association.describe() +
                                                    ": data set not received: " + condition.text());
        }

        T_DIMSE_C_StoreRSP response;
        std::memset(&response, 0, sizeof response);
        response.DimseStatus = STATUS_Success;
        std::vector<sdk::Uri> uris;
        std::unique_ptr<sdk::DicomObjectView> view;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            store(association, request, dataContext, std::move(dataset), uris, view);
        } catch (const Refusal& refusal) {
            response.DimseStatus = refusal.status;
            logger().warning("C-STORE %s from %s refused (0x%04x): %s", std::string(request.AffectedSOPInstanceUID),
                             association.describe(), static_cast<unsigned>(refusal.status), refusal.reason);
        }

        const OFCondition sent = DIMSE_sendStoreResponse(association.raw(), context, &request, &response, nullptr);
        if (sent.bad())
            logger().warning("C-STORE %s from %s: the response could not be sent: %s",
                             std::string(request.AffectedSOPInstanceUID), association.describe(),
                             std::string(sent.text()));
        const auto t1 = std::chrono::steady_clock::now();
        if (response.DimseStatus == STATUS_Success) index(uris, *view);
        const auto t2 = std::chrono::steady_clock::now();
        if (logger().debug()) {
            using std::chrono::duration_cast;
            using std::chrono::microseconds;
            logger().debug("C-STORE %s: stored in %?d us, indexed in %?d us",
                           std::string(request.AffectedSOPInstanceUID), duration_cast<microseconds>(t1 - t0).count(),
                           duration_cast<microseconds>(t2 - t1).count());
        }
        return true;
    }

private:
    // Steps 2 and 3 of the header comment. Throws Refusal; on return the instance is durable.
    void store(DicomAssociation& association, const T_DIMSE_C_StoreRQ& request, T_ASC_PresentationContextID context,
               std::unique_ptr<DcmDataset> dataset, std::vector<sdk::Uri>& uris,
               std::unique_ptr<sdk::DicomObjectView>& view) {
        const std::string sopClass = stringOf(*dataset, DCM_SOPClassUID);
        const std::string sopInstance = stringOf(*dataset, DCM_SOPInstanceUID);
        if (sopClass != request.AffectedSOPClassUID || sopInstance != request.AffectedSOPInstanceUID)
            throw Refusal{STATUS_STORE_Error_DataSetDoesNotMatchSOPClass, "the data set's SOP class/instance UIDs (" +
                                                                              sopClass + ", " + sopInstance +
                                                                              ") differ from the request's"};

        T_ASC_PresentationContext presentation;
        if (ASC_findAcceptedPresentationContext(association.raw()->params, context, &presentation).bad() ||
            sopClass != presentation.abstractSyntax)
            throw Refusal{STATUS_STORE_Refused_SOPClassNotSupported,
                          "SOP class " + sopClass + " sent on a presentation context for another"};
        const E_TransferSyntax xfer = DcmXfer(presentation.acceptedTransferSyntax).getXfer();
        if (xfer == EXS_Unknown)
            throw Refusal{STATUS_STORE_Error_CannotUnderstand,
                          std::string("unknown transfer syntax ") + presentation.acceptedTransferSyntax};

        DcmFileFormat file(dataset.release(), OFFalse);  // takes the data set over, no copy
        if (settings_.getBool("dicom-services.storage.save-ae-titles", true)) {
            DcmMetaInfo* meta = file.getMetaInfo();
            meta->putAndInsertString(DCM_SourceApplicationEntityTitle, association.callingAeTitle().c_str());
            meta->putAndInsertString(DCM_SendingApplicationEntityTitle, association.callingAeTitle().c_str());
            meta->putAndInsertString(DCM_ReceivingApplicationEntityTitle, association.calledAeTitle().c_str());
        }
        std::vector<std::uint8_t> part10;
        try {
            part10 = encodePart10(file, xfer);
        } catch (const Error& e) {
            throw Refusal{STATUS_STORE_Error_CannotUnderstand, e.what()};
        }
        auto parsed = core::readDicomBytes(part10);
        if (parsed.status != core::DicomReadStatus::Ok)
            throw Refusal{STATUS_STORE_Error_CannotUnderstand, "unreadable after encoding: " + parsed.reason};
        view = std::move(parsed.object);

        const auto providers = storageProviders();
        if (providers.empty()) throw Refusal{STATUS_STORE_Refused_OutOfResources, "no enabled storage provider"};
        for (auto* provider : providers) {
            try {
                uris.push_back(provider->store(*view, part10));
            } catch (const std::exception& e) {
                const auto code =
                    dynamic_cast<const Error*>(&e) ? static_cast<const Error&>(e).code() : ErrorCode::Internal;
                rollBack(providers, uris);
                uris.clear();
                throw Refusal{dimseStatusFor(code), "storage provider " + provider->name() + ": " + e.what()};
            }
        }
    }

    // The chosen storage providers: archive.default-storages by name (enabled ones), or every
    // enabled one when none is listed.
    std::vector<sdk::StorageProvider*> storageProviders() const {
        std::vector<sdk::StorageProvider*> chosen;
        bool named = false;
        for (std::size_t i = 0;; ++i) {
            const auto name = settings_.get("archive.default-storages.default-storage[" + std::to_string(i) + "]");
            if (!name) break;
            if (name->empty()) continue;
            named = true;
            auto* provider = registry_.storage(*name);
            if (provider && provider->isEnabled() && std::find(chosen.begin(), chosen.end(), provider) == chosen.end())
                chosen.push_back(provider);
        }
        if (named) return chosen;
        for (const auto& entry : registry_.list(core::ProviderKind::Storage)) {
            auto* provider = registry_.storage(entry.name);
            if (provider && provider->isEnabled()) chosen.push_back(provider);
        }
        return chosen;
    }

    // Removes what the first uris.size() providers stored (and any index records of those URIs,
    // which an earlier copy of the instance may have left).
    void rollBack(const std::vector<sdk::StorageProvider*>& providers, const std::vector<sdk::Uri>& uris) {
        for (std::size_t i = 0; i < uris.size(); ++i) {
            try {
                providers[i]->remove(uris[i]);
            } catch (const std::exception& e) {
                logger().error("C-STORE roll-back: cannot remove %s: %s", uris[i].str(), std::string(e.what()));
            }
        }
        if (uris.empty()) return;
        try {
            indexing_.unindex(uris, {});
        } catch (const std::exception& e) {
            logger().error("C-STORE roll-back: cannot unindex: %s", std::string(e.what()));
        }
    }

    void index(const std::vector<sdk::Uri>& uris, const sdk::DicomObjectView& view) {
        try {
            const auto sopInstance = view.get("SOPInstanceUID").value_or("");
            auto previous = queries_.urisMatching("SOPInstanceUID", {sopInstance});
            std::erase_if(previous, [&](const sdk::Uri& uri) {
                return std::any_of(uris.begin(), uris.end(),
                                   [&](const sdk::Uri& now) { return now.str() == uri.str(); });
            });
            if (!previous.empty()) indexing_.unindex(previous, {});
        } catch (const std::exception& e) {
            logger().warning("C-STORE: cannot look for an earlier copy of the instance: %s", std::string(e.what()));
        }
        for (const auto& uri : uris) {
            const auto report = indexing_.indexObject(uri, view);
            if (report.errors > 0) logger().warning("C-STORE: %s stored but not indexed by every indexer", uri.str());
        }
    }

    core::ServerSettings& settings_;
    core::ProviderRegistry& registry_;
    core::IndexService& indexing_;
    core::QueryService& queries_;
};

StorageScpService::StorageScpService(core::ServerSettings& settings, core::TransferSettings& transfer,
                                     core::ProviderRegistry& registry, core::IndexService& indexing,
                                     core::QueryService& queries, const DicomServices& services)
    : settings_(settings),
      transfer_(transfer),
      receiver_(std::make_unique<Receiver>(settings, registry, indexing, queries)),
      services_(services) {}

StorageScpService::~StorageScpService() {
    stop();
}

void StorageScpService::start() {
    std::lock_guard lock(mutex_);
    if (listener_ && listener_->running()) return;
    auto config = storageListenerConfig(settings_);
    config.port = services_.portFor(name(), config.port);
    auto* transfer = &transfer_;
    auto* receiver = receiver_.get();
    auto listener = std::make_unique<DicomListener>(
        std::move(config),
        [transfer] {
            std::vector<AcceptedSyntax> syntaxes;
            for (auto& accepted : transfer->accepted())
                syntaxes.push_back({std::move(accepted.uid), std::move(accepted.transferSyntaxes)});
            return syntaxes;
        },
        [receiver](DicomAssociation& association, T_DIMSE_Message& request, T_ASC_PresentationContextID context) {
            return receiver->handle(association, request, context);
        });
    listener->start();
    listener_ = std::move(listener);
}

void StorageScpService::stop() {
    std::lock_guard lock(mutex_);
    if (listener_) listener_->stop();
    listener_.reset();
}

bool StorageScpService::running() const {
    std::lock_guard lock(mutex_);
    return listener_ && listener_->running();
}

std::uint16_t StorageScpService::port() const {
    std::lock_guard lock(mutex_);
    return listener_ ? listener_->port() : 0;
}

}  // namespace tessera::server
