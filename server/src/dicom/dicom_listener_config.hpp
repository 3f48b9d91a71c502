#pragma once
// What a DicomListener needs to know, read from ServerSettings in one place so that the storage
// and the query/retrieve SCP interpret server.xml the same way (behaviour §6, §9).
//
// Dicoogle passes its Q/R timeouts to dcm4che as milliseconds while shipping defaults of 60 —
// a 60 ms timeout that nobody wants. Tessera reads every timeout as SECONDS (the same numbers
// then mean what an operator expects) and keeps the element names.
//
// Thread-safety: plain values and pure functions.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::core {
class ServerSettings;
}

namespace tessera::server {

/// One abstract syntax (SOP class) and the transfer syntaxes accepted for it, in the order the
/// listener prefers them when a proposed context offers several.
struct AcceptedSyntax {
    std::string abstractSyntax;
    std::vector<std::string> transferSyntaxes;
};

struct DicomListenerConfig {
    std::string name;      ///< "storage" or "query": log lines and errors name it
    std::string hostname;  ///< local address to bind; empty = every IPv4 interface
    std::uint16_t port = 0;  ///< 0 = any free port
    /// The called AE titles accepted (aetitle, then archive.node-name when set); a request to
    /// any other is rejected (called AE title not recognised).
    std::vector<std::string> aeTitles;
    /// dicom-services.allowed-aetitles; empty = anyone. Others are rejected (calling AE title
    /// not recognised).
    std::vector<std::string> allowedCallingAeTitles;
    std::size_t maxAssociations = 20;  ///< one more is rejected (local limit exceeded)
    /// Reading the A-ASSOCIATE-RQ after a connection arrives, and the release handshake.
    std::chrono::seconds acseTimeout{30};  // the listener caps it at 2 s (see dicom_listener.cpp)
    /// Waiting for the next PDU while a message (command or data set) is being received.
    std::chrono::seconds dimseTimeout{60};
    /// An association with no command for this long is aborted.
    std::chrono::seconds idleTimeout{60};
    std::uint32_t maxPduReceive = 16384;  ///< offered to the peer
    std::uint32_t maxPduSend = 16384;     ///< cap on what we send, whatever the peer offers
};

/// The transfer syntaxes Verification (C-ECHO) is accepted with.
const std::vector<std::string>& echoTransferSyntaxes();

/// The storage SCP: dicom-services.storage[@port], [@hostname]; the PDU sizes of the Q/R
/// settings (Dicoogle shares them); Tessera's own dicom-services.storage.max-associations (50,
/// Dicoogle's cstore limit), .accept-timeout (30), .dimse-timeout (60), .idle-timeout (3600).
DicomListenerConfig storageListenerConfig(const core::ServerSettings& settings);

/// The Q/R SCP: dicom-services.query-retrieve[@port], [@hostname], max-client-assocs,
/// max-pdu-length-receive/-send, accept-timeout (ACSE), dimse-rsp-timeout (DIMSE),
/// idle-timeout.
DicomListenerConfig queryListenerConfig(const core::ServerSettings& settings);

}  // namespace tessera::server
