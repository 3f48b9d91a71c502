#include "dicom/dicom_listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dul.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

using sdk::Error;
using sdk::ErrorCode;
using Clock = std::chrono::steady_clock;

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom");
}

// How often idle threads look at the stop flag, and how long stop() lets associations end on
// their own before it shuts their sockets down.
constexpr int kPollSeconds = 1;
constexpr auto kStopGrace = std::chrono::milliseconds(1000);
constexpr int kListenBacklog = 64;
// The accept thread reads each A-ASSOCIATE-RQ itself (DCMTK does accept() and the read in one
// call), so a peer that connects and sends nothing holds it for the ARTIM timeout. Peers send
// the request right after connecting; capping ARTIM keeps stop() and the next accept prompt.
constexpr int kMaxArtimSeconds = 2;
// A PDU carries a PDV item header (length 4, context 1, control 1) inside a PDU header (6):
// what DCMTK may put in one PDV is the PDU length minus both.
constexpr std::uint32_t kPduOverhead = 12;

std::string trimmedTitle(const char* text) {
    std::string title(text);
    const auto first = title.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return title.substr(first, title.find_last_not_of(' ') - first + 1);
}

std::string errnoText(int err) {
    return std::strerror(err);
}

// Our own listening socket: DCMTK binds every interface and cannot report port 0's choice, so
// the service binds this one and lays it over DCMTK's descriptor (see start()).
int bindListeningSocket(const DicomListenerConfig& config) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(config.port);
    const int rc =
        ::getaddrinfo(config.hostname.empty() ? nullptr : config.hostname.c_str(), service.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr)
        throw Error(ErrorCode::InvalidArgument, "DICOM " + config.name + " service: cannot resolve hostname '" +
                                                    config.hostname + "': " + ::gai_strerror(rc));
    const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0) {
        const int err = errno;
        ::freeaddrinfo(found);
        throw Error(ErrorCode::Unavailable, "DICOM " + config.name + " service: no socket: " + errnoText(err));
    }
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    const int bound = ::bind(fd, found->ai_addr, found->ai_addrlen);
    const int err = errno;
    ::freeaddrinfo(found);
    if (bound != 0 || ::listen(fd, kListenBacklog) != 0) {
        const int failure = bound != 0 ? err : errno;
        ::close(fd);
        throw Error(ErrorCode::Unavailable,
                    "DICOM " + config.name + " service cannot listen on " +
                        (config.hostname.empty() ? std::string("port ") : config.hostname + ":") + service + ": " +
                        errnoText(failure));
    }
    return fd;
}

std::uint16_t boundPortOf(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
    return ntohs(address.sin_port);
}

// DCMTK keeps an association's socket to itself (getSocket() is protected), but stop() must
// be able to wake a thread blocked inside a message. A member pointer taken through a derived
// class reads it without touching DCMTK's internals.
struct SocketOf : DcmTransportConnection {
    static int get(DcmTransportConnection& connection) { return (connection.*(&SocketOf::getSocket))(); }
};

void reject(T_ASC_Association* association, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters parameters;
    parameters.result = result;
    parameters.source = source;
    parameters.reason = reason;
    ASC_rejectAssociation(association, &parameters);
}

void dropAndDestroy(T_ASC_Association*& association) {
    if (!association) return;
    ASC_dropSCPAssociation(association);
    ASC_destroyAssociation(&association);
}

}  // namespace

class DicomListener::Impl {
public:
    Impl(DicomListenerConfig config, ContextSource contexts, CommandHandler handler)
        : config_(std::move(config)), contexts_(std::move(contexts)), handler_(std::move(handler)) {}

    ~Impl() { stop(); }

    void start() {
        std::lock_guard control(controlMutex_);
        if (running_) return;
        const int ours = bindListeningSocket(config_);
        T_ASC_Network* network = nullptr;
        // Numeric peer addresses: a reverse DNS lookup per association can take seconds.
        dcmDisableGethostbyaddr.set(OFTrue);
        const int artim = static_cast<int>(std::clamp<long long>(config_.acseTimeout.count(), 1, kMaxArtimSeconds));
        // Port 0: DCMTK binds some free port, which is replaced by ours below.
        const OFCondition condition = ASC_initializeNetwork(NET_ACCEPTOR, 0, artim, &network);
        if (condition.bad()) {
            ::close(ours);
            throw Error(ErrorCode::Unavailable,
                        "DICOM " + config_.name + " service: cannot initialise the network: " + condition.text());
        }
        const int dcmtkSocket = DUL_networkSocket(network->network);
        if (dcmtkSocket < 0 || ::dup2(ours, dcmtkSocket) < 0) {
            const int err = errno;
            ::close(ours);
            ASC_dropNetwork(&network);
            throw Error(ErrorCode::Unavailable,
                        "DICOM " + config_.name + " service: cannot take over the listening socket: " + errnoText(err));
        }
        ::close(ours);
        network_ = network;
        port_ = boundPortOf(dcmtkSocket);
        stopping_ = false;
        running_ = true;
        acceptThread_ = std::thread([this] { acceptLoop(); });
        logger().information("DICOM %s service listening on %s:%hu as %s", config_.name,
                             config_.hostname.empty() ? std::string("*") : config_.hostname, port_.load(),
                             config_.aeTitles.front());
    }

    void stop() {
        std::lock_guard control(controlMutex_);
        if (!running_) return;
        stopping_ = true;
        // Idle associations see the flag within kPollSeconds and abort; the rest are inside a
        // message (a large data set, a slow peer) and only a dead socket wakes them.
        const auto deadline = Clock::now() + kStopGrace;
        if (acceptThread_.joinable()) acceptThread_.join();

        while (Clock::now() < deadline && activeAssociations() > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        {
            std::lock_guard lock(workersMutex_);
            for (auto& worker : workers_)
                if (worker->socket >= 0) ::shutdown(worker->socket, SHUT_RDWR);
        }
        std::list<std::unique_ptr<Worker>> finished;
        {
            std::lock_guard lock(workersMutex_);
            finished.swap(workers_);
        }
        for (auto& worker : finished)
            if (worker->thread.joinable()) worker->thread.join();

        ASC_dropNetwork(&network_);
        network_ = nullptr;
        port_ = 0;
        running_ = false;
        logger().information("DICOM %s service stopped", config_.name);
    }

    bool running() const { return running_; }
    std::uint16_t port() const { return port_; }
    const DicomListenerConfig& config() const { return config_; }

    std::size_t activeAssociations() const {
        std::lock_guard lock(workersMutex_);
        return static_cast<std::size_t>(
            std::count_if(workers_.begin(), workers_.end(), [](const auto& worker) { return !worker->done.load(); }));
    }

private:
    struct Worker {
        std::thread thread;
        std::atomic<bool> done{false};
        int socket = -1;  // guarded by workersMutex_; -1 once the association is gone
    };

    void reapFinished() {
        std::list<std::unique_ptr<Worker>> finished;
        {
            std::lock_guard lock(workersMutex_);
            for (auto it = workers_.begin(); it != workers_.end();) {
                if ((*it)->done) {
                    finished.push_back(std::move(*it));
                    it = workers_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto& worker : finished) worker->thread.join();
    }

    void acceptLoop() {
        while (!stopping_) {
            reapFinished();
            T_ASC_Association* association = nullptr;
            const OFCondition condition = ASC_receiveAssociation(network_, &association, config_.maxPduReceive, nullptr,
                                                                 nullptr, OFFalse, DUL_NOBLOCK, kPollSeconds);
            if (condition == DUL_NOASSOCIATIONREQUEST) {
                if (association) ASC_destroyAssociation(&association);
                continue;
            }
            if (condition.bad()) {
                logger().warning("DICOM %s service: a connection failed before association: %s", config_.name,
                                 std::string(condition.text()));
                dropAndDestroy(association);
                continue;
            }
            if (stopping_) {
                reject(association, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                       ASC_REASON_SP_PRES_TEMPORARYCONGESTION);
                dropAndDestroy(association);
                break;
            }
            if (activeAssociations() >= config_.maxAssociations) {
                logger().warning("DICOM %s service: association from %s rejected: %z associations already open",
                                 config_.name, std::string(association->params->DULparams.callingAPTitle),
                                 config_.maxAssociations);
                reject(association, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                       ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
                dropAndDestroy(association);
                continue;
            }
            auto worker = std::make_unique<Worker>();
            Worker* raw = worker.get();
            if (auto* connection = DUL_getTransportConnection(association->DULassociation)) {
                raw->socket = SocketOf::get(*connection);
                // Responses are small writes followed by a read: without TCP_NODELAY each one
                // can wait for the peer's delayed ACK (measured: C-STOREs per association
                // nearly doubled with it; docs/benchmarks.md).
                const int yes = 1;
                ::setsockopt(raw->socket, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
            }
            std::lock_guard lock(workersMutex_);
            workers_.push_back(std::move(worker));
            raw->thread = std::thread([this, raw, association]() mutable { serve(*raw, association); });
        }
    }

    // Runs on the association's thread; owns `association` from here on.
    void serve(Worker& worker, T_ASC_Association* association) {
        try {
            if (auto accepted = negotiate(association)) commandLoop(*accepted);
        } catch (const sdk::Error& e) {
            // A handler's expected failure (the peer went away mid-message, a bad message).
            logger().warning("DICOM %s service: association aborted: %s", config_.name, std::string(e.what()));
            ASC_abortAssociation(association);
        } catch (const std::exception& e) {
            logger().error("DICOM %s service: association ended by an internal error: %s", config_.name,
                           std::string(e.what()));
            ASC_abortAssociation(association);
        } catch (...) {
            ASC_abortAssociation(association);
        }
        {
            std::lock_guard lock(workersMutex_);
            worker.socket = -1;  // stop() must not shut down a descriptor number reused later
        }
        dropAndDestroy(association);
        worker.done = true;
    }

    std::unique_ptr<DicomAssociation> negotiate(T_ASC_Association* association) {
        T_ASC_Parameters* params = association->params;
        char calling[64] = {};
        char called[64] = {};
        char contextName[128] = {};
        ASC_getAPTitles(params, calling, sizeof calling, called, sizeof called, nullptr, 0);
        ASC_getApplicationContextName(params, contextName, sizeof contextName);
        const std::string callingTitle = trimmedTitle(calling);
        const std::string calledTitle = trimmedTitle(called);
        const std::string peer = params->DULparams.callingPresentationAddress;
        const std::string who = callingTitle + "@" + peer + " -> " + calledTitle;

        if (std::strcmp(contextName, UID_StandardApplicationContext) != 0) {
            logger().warning("DICOM %s service: rejected %s: unknown application context %s", config_.name, who,
                             std::string(contextName));
            reject(association, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
            return nullptr;
        }
        const auto& titles = config_.aeTitles;
        if (std::find(titles.begin(), titles.end(), calledTitle) == titles.end()) {
            logger().warning("DICOM %s service: rejected %s: called AE title not ours", config_.name, who);
            reject(association, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
            return nullptr;
        }
        const auto& allowed = config_.allowedCallingAeTitles;
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), callingTitle) == allowed.end()) {
            logger().warning("DICOM %s service: rejected %s: calling AE title not allowed", config_.name, who);
            reject(association, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
            return nullptr;
        }

        acceptContexts(params, {AcceptedSyntax{UID_VerificationSOPClass, echoTransferSyntaxes()}});
        if (contexts_) acceptContexts(params, contexts_());
        if (ASC_countAcceptedPresentationContexts(params) == 0) {
            logger().warning("DICOM %s service: rejected %s: no acceptable presentation context", config_.name, who);
            reject(association, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
            return nullptr;
        }
        ASC_setAPTitles(params, nullptr, nullptr, calledTitle.c_str());
        const OFCondition acknowledged = ASC_acknowledgeAssociation(association);
        if (acknowledged.bad()) {
            logger().warning("DICOM %s service: %s: cannot acknowledge the association: %s", config_.name, who,
                             std::string(acknowledged.text()));
            return nullptr;
        }
        // DCMTK sends PDUs as large as the peer allows; the setting caps them.
        if (config_.maxPduSend > kPduOverhead && association->sendPDVLength > config_.maxPduSend - kPduOverhead)
            association->sendPDVLength = (config_.maxPduSend - kPduOverhead) & ~1UL;
        logger().debug("DICOM %s service: accepted %s", config_.name, who);
        return std::make_unique<DicomAssociation>(association, callingTitle, calledTitle, peer, config_.dimseTimeout,
                                                  stopping_);
    }

    // DCMTK accepts one abstract-syntax list against one transfer-syntax list per call, so SOP
    // classes with the same accepted list go together.
    static void acceptContexts(T_ASC_Parameters* params, const std::vector<AcceptedSyntax>& syntaxes) {
        std::map<std::vector<std::string>, std::vector<const char*>> groups;
        for (const auto& syntax : syntaxes)
            if (!syntax.transferSyntaxes.empty())
                groups[syntax.transferSyntaxes].push_back(syntax.abstractSyntax.c_str());
        for (const auto& [transferSyntaxes, abstractSyntaxes] : groups) {
            std::vector<const char*> ts;
            for (const auto& uid : transferSyntaxes) ts.push_back(uid.c_str());
            auto abstract = abstractSyntaxes;
            ASC_acceptContextsWithPreferredTransferSyntaxes(params, abstract.data(), static_cast<int>(abstract.size()),
                                                            ts.data(), static_cast<int>(ts.size()));
        }
        // C-GET: the requester proposes storage contexts in the SCP role (it receives the
        // sub-operations); accept the role it proposes, or no C-STORE may go back on them.
        for (int i = 0; i < ASC_countPresentationContexts(params); ++i) {
            T_ASC_PresentationContext pc;
            if (ASC_getPresentationContext(params, i, &pc).bad()) continue;
            if (pc.resultReason == ASC_P_ACCEPTANCE && pc.proposedRole != ASC_SC_ROLE_DEFAULT &&
                pc.acceptedRole != pc.proposedRole)
                ASC_acceptPresentationContext(params, pc.presentationContextID, pc.acceptedTransferSyntax,
                                              pc.proposedRole);
        }
    }

    void commandLoop(DicomAssociation& accepted) {
        T_ASC_Association* association = accepted.raw();
        auto lastActivity = Clock::now();
        while (true) {
            T_DIMSE_Message request;
            std::memset(&request, 0, sizeof request);
            T_ASC_PresentationContextID context = 0;
            DcmDataset* statusDetail = nullptr;
            const OFCondition condition =
                DIMSE_receiveCommand(association, DIMSE_NONBLOCKING, kPollSeconds, &context, &request, &statusDetail);
            delete statusDetail;
            if (condition == DIMSE_NODATAAVAILABLE) {
                if (stopping_) {
                    logger().information("DICOM %s service: aborting %s: the service is stopping", config_.name,
                                         accepted.describe());
                    ASC_abortAssociation(association);
                    return;
                }
                if (Clock::now() - lastActivity > config_.idleTimeout) {
                    logger().information("DICOM %s service: aborting %s: idle for %?d s", config_.name,
                                         accepted.describe(), config_.idleTimeout.count());
                    ASC_abortAssociation(association);
                    return;
                }
                continue;
            }
            if (condition == DUL_PEERREQUESTEDRELEASE) {
                ASC_acknowledgeRelease(association);
                return;
            }
            if (condition == DUL_PEERABORTEDASSOCIATION) {
                logger().information("DICOM %s service: %s aborted the association", config_.name, accepted.describe());
                return;
            }
            if (condition.bad()) {
                logger().warning("DICOM %s service: %s: %s; aborting", config_.name, accepted.describe(),
                                 std::string(condition.text()));
                ASC_abortAssociation(association);
                return;
            }
            lastActivity = Clock::now();
            if (request.CommandField == DIMSE_C_ECHO_RQ) {
                DIMSE_sendEchoResponse(association, context, &request.msg.CEchoRQ, STATUS_Success, nullptr);
                continue;
            }
            if (!handler_ || !handler_(accepted, request, context)) {
                logger().warning("DICOM %s service: %s sent an unsupported command (0x%04x); aborting", config_.name,
                                 accepted.describe(), static_cast<unsigned>(request.CommandField));
                ASC_abortAssociation(association);
                return;
            }
            lastActivity = Clock::now();
        }
    }

    const DicomListenerConfig config_;
    const ContextSource contexts_;
    const CommandHandler handler_;

    std::mutex controlMutex_;  // start()/stop()
    mutable std::mutex workersMutex_;
    std::list<std::unique_ptr<Worker>> workers_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> running_{false};
    std::atomic<std::uint16_t> port_{0};
    T_ASC_Network* network_ = nullptr;
    std::thread acceptThread_;
};

DicomListener::DicomListener(DicomListenerConfig config, ContextSource contexts, CommandHandler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(contexts), std::move(handler))) {}

DicomListener::~DicomListener() = default;

void DicomListener::start() {
    impl_->start();
}
void DicomListener::stop() {
    impl_->stop();
}
bool DicomListener::running() const {
    return impl_->running();
}
std::uint16_t DicomListener::port() const {
    return impl_->port();
}
std::size_t DicomListener::activeAssociations() const {
    return impl_->activeAssociations();
}
const DicomListenerConfig& DicomListener::config() const {
    return impl_->config();
}

}  // namespace tessera::server
