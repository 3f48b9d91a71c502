#pragma once
// Reading DICOM files into SDK views: each file parsed once, header up to PixelData.
//
// The returned view holds copies of every value (UTF-8, trimmed), so it needs neither DCMTK
// nor the file afterwards and may be read from several threads.
// Thread-safety: the functions may be called concurrently.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "tessera/sdk/dicom_object_view.hpp"

namespace tessera::core {

enum class DicomReadStatus { Ok, Skipped, Error };

struct DicomReadResult {
    DicomReadStatus status = DicomReadStatus::Error;
    std::unique_ptr<sdk::DicomObjectView> object;  // set when Ok
    // Why Skipped / Error, one sentence ("DICOMDIR is not a storable object", "no
    // SOPInstanceUID", "truncated: ..."). It never names the file: the caller logs it with the
    // file or URI it read.
    std::string reason;
};

/// Values longer than this (bytes) are neither loaded nor offered: nothing worth indexing is
/// that long, and it keeps a hostile length field from costing memory.
inline constexpr std::uint32_t kMaxDicomValueLength = 64 * 1024;

/// Reads a file once, header up to (not including) PixelData, without loading values longer
/// than kMaxDicomValueLength. Never throws for bad content (returns Error), never hangs.
/// Files with preamble and meta, without preamble, without meta (implicit/explicit VR, little
/// or big endian detected), deflated: all handled. Skipped: DICOMDIR (Media Storage
/// Directory), objects with no SOPClassUID or no SOPInstanceUID (worklist items, fragments).
DicomReadResult readDicomFile(const std::filesystem::path& file);

/// Same for bytes in memory (a Part 10 file or a bare dataset).
DicomReadResult readDicomBytes(std::span<const std::uint8_t> bytes);

}  // namespace tessera::core
