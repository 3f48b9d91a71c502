#pragma once
// JPEG 2000 decoding through OpenJPEG (DCMTK 3.6.7 has no JPEG 2000 codec).
// Thread-safety: no shared state; may be called concurrently.

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::core::imaging {

/// One decoded frame: interleaved samples, 8 bits per sample when precision <= 8, else 16
/// (little endian).
struct J2kFrame {
    unsigned columns = 0;
    unsigned rows = 0;
    unsigned components = 0;  // 1 or 3
    unsigned precision = 0;   // bits per sample in the codestream
    bool isSigned = false;
    unsigned bitsAllocated = 8;
    std::vector<std::uint8_t> data;
};

/// Decodes a J2K codestream or a JP2 file. The size in the codestream header must equal
/// `columns` × `rows` (checked before decoding, so a hostile header cannot make it allocate).
/// Throws sdk::Error: Corrupted (undecodable, size mismatch), Unsupported (sub-sampled
/// components, more than 16 bits, a component count other than 1 or 3).
J2kFrame decodeJpeg2000(std::span<const std::uint8_t> stream, unsigned columns, unsigned rows);

}  // namespace tessera::core::imaging
