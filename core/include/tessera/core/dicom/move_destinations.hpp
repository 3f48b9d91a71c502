#pragma once
// The C-MOVE destinations ("remote servers"): where the query/retrieve SCP may send. Stored in
// server.xml as Dicoogle stores them,
//   dicom-services.move-destinations.move-destination[@aetitle, @address, @port, @public, @description]
// and read with child elements as well (`<move-destination><aetitle>X</aetitle>...`), which
// Dicoogle's Jackson mapping also accepts. Every call reads or writes the file's current state,
// so a change is in effect for the next C-MOVE without a restart.
//
// Thread-safety: every method may be called concurrently; changes are serialised by an internal
// mutex (ServerSettings itself only guards single calls).
// Ownership: borrows the settings, which must outlive it.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core {

class ServerSettings;

struct MoveDestination {
    std::string aeTitle;
    std::string address;
    std::uint16_t port = 0;
    bool isPublic = false;
    std::string description;
    friend bool operator==(const MoveDestination&, const MoveDestination&) = default;
};

class MoveDestinations {
public:
    explicit MoveDestinations(ServerSettings& settings);

    /// The destinations in file order. Entries without an AE title, address or valid port are
    /// left out (they could not be used).
    std::vector<MoveDestination> list() const;
    /// The first destination whose AE title equals `aeTitle` (surrounding spaces ignored, case
    /// sensitive as AE titles are); nullopt when none.
    std::optional<MoveDestination> find(std::string_view aeTitle) const;
    /// Adds a destination; one with the same AE title, address and port is updated in place
    /// instead of duplicated. Throws Error(InvalidArgument) for an AE title that is empty, longer
    /// than 16 characters or holds a backslash or control character, an empty address, or port 0.
    void add(const MoveDestination& destination);
    /// Removes every destination with this AE title and, when given, this port and this address
    /// (an empty address is not a condition). Returns how many were removed.
    std::size_t remove(std::string_view aeTitle, std::optional<std::uint16_t> port = std::nullopt,
                       std::string_view address = {});

    static constexpr const char* kKey = "dicom-services.move-destinations.move-destination";

private:
    struct Stored {
        MoveDestination destination;
        bool valid = false;
    };
    std::vector<Stored> readAll() const;

    ServerSettings& settings_;
    mutable std::mutex mutex_;
};

}  // namespace tessera::core
