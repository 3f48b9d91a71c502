#pragma once
// Where retrieve sub-operations get their files: URIs from QueryService (by the unique key of the
// level) and, for each URI, a local file from its storage provider. Providers without local
// files are copied to a temporary file first, because DCMTK sends from a file (byte-preserving,
// no decoding of the dataset) or from a fully parsed dataset (which may re-encode it).
//
// Thread-safety: const methods may run concurrently. A RetrievedFile is used by one thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/dicom/find_query.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::core {
class ProviderRegistry;
class QueryService;
}  // namespace tessera::core

namespace tessera::server {

/// One instance to send: its file and what its meta header says.
struct RetrievedFile {
    std::filesystem::path path;
    std::string sopClassUid;
    std::string sopInstanceUid;
    std::string transferSyntaxUid;
    /// Where the data set starts in the file (after the preamble and the meta group): the bytes
    /// from here on are what a C-STORE sends in the file's own transfer syntax.
    std::uint64_t dataSetOffset = 0;
    bool temporary = false;  ///< path is a copy to delete when done
};

/// What a Part 10 meta header says, read without DCMTK (a C-MOVE reads one per instance).
struct Part10Header {
    std::string sopClassUid;
    std::string sopInstanceUid;
    std::string transferSyntaxUid;
    std::uint64_t dataSetOffset = 0;
};

/// Parses the preamble, "DICM" and the group 0002 elements (explicit VR little endian) at the
/// start of `bytes`; nullopt when they are not there, are truncated, or lack the SOP class or
/// transfer syntax. `bytes` need only hold the meta group.
std::optional<Part10Header> parsePart10Header(const char* bytes, std::size_t size);

class InstanceSource {
public:
    InstanceSource(const core::QueryService& queries, const core::ProviderRegistry& registry);

    /// URIs of every instance under the given UIDs (a `\` list in one value is split) at this
    /// level: PatientID, StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID.
    std::vector<sdk::Uri> urisFor(core::QueryLevel level, const std::string& uids) const;

    /// The file of a URI with its meta header read (parsePart10Header); nullopt when it cannot be opened or is not a
    /// DICOM Part 10 file (a failed sub-operation).
    std::optional<RetrievedFile> open(const sdk::Uri& uri) const;

    /// Deletes a temporary copy (no-op for a provider's own file).
    static void release(const RetrievedFile& file);

private:
    const core::QueryService& queries_;
    const core::ProviderRegistry& registry_;
};

}  // namespace tessera::server
