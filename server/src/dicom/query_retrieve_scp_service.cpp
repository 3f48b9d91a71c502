#include "dicom/query_retrieve_scp_service.hpp"

#include "dicom/dicom_services.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include "dicom/dicom_listener.hpp"
#include "dicom/dicom_listener_config.hpp"
#include "dicom/find_identifier.hpp"
#include "dicom/instance_source.hpp"
#include "tessera/core/dicom/find_service.hpp"
#include "tessera/core/dicom/move_destinations.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom.query");
}

const std::vector<std::string>& queryTransferSyntaxes() {
    static const std::vector<std::string> syntaxes = {UID_LittleEndianExplicitTransferSyntax,
                                                      UID_LittleEndianImplicitTransferSyntax,
                                                      UID_BigEndianExplicitTransferSyntax};
    return syntaxes;
}

// What a C-GET requester may receive its sub-operations in: the uncompressed syntaxes first (the
// listener prefers the first proposed one of this list), then every encapsulated one we store.
const std::vector<std::string>& getStorageTransferSyntaxes() {
    static const std::vector<std::string> syntaxes = {
        UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
        UID_BigEndianExplicitTransferSyntax,    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
        UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
        UID_JPEGProcess14TransferSyntax,        UID_JPEGProcess14SV1TransferSyntax,
        UID_JPEGLSLosslessTransferSyntax,       UID_JPEGLSLossyTransferSyntax,
        UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
        UID_RLELosslessTransferSyntax,          UID_MPEG2MainProfileAtMainLevelTransferSyntax,
    };
    return syntaxes;
}

const std::vector<const char*>& findModels() {
    static const std::vector<const char*> models = {UID_FINDPatientRootQueryRetrieveInformationModel,
                                                    UID_FINDStudyRootQueryRetrieveInformationModel};
    return models;
}
const std::vector<const char*>& moveModels() {
    static const std::vector<const char*> models = {UID_MOVEPatientRootQueryRetrieveInformationModel,
                                                    UID_MOVEStudyRootQueryRetrieveInformationModel};
    return models;
}
const std::vector<const char*>& getModels() {
    static const std::vector<const char*> models = {UID_GETPatientRootQueryRetrieveInformationModel,
                                                    UID_GETStudyRootQueryRetrieveInformationModel};
    return models;
}

bool isStudyRoot(const char* sopClass) {
    return std::strcmp(sopClass, UID_FINDStudyRootQueryRetrieveInformationModel) == 0 ||
           std::strcmp(sopClass, UID_MOVEStudyRootQueryRetrieveInformationModel) == 0 ||
           std::strcmp(sopClass, UID_GETStudyRootQueryRetrieveInformationModel) == 0;
}

bool isUncompressed(const std::string& transferSyntax) {
    return transferSyntax == UID_LittleEndianExplicitTransferSyntax ||
           transferSyntax == UID_LittleEndianImplicitTransferSyntax ||
           transferSyntax == UID_BigEndianExplicitTransferSyntax;
}

// The association cannot carry on (a response or sub-operation could not be sent): the listener
// aborts it. Kept apart from sdk::Error, which is a failure to report to the peer.
class AssociationBroken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The destination association of a C-MOVE broke: the remaining sub-operations fail, the
// requester still gets its final response.
class SubOperationsBroken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

DIC_US clampCount(std::size_t count) {
    return static_cast<DIC_US>(std::min<std::size_t>(count, 0xFFFF));
}

// Status detail for a failure: OffendingElement and/or ErrorComment.
std::unique_ptr<DcmDataset> failureDetail(const std::string& comment,
                                          std::optional<DcmTagKey> offending = std::nullopt) {
    auto detail = std::make_unique<DcmDataset>();
    if (offending) {
        auto* element = new DcmAttributeTag(DCM_OffendingElement);
        element->putTagVal(*offending);
        detail->insert(element, OFTrue);
    }
    const std::string text = comment.substr(0, 64);
    detail->putAndInsertString(DCM_ErrorComment, text.c_str());
    return detail;
}

// Counts of a retrieve, as C-MOVE and C-GET responses carry them.
struct SubOperationCounts {
    std::size_t remaining = 0;
    std::size_t completed = 0;
    std::size_t failed = 0;
    std::size_t warning = 0;
    std::vector<std::string> failedUids;
};

// A level and unique key value from a retrieve identifier, or the failure to report.
struct RetrieveTarget {
    core::QueryLevel level = core::QueryLevel::Study;
    std::string uids;
    std::string error;
    DcmTagKey offending;
};

RetrieveTarget retrieveTarget(DcmDataset& identifier, const char* sopClass) {
    RetrieveTarget target;
    const auto parsed = readIdentifier(identifier);
    if (!parsed.level || (isStudyRoot(sopClass) && *parsed.level == core::QueryLevel::Patient)) {
        target.error = "Invalid QueryRetrieveLevel '" + parsed.levelText + "'";
        target.offending = DCM_QueryRetrieveLevel;
        return target;
    }
    target.level = *parsed.level;
    const std::string key = core::FindService::uniqueKey(target.level);
    for (const auto& findKey : parsed.keys) {
        if (findKey.keyword == key) target.uids = findKey.value;
    }
    if (target.uids.find_first_not_of(" \\") == std::string::npos) {
        target.error = "No " + key + " for level " + std::string(core::toString(target.level));
        const auto tag = key == "PatientID"           ? DCM_PatientID
                         : key == "StudyInstanceUID"  ? DCM_StudyInstanceUID
                         : key == "SeriesInstanceUID" ? DCM_SeriesInstanceUID
                                                      : DCM_SOPInstanceUID;
        target.offending = tag;
    }
    return target;
}

// The accepted context to send a file on: its own transfer syntax, or for an uncompressed file
// any uncompressed one (DCMTK converts between those while sending).
T_ASC_PresentationContextID storeContext(T_ASC_Association* association, const RetrievedFile& file) {
    T_ASC_PresentationContextID id =
        ASC_findAcceptedPresentationContextID(association, file.sopClassUid.c_str(), file.transferSyntaxUid.c_str());
    if (id != 0 || !isUncompressed(file.transferSyntaxUid)) return id;
    for (const char* ts : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                           UID_BigEndianExplicitTransferSyntax}) {
        if (id == 0) id = ASC_findAcceptedPresentationContextID(association, file.sopClassUid.c_str(), ts);
    }
    return id;
}

// One C-STORE of a file. DIMSE_storeUser sends the data set straight from the file when the
// context's transfer syntax is the file's, so the bytes arrive as stored (DcmSCU would parse the
// file and write it again).
OFCondition storeFile(T_ASC_Association* association, T_ASC_PresentationContextID context, const RetrievedFile& file,
                      int timeoutSeconds, DIC_US& status, const std::string* moveOriginator, DIC_US moveMessageId,
                      T_DIMSE_DetectedCancelParameters* cancel) {
    T_DIMSE_C_StoreRQ store;
    std::memset(&store, 0, sizeof store);
    store.MessageID = association->nextMsgID++;
    OFStandard::strlcpy(store.AffectedSOPClassUID, file.sopClassUid.c_str(), sizeof store.AffectedSOPClassUID);
    OFStandard::strlcpy(store.AffectedSOPInstanceUID, file.sopInstanceUid.c_str(), sizeof store.AffectedSOPInstanceUID);
    store.DataSetType = DIMSE_DATASET_PRESENT;
    store.Priority = DIMSE_PRIORITY_MEDIUM;
    if (moveOriginator) {
        OFStandard::strlcpy(store.MoveOriginatorApplicationEntityTitle, moveOriginator->c_str(),
                            sizeof store.MoveOriginatorApplicationEntityTitle);
        store.MoveOriginatorID = moveMessageId;
        store.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    }
    T_DIMSE_C_StoreRSP response;
    std::memset(&response, 0, sizeof response);
    DcmDataset* detail = nullptr;
    const OFCondition condition = DIMSE_storeUser(association, context, &store, file.path.c_str(), nullptr, nullptr,
                                                  nullptr, DIMSE_BLOCKING, timeoutSeconds, &response, &detail, cancel);
    delete detail;
    status = response.DimseStatus;
    return condition;
}

// A command set in implicit VR little endian (PS3.7 E.1-1), elements appended in tag order, with
// its group length in front: cheaper than building a DcmDataset per message.
class CommandEncoder {
public:
    void us(std::uint16_t element, DIC_US value) {
        tag(element, 2);
        body_ += static_cast<char>(value & 0xFF);
        body_ += static_cast<char>(value >> 8);
    }
    void text(std::uint16_t element, const std::string& value, char pad) {
        const std::size_t length = value.size() + (value.size() % 2);
        tag(element, length);
        body_ += value;
        if (length != value.size()) body_ += pad;
    }
    std::string bytes() const {
        std::string command;
        appendTag(command, 0x0000, 4);
        appendLe32(command, static_cast<std::uint32_t>(body_.size()));
        return command + body_;
    }

private:
    static void appendLe32(std::string& out, std::uint32_t value) {
        for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((value >> shift) & 0xFF);
    }
    static void appendTag(std::string& out, std::uint16_t element, std::size_t length) {
        out += '\0';
        out += '\0';  // group 0000
        out += static_cast<char>(element & 0xFF);
        out += static_cast<char>(element >> 8);
        appendLe32(out, static_cast<std::uint32_t>(length));
    }
    void tag(std::uint16_t element, std::size_t length) { appendTag(body_, element, length); }

    std::string body_;
};

// C-STORE-RQ command set.
std::string storeCommand(const RetrievedFile& file, DIC_US messageId, const std::string* moveOriginator,
                         DIC_US moveMessageId) {
    CommandEncoder command;
    command.text(0x0002, file.sopClassUid, '\0');
    command.us(0x0100, DIMSE_C_STORE_RQ);
    command.us(0x0110, messageId);
    command.us(0x0700, 0x0000);  // priority MEDIUM
    command.us(0x0800, 0x0001);  // a data set follows (anything but 0101H)
    command.text(0x1000, file.sopInstanceUid, '\0');
    if (moveOriginator) {
        command.text(0x1030, *moveOriginator, ' ');
        command.us(0x1031, moveMessageId);
    }
    return command.bytes();
}

// Writes one PDV (a command or data set fragment; `last` ends the message or data set).
OFCondition writePdv(T_ASC_Association* association, T_ASC_PresentationContextID context, DUL_DATAPDV type,
                     const char* data, std::size_t length, bool last) {
    DUL_PDV pdv;
    DUL_PDVLIST list;
    std::memset(&list, 0, sizeof list);
    list.count = 1;
    list.pdv = &pdv;
    pdv.presentationContextID = context;
    pdv.pdvType = type;
    pdv.lastPDV = last ? OFTrue : OFFalse;
    pdv.fragmentLength = length;
    pdv.data = const_cast<char*>(data);  // DUL only reads it
    return DUL_WritePDVs(&association->DULassociation, &list);
}

// Writes a command set that has no data set after it as one command PDV.
OFCondition writeCommand(T_ASC_Association* association, T_ASC_PresentationContextID context, std::string& command) {
    return writePdv(association, context, DUL_COMMANDPDV, command.data(), command.size(), true);
}

// Reads a whole file for storeRaw (one read of its size, not a character at a time); the data
// set's offset, or nullopt when it cannot be read or is no longer the file that was opened
// (replaced in between).
std::optional<std::size_t> readForSend(const RetrievedFile& file, std::string& buffer) {
    std::ifstream in(file.path, std::ios::binary | std::ios::ate);
    if (!in) return std::nullopt;
    const std::streamoff size = in.tellg();
    if (size < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(size));
    in.seekg(0);
    if (!in.read(buffer.data(), size)) return std::nullopt;
    const auto header = parsePart10Header(buffer.data(), buffer.size());
    if (!header || header->transferSyntaxUid != file.transferSyntaxUid || header->sopClassUid != file.sopClassUid)
        return std::nullopt;
    return static_cast<std::size_t>(header->dataSetOffset);
}

// Reads the C-STORE-RSP to `messageId` and decodes the few elements needed from its command set
// (implicit VR little endian): DIMSE_receiveCommand would parse it into a DcmDataset, about a
// third of the server's instructions per sub-operation. A data set PDV, a truncated command or
// another command is an error, as is anything DUL reports (release request, abort, timeout).
OFCondition receiveStoreResponse(T_ASC_Association* association, int timeoutSeconds, DIC_US messageId, DIC_US& status) {
    std::string command;
    while (true) {
        DUL_PDV pdv;
        OFCondition condition = DUL_NextPDV(&association->DULassociation, &pdv);
        if (condition.bad()) {
            // Nothing left in the last PDU: block for the next one, as DIMSE_BLOCKING does.
            // DUL_PDATAPDUARRIVED is its success; anything else (release, abort, timeout) ends it.
            condition = DUL_ReadPDVs(&association->DULassociation, nullptr, DUL_BLOCK, timeoutSeconds);
            if (condition != DUL_PDATAPDUARRIVED) return condition.bad() ? condition : DUL_NOPDVS;
            condition = DUL_NextPDV(&association->DULassociation, &pdv);
            if (condition.bad()) return condition;
        }
        if (pdv.pdvType != DUL_COMMANDPDV)
            return makeOFCondition(OFM_dcmnet, 4, OF_error, "unexpected data set in an answer to a C-STORE");
        command.append(static_cast<const char*>(pdv.data), pdv.fragmentLength);
        if (pdv.lastPDV) break;
        if (command.size() > 65536) return makeOFCondition(OFM_dcmnet, 4, OF_error, "oversized C-STORE-RSP");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(command.data());
    std::optional<DIC_US> field;
    std::optional<DIC_US> respondedTo;
    std::optional<DIC_US> found;
    for (std::size_t pos = 0; pos + 8 <= command.size();) {
        const unsigned group = bytes[pos] | (bytes[pos + 1] << 8);
        const unsigned element = bytes[pos + 2] | (bytes[pos + 3] << 8);
        const std::size_t length =
            static_cast<std::size_t>(bytes[pos + 4]) | (static_cast<std::size_t>(bytes[pos + 5]) << 8) |
            (static_cast<std::size_t>(bytes[pos + 6]) << 16) | (static_cast<std::size_t>(bytes[pos + 7]) << 24);
        pos += 8;
        if (group != 0x0000 || length > command.size() - pos) break;
        if (length == 2) {
            const auto value = static_cast<DIC_US>(bytes[pos] | (bytes[pos + 1] << 8));
            if (element == 0x0100) field = value;
            if (element == 0x0120) respondedTo = value;
            if (element == 0x0900) found = value;
        }
        pos += length;
    }
    if (field != DIMSE_C_STORE_RSP || respondedTo != messageId || !found)
        return makeOFCondition(OFM_dcmnet, 4, OF_error, "unexpected answer to a C-STORE");
    status = *found;
    return EC_Normal;
}

// One C-STORE of a file read by readForSend, whose transfer syntax is the context's: the
// command, then the data set bytes exactly as stored (after the meta header), in PDVs of the
// size the peer accepts. DCMTK's DIMSE_storeUser would parse the whole file and encode it again
// (slower, and it re-pads some values).
OFCondition storeRaw(T_ASC_Association* association, T_ASC_PresentationContextID context, const RetrievedFile& file,
                     const std::string& buffer, std::size_t dataSetOffset, int timeoutSeconds, DIC_US& status,
                     const std::string* moveOriginator, DIC_US moveMessageId) {
    const DIC_US messageId = association->nextMsgID++;
    std::string command = storeCommand(file, messageId, moveOriginator, moveMessageId);
    OFCondition condition = writeCommand(association, context, command);
    if (condition.bad()) return condition;
    const std::size_t fragment = std::max<unsigned long>(association->sendPDVLength, 64) & ~std::size_t{1};
    std::size_t pos = dataSetOffset;
    do {
        const std::size_t length = std::min(fragment, buffer.size() - pos);
        const char* data = buffer.data() + pos;
        pos += length;
        condition = writePdv(association, context, DUL_DATASETPDV, data, length, pos >= buffer.size());
        if (condition.bad()) return condition;
    } while (pos < buffer.size());

    return receiveStoreResponse(association, timeoutSeconds, messageId, status);
}

// The transfer syntax the peer accepted on a context.
std::string acceptedTransferSyntax(T_ASC_Association* association, T_ASC_PresentationContextID id) {
    T_ASC_PresentationContext context;
    if (ASC_findAcceptedPresentationContext(association->params, id, &context).bad()) return {};
    return context.acceptedTransferSyntax;
}

// DcmTransportConnection::getSocket is protected; this reaches it for setsockopt.
struct SocketOf : DcmTransportConnection {
    static int get(DcmTransportConnection& connection) { return (connection.*(&SocketOf::getSocket))(); }
};

// The association a C-MOVE opens to its destination.
class OutgoingAssociation {
public:
    OutgoingAssociation() = default;
    OutgoingAssociation(const OutgoingAssociation&) = delete;
    OutgoingAssociation& operator=(const OutgoingAssociation&) = delete;
    ~OutgoingAssociation() {
        if (association_) {
            ASC_abortAssociation(association_);
            ASC_destroyAssociation(&association_);
        }
        if (network_) ASC_dropNetwork(&network_);
    }

    // Offers every (SOP class, transfer syntax) of the files in its own context, plus the
    // uncompressed syntaxes once per SOP class for uncompressed files the peer refuses as they are.
    OFCondition open(const std::string& ourAeTitle, const core::MoveDestination& destination,
                     const std::set<std::pair<std::string, std::string>>& pairs, int timeoutSeconds) {
        OFCondition condition = ASC_initializeNetwork(NET_REQUESTOR, 0, timeoutSeconds, &network_);
        if (condition.bad()) return condition;
        T_ASC_Parameters* params = nullptr;
        condition = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
        if (condition.bad()) return condition;
        ASC_setAPTitles(params, ourAeTitle.c_str(), destination.aeTitle.c_str(), nullptr);
        const std::string peer = destination.address + ":" + std::to_string(destination.port);
        ASC_setPresentationAddresses(params, OFStandard::getHostName().c_str(), peer.c_str());
        T_ASC_PresentationContextID id = 1;
        std::set<std::string> withFallback;
        for (const auto& [sopClass, transferSyntax] : pairs) {
            if (id > 253) break;  // 128 contexts at most
            const char* one[] = {transferSyntax.c_str()};
            ASC_addPresentationContext(params, id, sopClass.c_str(), one, 1);
            id = static_cast<T_ASC_PresentationContextID>(id + 2);
            if (id <= 253 && isUncompressed(transferSyntax) && withFallback.insert(sopClass).second) {
                const char* fallback[] = {UID_LittleEndianExplicitTransferSyntax,
                                          UID_LittleEndianImplicitTransferSyntax};
                ASC_addPresentationContext(params, id, sopClass.c_str(), fallback, 2);
                id = static_cast<T_ASC_PresentationContextID>(id + 2);
            }
        }
        condition = ASC_requestAssociation(network_, params, &association_);
        if (condition.bad()) {
            if (!association_) ASC_destroyAssociationParameters(&params);
            return condition;
        }
        if (ASC_countAcceptedPresentationContexts(association_->params) == 0)
            return makeOFCondition(OFM_dcmnet, 1, OF_error, "no presentation context accepted");
        // Each C-STORE ends with a short PDU and then waits for the answer: with Nagle's
        // algorithm on (DCMTK's default unless TCP_NODELAY=1 is in the environment) that PDU
        // can wait for the peer's delayed ACK.
        if (auto* connection = DUL_getTransportConnection(association_->DULassociation)) {
            const int yes = 1;
            ::setsockopt(SocketOf::get(*connection), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        }
        return EC_Normal;
    }

    T_ASC_Association* raw() const noexcept { return association_; }

    void release() {
        if (!association_) return;
        if (ASC_releaseAssociation(association_).bad()) ASC_abortAssociation(association_);
        ASC_destroyAssociation(&association_);
    }
    void abort() {
        if (!association_) return;
        ASC_abortAssociation(association_);
        ASC_destroyAssociation(&association_);
    }

private:
    T_ASC_Network* network_ = nullptr;
    T_ASC_Association* association_ = nullptr;
};

std::unique_ptr<DcmDataset> failedUidList(const SubOperationCounts& counts) {
    if (counts.failedUids.empty()) return nullptr;
    std::string joined;
    for (const auto& uid : counts.failedUids) joined += (joined.empty() ? "" : "\\") + uid;
    auto dataset = std::make_unique<DcmDataset>();
    dataset->putAndInsertString(DCM_FailedSOPInstanceUIDList, joined.c_str());
    return dataset;
}

}  // namespace

struct QueryRetrieveScpService::Impl {
    core::ServerSettings& settings;
    const core::QueryService& queries;
    core::MoveDestinations& destinations;
    core::FindService finder;
    InstanceSource source;
    mutable std::mutex mutex;  // start/stop/override
    std::unique_ptr<DicomListener> listener;
    std::string aeTitle;
    std::chrono::milliseconds responseDelay{0};

    Impl(core::ServerSettings& s, const core::QueryService& q, const core::ProviderRegistry& r,
         core::MoveDestinations& d)
        : settings(s), queries(q), destinations(d), finder(q), source(q, r) {}

    static std::vector<AcceptedSyntax> contexts() {
        std::vector<AcceptedSyntax> out;
        for (const auto* models : {&findModels(), &moveModels(), &getModels()}) {
            for (const char* model : *models) out.push_back({model, queryTransferSyntaxes()});
        }
        for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
            out.push_back({dcmAllStorageSOPClassUIDs[i], getStorageTransferSyntaxes()});
        return out;
    }

    bool handle(DicomAssociation& association, T_DIMSE_Message& request, T_ASC_PresentationContextID context) {
        switch (request.CommandField) {
            case DIMSE_C_FIND_RQ:
                find(association, request.msg.CFindRQ, context);
                return true;
            case DIMSE_C_MOVE_RQ:
                move(association, request.msg.CMoveRQ, context);
                return true;
            case DIMSE_C_GET_RQ:
                get(association, request.msg.CGetRQ, context);
                return true;
            case DIMSE_C_CANCEL_RQ:
                return true;  // for an operation already finished: nothing to do
            default:
                return false;
        }
    }

    // Reads the identifier that follows a request; throws when the association is unusable.
    static std::unique_ptr<DcmDataset> receiveIdentifier(DicomAssociation& association,
                                                         T_ASC_PresentationContextID context) {
        DcmDataset* identifier = nullptr;
        T_ASC_PresentationContextID dataContext = context;
        const OFCondition condition =
            DIMSE_receiveDataSetInMemory(association.raw(), DIMSE_BLOCKING, association.dimseTimeoutSeconds(),
                                         &dataContext, &identifier, nullptr, nullptr);
        if (condition.bad()) {
            delete identifier;
            throw AssociationBroken(std::string("cannot read the identifier: ") + condition.text());
        }
        return std::unique_ptr<DcmDataset>(identifier);
    }

    static void send(DicomAssociation& association, T_ASC_PresentationContextID context, T_DIMSE_Message& message,
                     DcmDataset* detail, DcmDataset* dataset) {
        const OFCondition condition =
            DIMSE_sendMessageUsingMemoryData(association.raw(), context, &message, detail, dataset, nullptr, nullptr);
        if (condition.bad()) throw AssociationBroken(std::string("cannot send a response: ") + condition.text());
    }

    static bool cancelled(DicomAssociation& association, T_ASC_PresentationContextID context, DIC_US messageId) {
        return DIMSE_checkForCancelRQ(association.raw(), context, messageId) == EC_Normal;
    }

    // ---- C-FIND ----------------------------------------------------------------------------

    void find(DicomAssociation& association, T_DIMSE_C_FindRQ& request, T_ASC_PresentationContextID context) {
        auto identifier = receiveIdentifier(association, context);
        T_DIMSE_Message message;
        std::memset(&message, 0, sizeof message);
        message.CommandField = DIMSE_C_FIND_RSP;
        auto& response = message.msg.CFindRSP;
        response.MessageIDBeingRespondedTo = request.MessageID;
        OFStandard::strlcpy(response.AffectedSOPClassUID, request.AffectedSOPClassUID,
                            sizeof response.AffectedSOPClassUID);
        response.opts = O_FIND_AFFECTEDSOPCLASSUID;

        const auto parsed = readIdentifier(*identifier);
        if (!parsed.level || (isStudyRoot(request.AffectedSOPClassUID) && *parsed.level == core::QueryLevel::Patient)) {
            auto detail =
                failureDetail("Invalid QueryRetrieveLevel '" + parsed.levelText + "'", DCM_QueryRetrieveLevel);
            response.DimseStatus = STATUS_FIND_Error_DataSetDoesNotMatchSOPClass;
            response.DataSetType = DIMSE_DATASET_NULL;
            send(association, context, message, detail.get(), nullptr);
            return;
        }
        logger().debug("C-FIND %s at %s from %s", std::string(core::toString(*parsed.level)),
                       request.AffectedSOPClassUID, association.describe());
        bool wasCancelled = false;
        std::size_t matches = 0;
        std::unique_ptr<DcmDataset> failure;
        try {
            matches = finder.find({*parsed.level, parsed.keys}, [&](const core::FindResponse& found) {
                if (responseDelay.count() > 0) std::this_thread::sleep_for(responseDelay);
                if (association.stopRequested()) return false;
                if (cancelled(association, context, request.MessageID)) {
                    wasCancelled = true;
                    return false;
                }
                auto dataset = responseIdentifier(*identifier, found, aeTitle);
                response.DimseStatus = parsed.hasSequenceKeys ? STATUS_FIND_Pending_WarningUnsupportedOptionalKeys
                                                              : STATUS_FIND_Pending_MatchesAreContinuing;
                response.DataSetType = DIMSE_DATASET_PRESENT;
                send(association, context, message, nullptr, dataset.get());
                return true;
            });
        } catch (const sdk::Error& e) {
            logger().warning("C-FIND from %s failed: %s", association.describe(), std::string(e.what()));
            failure = failureDetail(e.what());
        }
        response.DataSetType = DIMSE_DATASET_NULL;
        response.DimseStatus = failure        ? STATUS_FIND_Failed_UnableToProcess
                               : wasCancelled ? STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest
                                              : STATUS_Success;
        send(association, context, message, failure.get(), nullptr);
        logger().information("C-FIND %s from %s: %?d matches%s", std::string(core::toString(*parsed.level)),
                             association.describe(), matches, std::string(wasCancelled ? " (cancelled)" : ""));
    }

    // ---- C-MOVE and C-GET ------------------------------------------------------------------

    // The responses of one retrieve, C-MOVE or C-GET (same fields, different structs).
    struct RetrieveResponder {
        DicomAssociation& association;
        T_ASC_PresentationContextID context;
        bool isMove;
        DIC_US messageId;
        std::string sopClass;

        void send(DIC_US status, const SubOperationCounts& counts, bool withRemaining, DcmDataset* detail,
                  DcmDataset* identifier) const {
            T_DIMSE_Message message;
            std::memset(&message, 0, sizeof message);
            const bool pending = status == STATUS_MOVE_Pending_SubOperationsAreContinuing;
            if (pending && !detail && !identifier) {
                // One goes out after every sub-operation: encoded by hand, since DCMTK builds and
                // encodes a DcmDataset per message (a quarter of a C-MOVE's CPU per instance).
                CommandEncoder command;
                command.text(0x0002, sopClass, '\0');
                command.us(0x0100, isMove ? DIMSE_C_MOVE_RSP : DIMSE_C_GET_RSP);
                command.us(0x0120, messageId);
                command.us(0x0800, 0x0101);  // no data set
                command.us(0x0900, status);
                command.us(0x1020, clampCount(counts.remaining));
                command.us(0x1021, clampCount(counts.completed));
                command.us(0x1022, clampCount(counts.failed));
                command.us(0x1023, clampCount(counts.warning));
                std::string bytes = command.bytes();
                const OFCondition condition = writeCommand(association.raw(), context, bytes);
                if (condition.bad())
                    throw AssociationBroken(std::string("cannot send a response: ") + condition.text());
                return;
            }
            // C-MOVE-RSP and C-GET-RSP carry the same fields in different DCMTK structs and flags.
            auto fill = [&](auto& r, unsigned sopClassFlag, unsigned completedFlag, unsigned failedFlag,
                            unsigned warningFlag, unsigned remainingFlag) {
                r.MessageIDBeingRespondedTo = messageId;
                OFStandard::strlcpy(r.AffectedSOPClassUID, sopClass.c_str(), sizeof r.AffectedSOPClassUID);
                r.DimseStatus = status;
                r.DataSetType = identifier ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
                r.NumberOfRemainingSubOperations = clampCount(counts.remaining);
                r.NumberOfCompletedSubOperations = clampCount(counts.completed);
                r.NumberOfFailedSubOperations = clampCount(counts.failed);
                r.NumberOfWarningSubOperations = clampCount(counts.warning);
                r.opts = sopClassFlag | completedFlag | failedFlag | warningFlag |
                         (pending || withRemaining ? remainingFlag : 0);
            };
            if (isMove) {
                message.CommandField = DIMSE_C_MOVE_RSP;
                fill(message.msg.CMoveRSP, O_MOVE_AFFECTEDSOPCLASSUID, O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS,
                     O_MOVE_NUMBEROFFAILEDSUBOPERATIONS, O_MOVE_NUMBEROFWARNINGSUBOPERATIONS,
                     O_MOVE_NUMBEROFREMAININGSUBOPERATIONS);
            } else {
                message.CommandField = DIMSE_C_GET_RSP;
                fill(message.msg.CGetRSP, O_GET_AFFECTEDSOPCLASSUID, O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS,
                     O_GET_NUMBEROFFAILEDSUBOPERATIONS, O_GET_NUMBEROFWARNINGSUBOPERATIONS,
                     O_GET_NUMBEROFREMAININGSUBOPERATIONS);
            }
            Impl::send(association, context, message, detail, identifier);
        }

        void refuse(DIC_US status, const std::string& comment,
                    std::optional<DcmTagKey> offending = std::nullopt) const {
            auto detail = failureDetail(comment, offending);
            T_DIMSE_Message message;
            std::memset(&message, 0, sizeof message);
            if (isMove) {
                message.CommandField = DIMSE_C_MOVE_RSP;
                auto& r = message.msg.CMoveRSP;
                r.MessageIDBeingRespondedTo = messageId;
                OFStandard::strlcpy(r.AffectedSOPClassUID, sopClass.c_str(), sizeof r.AffectedSOPClassUID);
                r.DimseStatus = status;
                r.DataSetType = DIMSE_DATASET_NULL;
                r.opts = O_MOVE_AFFECTEDSOPCLASSUID;
            } else {
                message.CommandField = DIMSE_C_GET_RSP;
                auto& r = message.msg.CGetRSP;
                r.MessageIDBeingRespondedTo = messageId;
                OFStandard::strlcpy(r.AffectedSOPClassUID, sopClass.c_str(), sizeof r.AffectedSOPClassUID);
                r.DimseStatus = status;
                r.DataSetType = DIMSE_DATASET_NULL;
                r.opts = O_GET_AFFECTEDSOPCLASSUID;
            }
            Impl::send(association, context, message, detail.get(), nullptr);
        }
    };

    // Sends one file; returns the C-STORE status, or nullopt when it could not be sent at all.
    // `index` is the file's position in the retrieve's list.
    using SendOne =
        std::function<std::optional<DIC_US>(std::size_t index, const RetrievedFile& file, bool& cancelledDuring)>;
    // The file of the index-th sub-operation (InstanceSource::open, or what a C-MOVE read before).
    using OpenAt = std::function<std::optional<RetrievedFile>(std::size_t index)>;

    // The sub-operation loop shared by C-MOVE and C-GET: pending responses after each, C-CANCEL
    // checked between them, the final status at the end.
    void runSubOperations(const RetrieveResponder& responder, std::size_t total, const OpenAt& openAt,
                          const SendOne& sendOne) {
        SubOperationCounts counts;
        counts.remaining = total;
        bool wasCancelled = false;
        for (std::size_t index = 0; index < total; ++index) {
            if (responder.association.stopRequested()) break;
            if (cancelled(responder.association, responder.context, responder.messageId)) {
                wasCancelled = true;
                break;
            }
            --counts.remaining;
            const auto file = openAt(index);
            std::optional<DIC_US> status;
            bool cancelledDuring = false;
            bool broken = false;
            if (file) {
                try {
                    status = sendOne(index, *file, cancelledDuring);
                } catch (const SubOperationsBroken&) {
                    broken = true;
                }
                InstanceSource::release(*file);
            }
            if (broken) {
                // The destination went away: this and every remaining sub-operation failed.
                counts.failed += 1 + counts.remaining;
                counts.remaining = 0;
                if (!file->sopInstanceUid.empty()) counts.failedUids.push_back(file->sopInstanceUid);
                break;
            }
            if (!status || (*status & 0xF000) == 0xA000 || (*status & 0xF000) == 0xC000) {
                ++counts.failed;
                if (file && !file->sopInstanceUid.empty()) counts.failedUids.push_back(file->sopInstanceUid);
            } else if (*status != STATUS_Success) {
                ++counts.warning;
            } else {
                ++counts.completed;
            }
            if (cancelledDuring) {
                wasCancelled = true;
                break;
            }
            if (counts.remaining > 0)
                responder.send(STATUS_MOVE_Pending_SubOperationsAreContinuing, counts, true, nullptr, nullptr);
        }
        auto failedList = failedUidList(counts);
        DIC_US status = STATUS_Success;
        if (wasCancelled)
            status = STATUS_MOVE_Cancel_SubOperationsTerminatedDueToCancelIndication;
        else if (counts.failed > 0 || counts.warning > 0)
            status = STATUS_MOVE_Warning_SubOperationsCompleteOneOrMoreFailures;
        if (status == STATUS_Success) counts.remaining = 0;
        responder.send(status, counts, wasCancelled, nullptr, failedList.get());
        logger().information("C-%s from %s: %?d completed, %?d failed, %?d warnings%s",
                             std::string(responder.isMove ? "MOVE" : "GET"), responder.association.describe(),
                             counts.completed, counts.failed, counts.warning,
                             std::string(wasCancelled ? " (cancelled)" : ""));
    }

    void move(DicomAssociation& association, T_DIMSE_C_MoveRQ& request, T_ASC_PresentationContextID context) {
        auto identifier = receiveIdentifier(association, context);
        const RetrieveResponder responder{association, context, true, request.MessageID, request.AffectedSOPClassUID};
        std::string destinationAe = request.MoveDestination;
        while (!destinationAe.empty() && destinationAe.back() == ' ') destinationAe.pop_back();
        const auto destination = destinations.find(destinationAe);
        if (!destination) {
            // Dicoogle falls back to the caller's address and source port; PS3.4 says refuse.
            logger().warning("C-MOVE from %s to unknown destination '%s' refused", association.describe(),
                             destinationAe);
            responder.refuse(STATUS_MOVE_Refused_MoveDestinationUnknown, "Unknown move destination " + destinationAe);
            return;
        }
        const auto target = retrieveTarget(*identifier, request.AffectedSOPClassUID);
        if (!target.error.empty()) {
            responder.refuse(STATUS_MOVE_Error_DataSetDoesNotMatchSOPClass, target.error, target.offending);
            return;
        }
        std::vector<sdk::Uri> uris;
        try {
            uris = source.urisFor(target.level, target.uids);
        } catch (const sdk::Error& e) {
            responder.refuse(STATUS_MOVE_Failed_UnableToProcess, e.what());
            return;
        }
        if (uris.empty()) {
            responder.send(STATUS_Success, {}, false, nullptr, nullptr);
            return;
        }

        // The contexts to offer: every (SOP class, transfer syntax) of the files, plus the
        // uncompressed syntaxes per SOP class for uncompressed files the peer refuses as they are.
        // The headers read here are kept for the sub-operations, so each file's header is read
        // once (temporary copies of non-local providers are released and fetched again in turn).
        std::set<std::pair<std::string, std::string>> pairs;
        std::vector<std::optional<RetrievedFile>> opened(uris.size());
        for (std::size_t i = 0; i < uris.size(); ++i) {
            if (auto file = source.open(uris[i])) {
                pairs.insert({file->sopClassUid, file->transferSyntaxUid});
                if (file->temporary)
                    InstanceSource::release(*file);
                else
                    opened[i] = std::move(file);
            }
        }
        auto openAt = [&](std::size_t index) -> std::optional<RetrievedFile> {
            if (opened[index]) return std::exchange(opened[index], std::nullopt);
            return source.open(uris[index]);
        };
        OutgoingAssociation outgoing;
        const OFCondition connected = outgoing.open(aeTitle, *destination, pairs, association.dimseTimeoutSeconds());
        if (connected.bad()) {
            logger().warning("C-MOVE from %s: cannot associate with %s at %s:%hu: %s", association.describe(),
                             destination->aeTitle, destination->address, destination->port,
                             std::string(connected.text()));
            SubOperationCounts counts;
            counts.failed = uris.size();
            auto detail = failureDetail("Cannot associate with " + destination->aeTitle);
            responder.send(STATUS_MOVE_Refused_OutOfResourcesSubOperations, counts, false, detail.get(), nullptr);
            return;
        }
        const std::string originator = association.callingAeTitle();
        std::string buffer;
        runSubOperations(
            responder, uris.size(), openAt,
            [&](std::size_t, const RetrievedFile& file, bool&) -> std::optional<DIC_US> {
                const auto id = storeContext(outgoing.raw(), file);
                if (id == 0) {
                    logger().warning("C-MOVE to %s: no accepted context for %s in %s", destination->aeTitle,
                                     file.sopClassUid, file.transferSyntaxUid);
                    return std::nullopt;
                }
                DIC_US status = 0;
                OFCondition sent;
                if (acceptedTransferSyntax(outgoing.raw(), id) == file.transferSyntaxUid) {
                    const auto offset = readForSend(file, buffer);
                    if (!offset) {
                        logger().warning("C-MOVE to %s: cannot read %s", destination->aeTitle, file.path.string());
                        return std::nullopt;
                    }
                    sent = storeRaw(outgoing.raw(), id, file, buffer, *offset, association.dimseTimeoutSeconds(),
                                    status, &originator, request.MessageID);
                } else {
                    // Another uncompressed syntax than the file's: DCMTK converts while sending.
                    sent = storeFile(outgoing.raw(), id, file, association.dimseTimeoutSeconds(), status, &originator,
                                     request.MessageID, nullptr);
                }
                if (sent.bad()) {
                    logger().warning("C-MOVE to %s: C-STORE failed: %s", destination->aeTitle,
                                     std::string(sent.text()));
                    outgoing.abort();
                    throw SubOperationsBroken(std::string(sent.text()));
                }
                return status;
            });
        outgoing.release();
    }

    void get(DicomAssociation& association, T_DIMSE_C_GetRQ& request, T_ASC_PresentationContextID context) {
        auto identifier = receiveIdentifier(association, context);
        const RetrieveResponder responder{association, context, false, request.MessageID, request.AffectedSOPClassUID};
        const auto target = retrieveTarget(*identifier, request.AffectedSOPClassUID);
        if (!target.error.empty()) {
            responder.refuse(STATUS_GET_Error_DataSetDoesNotMatchSOPClass, target.error, target.offending);
            return;
        }
        std::vector<sdk::Uri> uris;
        try {
            uris = source.urisFor(target.level, target.uids);
        } catch (const sdk::Error& e) {
            responder.refuse(STATUS_GET_Failed_UnableToProcess, e.what());
            return;
        }
        T_ASC_Association* raw = association.raw();
        runSubOperations(
            responder, uris.size(), [&](std::size_t index) { return source.open(uris[index]); },
            [&](std::size_t, const RetrievedFile& file, bool& cancelledDuring) -> std::optional<DIC_US> {
                const auto id = storeContext(raw, file);
                if (id == 0) {
                    logger().warning("C-GET from %s: no storage context for %s in %s", association.describe(),
                                     file.sopClassUid, file.transferSyntaxUid);
                    return std::nullopt;
                }
                DIC_US status = 0;
                T_DIMSE_DetectedCancelParameters cancel;
                std::memset(&cancel, 0, sizeof cancel);
                const OFCondition sent =
                    storeFile(raw, id, file, association.dimseTimeoutSeconds(), status, nullptr, 0, &cancel);
                if (cancel.cancelEncountered && cancel.req.MessageIDBeingRespondedTo == request.MessageID)
                    cancelledDuring = true;
                if (sent.bad()) {
                    logger().warning("C-GET from %s: C-STORE failed: %s", association.describe(),
                                     std::string(sent.text()));
                    throw AssociationBroken(std::string("cannot send a sub-operation: ") + sent.text());
                }
                return status;
            });
    }
};

QueryRetrieveScpService::QueryRetrieveScpService(core::ServerSettings& settings, const core::QueryService& queries,
                                                 const core::ProviderRegistry& registry,
                                                 core::MoveDestinations& destinations, const DicomServices& services)
    : impl_(std::make_unique<Impl>(settings, queries, registry, destinations)), services_(services) {}

QueryRetrieveScpService::~QueryRetrieveScpService() {
    stop();
}

std::string QueryRetrieveScpService::name() const {
    return "query";
}

void QueryRetrieveScpService::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->listener && impl_->listener->running()) return;
    auto config = queryListenerConfig(impl_->settings);
    config.port = services_.portFor(name(), config.port);
    impl_->aeTitle = impl_->settings.aeTitle();
    impl_->responseDelay = std::chrono::milliseconds(
        std::clamp<long long>(impl_->settings.getInt("dicom-services.query-retrieve.rsp-delay", 0), 0, 60000));
    auto* impl = impl_.get();
    impl_->listener = std::make_unique<DicomListener>(
        std::move(config), [] { return Impl::contexts(); },
        [impl](DicomAssociation& association, T_DIMSE_Message& request, T_ASC_PresentationContextID context) {
            return impl->handle(association, request, context);
        });
    impl_->listener->start();
}

void QueryRetrieveScpService::stop() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->listener) impl_->listener->stop();
}

bool QueryRetrieveScpService::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->listener && impl_->listener->running();
}

std::uint16_t QueryRetrieveScpService::port() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->listener ? impl_->listener->port() : 0;
}

}  // namespace tessera::server
