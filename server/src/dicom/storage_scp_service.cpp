#include "dicom/storage_scp_service.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/diutil.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <cstring>
#include <vector>

#include "dicom/dicom_listener.hpp"
#include "dicom/dicom_services.hpp"
#include "dicom/store_intake.hpp"
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

// A C-STORE outcome other than success: the status to answer and why (for the log).
struct Refusal {
    Uint16 status;
    std::string reason;
};

// DIMSE hands the data set's PDV bytes to a DcmOutputStream as they arrive; this one appends
// them to a vector (the Part-10 bytes after the meta header built beforehand).
class ByteSink final : public DcmConsumer {
public:
    explicit ByteSink(std::vector<std::uint8_t>& bytes) : bytes_(bytes) {}
    OFBool good() const override { return OFTrue; }
    OFCondition status() const override { return EC_Normal; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return offile_off_t(1) << 30; }
    offile_off_t write(const void* buf, offile_off_t buflen) override {
        const auto* begin = static_cast<const std::uint8_t*>(buf);
        bytes_.insert(bytes_.end(), begin, begin + buflen);
        return buflen;
    }
    void flush() override {}

private:
    std::vector<std::uint8_t>& bytes_;
};

struct ByteSinkHolder {
    explicit ByteSinkHolder(std::vector<std::uint8_t>& bytes) : sink(bytes) {}
    ByteSink sink;
};

// The sink is a base constructed before DcmOutputStream, which keeps a pointer to it.
class ByteOutputStream final : private ByteSinkHolder, public DcmOutputStream {
public:
    explicit ByteOutputStream(std::vector<std::uint8_t>& bytes) : ByteSinkHolder(bytes), DcmOutputStream(&sink) {}
};

// Explicit VR Little Endian meta elements, values padded to even length (UI with NUL, else space).
void putShortElement(std::vector<std::uint8_t>& out, Uint16 element, const char vr[2], std::string value) {
    if (value.size() % 2 != 0) value.push_back(vr[0] == 'U' && vr[1] == 'I' ? '\0' : ' ');
    const auto length = static_cast<Uint16>(value.size());
    const std::uint8_t head[] = {0x02,
                                 0x00,
                                 static_cast<std::uint8_t>(element & 0xff),
                                 static_cast<std::uint8_t>(element >> 8),
                                 static_cast<std::uint8_t>(vr[0]),
                                 static_cast<std::uint8_t>(vr[1]),
                                 static_cast<std::uint8_t>(length & 0xff),
                                 static_cast<std::uint8_t>(length >> 8)};
    out.insert(out.end(), std::begin(head), std::end(head));
    out.insert(out.end(), value.begin(), value.end());
}

// Preamble, "DICM" and the file meta group for an object received on a presentation context
// with transfer syntax `xferUid`; the data set's bytes follow as received.
std::vector<std::uint8_t> part10Header(const std::string& sopClass, const std::string& sopInstance,
                                       const std::string& xferUid, const std::string* callingAe,
                                       const std::string* calledAe) {
    std::vector<std::uint8_t> group;
    // (0002,0001) OB 00\01
    const std::uint8_t version[] = {0x02, 0x00, 0x01, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 0x00, 0x01};
    group.insert(group.end(), std::begin(version), std::end(version));
    putShortElement(group, 0x0002, "UI", sopClass);
    putShortElement(group, 0x0003, "UI", sopInstance);
    putShortElement(group, 0x0010, "UI", xferUid);
    putShortElement(group, 0x0012, "UI", OFFIS_IMPLEMENTATION_CLASS_UID);
    putShortElement(group, 0x0013, "SH", OFFIS_DTK_IMPLEMENTATION_VERSION_NAME);
    if (callingAe) {
        putShortElement(group, 0x0016, "AE", *callingAe);
        putShortElement(group, 0x0017, "AE", *callingAe);
    }
    if (calledAe) putShortElement(group, 0x0018, "AE", *calledAe);

    std::vector<std::uint8_t> out(132, 0);
    std::memcpy(out.data() + 128, "DICM", 4);
    const auto length = static_cast<std::uint32_t>(group.size());
    const std::uint8_t groupLength[] = {0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0,
                                        static_cast<std::uint8_t>(length & 0xff),
                                        static_cast<std::uint8_t>((length >> 8) & 0xff),
                                        static_cast<std::uint8_t>((length >> 16) & 0xff),
                                        static_cast<std::uint8_t>(length >> 24)};
    // Sized once and copied into (g++ 12 warns falsely on insert() after a sized construction).
    out.resize(132 + sizeof groupLength + group.size());
    std::memcpy(out.data() + 132, groupLength, sizeof groupLength);
    std::memcpy(out.data() + 132 + sizeof groupLength, group.data(), group.size());
    return out;
}

}  // namespace

class StorageScpService::Receiver {
public:
    Receiver(core::ServerSettings& settings, core::ProviderRegistry& registry, core::IndexService& indexing,
             core::QueryService& queries, std::filesystem::path journalDir)
        : settings_(settings),
          registry_(registry),
          intake_(indexing, queries, registry, std::move(journalDir), intakeOptions(settings)) {}

    StoreIntake& intake() { return intake_; }

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

        // The data set's bytes as they arrive, behind a meta header for the presentation
        // context's transfer syntax: no parse and re-encode before they are stored.
        T_ASC_PresentationContext presentation;
        const bool known = ASC_findAcceptedPresentationContext(association.raw()->params, context, &presentation).good();
        const std::string xferUid = known ? presentation.acceptedTransferSyntax : "";
        const bool saveAeTitles = settings_.getBool("dicom-services.storage.save-ae-titles", true);
        const std::string callingAe = association.callingAeTitle();
        const std::string calledAe = association.calledAeTitle();
        std::vector<std::uint8_t> part10 =
            part10Header(request.AffectedSOPClassUID, request.AffectedSOPInstanceUID, xferUid,
                         saveAeTitles ? &callingAe : nullptr, saveAeTitles ? &calledAe : nullptr);
        const std::size_t headerSize = part10.size();
        T_ASC_PresentationContextID dataContext = context;
        OFCondition condition;
        {
            ByteOutputStream stream(part10);
            condition = DIMSE_receiveDataSetInFile(association.raw(), DIMSE_BLOCKING,
                                                   association.dimseTimeoutSeconds(), &dataContext, &stream, nullptr,
                                                   nullptr);
        }
        if (condition.bad() || part10.size() == headerSize) {
            // The peer went away or broke the protocol mid-object: nothing was stored.
            throw Error(ErrorCode::Unavailable, "C-STORE of " + std::string(request.AffectedSOPInstanceUID) + " from " +
                                                    association.describe() +
                                                    ": data set not received: " + condition.text());
        }

        T_DIMSE_C_StoreRSP response;
        std::memset(&response, 0, sizeof response);
        response.DimseStatus = STATUS_Success;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            store(request, known ? &presentation : nullptr, dataContext == context, std::move(part10),
                  saveAeTitles ? callingAe : "", saveAeTitles ? calledAe : "");
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
        if (logger().debug()) {
            using std::chrono::duration_cast;
            using std::chrono::microseconds;
            logger().debug("C-STORE %s: stored and queued for indexing in %?d us (%z waiting)",
                           std::string(request.AffectedSOPInstanceUID),
                           duration_cast<microseconds>(std::chrono::steady_clock::now() - t0).count(),
                           intake_.backlog());
        }
        return true;
    }

private:
    // Checks, then journals the instance for the chosen storage providers. Throws Refusal; on
    // return the instance is durable (the journal) and will be stored and indexed (after a crash
    // too).
    void store(const T_DIMSE_C_StoreRQ& request, const T_ASC_PresentationContext* presentation, bool sameContext,
               std::vector<std::uint8_t> part10, const std::string& callingAe, const std::string& calledAe) {
        auto parsed = core::readDicomBytes(part10);
        if (parsed.status != core::DicomReadStatus::Ok)
            throw Refusal{STATUS_STORE_Error_CannotUnderstand, "unreadable data set: " + parsed.reason};
        std::unique_ptr<sdk::DicomObjectView> view = std::move(parsed.object);
        const std::string sopClass = view->get("SOPClassUID").value_or("");
        const std::string sopInstance = view->get("SOPInstanceUID").value_or("");
        if (sopClass != request.AffectedSOPClassUID || sopInstance != request.AffectedSOPInstanceUID)
            throw Refusal{STATUS_STORE_Error_DataSetDoesNotMatchSOPClass, "the data set's SOP class/instance UIDs (" +
                                                                              sopClass + ", " + sopInstance +
                                                                              ") differ from the request's"};
        if (!presentation || !sameContext || sopClass != presentation->abstractSyntax)
            throw Refusal{STATUS_STORE_Refused_SOPClassNotSupported,
                          "SOP class " + sopClass + " sent on a presentation context for another"};
        if (DcmXfer(presentation->acceptedTransferSyntax).getXfer() == EXS_Unknown)
            throw Refusal{STATUS_STORE_Error_CannotUnderstand,
                          std::string("unknown transfer syntax ") + presentation->acceptedTransferSyntax};

        const auto providers = storageProviders();
        if (providers.empty()) throw Refusal{STATUS_STORE_Refused_OutOfResources, "no enabled storage provider"};
        IntakeRecord record;
        record.callingAe = callingAe;
        record.calledAe = calledAe;
        for (auto* provider : providers) record.providers.push_back(provider->name());
        record.part10 = std::move(part10);
        try {
            intake_.submit(std::move(record), std::move(view));
        } catch (const Error& e) {
            throw Refusal{STATUS_STORE_Refused_OutOfResources, std::string("cannot journal: ") + e.what()};
        }
    }

    static StoreIntakeOptions intakeOptions(core::ServerSettings& settings) {
        StoreIntakeOptions options;
        const auto segment = settings.getInt("dicom-services.storage.journal-segment-bytes", 0);
        if (segment > 0) options.journal.segmentSize = static_cast<std::uint64_t>(segment);
        const auto backlog = settings.getInt("dicom-services.storage.backlog-bytes", 0);
        if (backlog > 0) options.backlogBytes = static_cast<std::uint64_t>(backlog);
        const auto materialisers = settings.getInt("dicom-services.storage.materialisers", 0);
        if (materialisers > 0) options.materialisers = static_cast<std::size_t>(materialisers);
        const auto retry = settings.getInt("dicom-services.storage.retry-max-ms", 0);
        if (retry > 0) options.retryMax = std::chrono::milliseconds(retry);
        return options;
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

    core::ServerSettings& settings_;
    core::ProviderRegistry& registry_;
    StoreIntake intake_;
};

StorageScpService::StorageScpService(core::ServerSettings& settings, core::TransferSettings& transfer,
                                     core::ProviderRegistry& registry, core::IndexService& indexing,
                                     core::QueryService& queries, const DicomServices& services,
                                     std::filesystem::path journalDir)
    : settings_(settings),
      transfer_(transfer),
      receiver_(std::make_unique<Receiver>(settings, registry, indexing, queries, std::move(journalDir))),
      services_(services) {}

StorageScpService::~StorageScpService() {
    stop();
}

void StorageScpService::start() {
    std::lock_guard lock(mutex_);
    if (listener_ && listener_->running()) return;
    // The indexer first: it indexes what a killed process acknowledged, and takes new C-STOREs.
    receiver_->intake().start();
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
    receiver_->intake().stop();  // indexes what is queued
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
