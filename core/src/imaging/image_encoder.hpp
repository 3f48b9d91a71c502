#pragma once
// Encoding 8-bit grey or interleaved RGB pixels into PNG, JPEG or PNM, in memory.
// Thread-safety: the functions keep no state and may be called concurrently.

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::core::imaging {

struct Pixels8 {
    std::span<const std::uint8_t> data;  // rows × columns × channels bytes, row-major
    unsigned columns = 0;
    unsigned rows = 0;
    unsigned channels = 1;  // 1 (grey) or 3 (RGB)
};

/// Throw sdk::Error(Internal) when the library fails (it should not for valid pixels).
std::vector<std::uint8_t> encodePng(const Pixels8& pixels);
std::vector<std::uint8_t> encodeJpeg(const Pixels8& pixels, int quality);
std::vector<std::uint8_t> encodePnm(const Pixels8& pixels);

}  // namespace tessera::core::imaging
