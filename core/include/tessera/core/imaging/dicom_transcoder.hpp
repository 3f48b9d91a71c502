#pragma once
// Re-encoding a stored object in another transfer syntax (WADO-URI `transferSyntax`).
// Thread-safety: may be called concurrently.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::core {

/// The file as a Part 10 object in `transferSyntaxUid`. Targets: Implicit VR Little Endian and
/// Explicit VR Little Endian (the uncompressed syntaxes every WADO client reads). The source may be anything
/// DCMTK decodes (native, deflate, RLE, JPEG, JPEG-LS). Throws sdk::Error: NotFound (no file),
/// Corrupted (unreadable), Unsupported (a target or source encoding not handled, e.g. JPEG 2000).
std::vector<std::uint8_t> transcodePart10(const std::filesystem::path& file, const std::string& transferSyntaxUid);

/// The transfer syntax UID a file is stored in ("" without a meta header). Throws like above.
std::string storedTransferSyntax(const std::filesystem::path& file);

}  // namespace tessera::core
