// DicomListener over real sockets, driven by DCMTK's own SCU (DcmSCU): port 0, C-ECHO, the
// association checks (called AE, calling-AE allow-list, association limit, presentation
// contexts), command dispatch, and stop() with associations still open.
#include <catch2/catch.hpp>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "dicom/dicom_listener.hpp"
#include "tessera/sdk/error.hpp"

using tessera::server::AcceptedSyntax;
using tessera::server::DicomAssociation;
using tessera::server::DicomListener;
using tessera::server::DicomListenerConfig;
using namespace std::chrono_literals;

namespace {

DicomListenerConfig testConfig() {
    DicomListenerConfig config;
    config.name = "test";
    config.hostname = "127.0.0.1";
    config.port = 0;
    config.aeTitles = {"TESSERA", "ALIAS"};
    config.maxAssociations = 4;
    config.acseTimeout = 5s;
    config.dimseTimeout = 5s;
    config.idleTimeout = 60s;
    return config;
}

std::unique_ptr<DcmSCU> connect(std::uint16_t port, const std::string& called = "TESSERA",
                                const std::string& calling = "TESTSCU",
                                const char* abstractSyntax = UID_VerificationSOPClass) {
    auto scu = std::make_unique<DcmSCU>();
    scu->setAETitle(calling.c_str());
    scu->setPeerAETitle(called.c_str());
    scu->setPeerHostName("127.0.0.1");
    scu->setPeerPort(port);
    scu->setACSETimeout(5);
    scu->setDIMSETimeout(5);
    scu->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu->addPresentationContext(abstractSyntax, syntaxes);
    if (std::string(abstractSyntax) != UID_VerificationSOPClass)
        scu->addPresentationContext(UID_VerificationSOPClass, syntaxes);
    REQUIRE(scu->initNetwork().good());
    return scu;
}

bool echo(DcmSCU& scu) {
    if (scu.negotiateAssociation().bad()) return false;
    const bool ok = scu.sendECHORequest(0).good();
    scu.releaseAssociation();
    return ok;
}

}  // namespace

TEST_CASE("DicomListener: port 0 binds a free port and answers C-ECHO", "[dicom][listener]") {
    DicomListener listener(testConfig(), {}, {});
    CHECK_FALSE(listener.running());
    CHECK(listener.port() == 0);
    listener.start();
    REQUIRE(listener.running());
    const auto port = listener.port();
    REQUIRE(port != 0);
    listener.start();  // no-op while running
    CHECK(listener.port() == port);

    auto scu = connect(port);
    CHECK(echo(*scu));
    auto alias = connect(port, "ALIAS");
    CHECK(echo(*alias));  // archive.node-name is accepted as the called AE title too

    listener.stop();
    CHECK_FALSE(listener.running());
    CHECK(listener.port() == 0);
    listener.stop();  // idempotent
    auto late = connect(port);
    CHECK(late->negotiateAssociation().bad());
}

TEST_CASE("DicomListener: wrong called AE, calling AE off the allow-list are rejected", "[dicom][listener]") {
    auto config = testConfig();
    config.allowedCallingAeTitles = {"GOODSCU"};
    DicomListener listener(config, {}, {});
    listener.start();

    auto wrongCalled = connect(listener.port(), "SOMEONE-ELSE", "GOODSCU");
    const OFCondition refused = wrongCalled->negotiateAssociation();
    CHECK(refused == DUL_ASSOCIATIONREJECTED);
    auto notAllowed = connect(listener.port(), "TESSERA", "BADSCU");
    CHECK(notAllowed->negotiateAssociation() == DUL_ASSOCIATIONREJECTED);
    auto allowed = connect(listener.port(), "TESSERA", "GOODSCU");
    CHECK(echo(*allowed));
}

TEST_CASE("DicomListener: one association beyond the limit is rejected, the next one after is fine",
          "[dicom][listener]") {
    auto config = testConfig();
    config.maxAssociations = 1;
    DicomListener listener(config, {}, {});
    listener.start();

    auto first = connect(listener.port());
    REQUIRE(first->negotiateAssociation().good());
    auto second = connect(listener.port());
    CHECK(second->negotiateAssociation() == DUL_ASSOCIATIONREJECTED);
    first->releaseAssociation();
    for (int i = 0; i < 50 && listener.activeAssociations() > 0; ++i) std::this_thread::sleep_for(20ms);
    auto third = connect(listener.port());
    CHECK(echo(*third));
}

TEST_CASE("DicomListener: presentation contexts come from the ContextSource at each association",
          "[dicom][listener]") {
    std::atomic<bool> acceptCt{true};
    DicomListener listener(
        testConfig(),
        [&] {
            std::vector<AcceptedSyntax> syntaxes;
            if (acceptCt) syntaxes.push_back({UID_CTImageStorage, {UID_LittleEndianExplicitTransferSyntax}});
            return syntaxes;
        },
        {});
    listener.start();

    auto scu = connect(listener.port(), "TESSERA", "TESTSCU", UID_CTImageStorage);
    REQUIRE(scu->negotiateAssociation().good());
    CHECK(scu->findPresentationContextID(UID_CTImageStorage, UID_LittleEndianExplicitTransferSyntax) != 0);
    scu->releaseAssociation();

    acceptCt = false;  // a settings change: the next association no longer gets CT
    auto after = connect(listener.port(), "TESSERA", "TESTSCU", UID_CTImageStorage);
    REQUIRE(after->negotiateAssociation().good());  // Verification is still there
    CHECK(after->findPresentationContextID(UID_CTImageStorage, UID_LittleEndianExplicitTransferSyntax) == 0);
    after->releaseAssociation();
}

TEST_CASE("DicomListener: commands go to the handler; unhandled ones abort the association", "[dicom][listener]") {
    std::atomic<int> calls{0};
    DicomListener listener(
        testConfig(), [] { return std::vector<AcceptedSyntax>{{UID_FINDStudyRootQueryRetrieveInformationModel, {UID_LittleEndianExplicitTransferSyntax}}}; },
        [&](DicomAssociation& association, T_DIMSE_Message& request, T_ASC_PresentationContextID) {
            ++calls;
            CHECK(association.callingAeTitle() == "TESTSCU");
            CHECK(association.calledAeTitle() == "TESSERA");
            return request.CommandField == DIMSE_C_ECHO_RQ;  // never: C-ECHO is the listener's
        });
    listener.start();
    auto scu = connect(listener.port(), "TESSERA", "TESTSCU", UID_FINDStudyRootQueryRetrieveInformationModel);
    REQUIRE(scu->negotiateAssociation().good());
    CHECK(scu->sendECHORequest(0).good());
    CHECK(calls == 0);
    DcmDataset query;
    query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    const auto context = scu->findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel,
                                                        UID_LittleEndianExplicitTransferSyntax);
    REQUIRE(context != 0);
    const OFCondition result = scu->sendFINDRequest(context, &query, nullptr);
    CHECK(result.bad());  // aborted by the listener
    CHECK(calls == 1);
}

TEST_CASE("DicomListener: stop() ends open associations within about two seconds", "[dicom][listener]") {
    DicomListener listener(testConfig(), {}, {});
    listener.start();
    auto idle = connect(listener.port());
    REQUIRE(idle->negotiateAssociation().good());

    // A raw TCP client that connects and says nothing: stop() must not wait for it either.
    const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(listener.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    std::this_thread::sleep_for(100ms);

    const auto before = std::chrono::steady_clock::now();
    listener.stop();
    const auto took = std::chrono::steady_clock::now() - before;
    ::close(silent);
    CHECK(took < 2500ms);
    CHECK(listener.activeAssociations() == 0);
    CHECK(idle->sendECHORequest(0).bad());  // the association is gone
}

TEST_CASE("DicomListener: a busy port and an unknown hostname are clear errors", "[dicom][listener]") {
    DicomListener first(testConfig(), {}, {});
    first.start();
    auto config = testConfig();
    config.port = first.port();
    DicomListener second(config, {}, {});
    try {
        second.start();
        FAIL("started on a busy port");
    } catch (const tessera::sdk::Error& e) {
        CHECK(e.code() == tessera::sdk::ErrorCode::Unavailable);
        CHECK_THAT(e.what(), Catch::Contains(std::to_string(first.port())));
    }
    CHECK_FALSE(second.running());

    auto badHost = testConfig();
    badHost.hostname = "no-such-host.invalid";
    DicomListener third(badHost, {}, {});
    CHECK_THROWS_AS(third.start(), tessera::sdk::Error);
    CHECK_FALSE(third.running());
}
