#pragma once
// Rendering one frame of a DICOM object to PNG, JPEG or PNM, for WADO, /dic2png and thumbnails.
//
// Every transfer syntax Tessera reads renders: native (implicit/explicit, little/big endian),
// deflated, RLE, JPEG baseline/extended/lossless, JPEG-LS (through DCMTK's codecs) and JPEG 2000
// (through OpenJPEG, since DCMTK has none). Monochrome frames go through the modality LUT and a
// VOI transform (see RenderOptions::window*), colour ones (RGB, YBR_*, PALETTE COLOR) become RGB.
//
// Bad input never crashes: the sizes an object declares are checked before anything is decoded
// (Error TooLarge), damaged pixel data gives Error Corrupted, an object without pixel data
// Error Unsupported, a bad option (frame out of range, a window width < 1) Error InvalidArgument.
//
// Thread-safety: every function may be called from any number of threads at once. The codecs are
// registered once per process, on first use.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tessera::core {

enum class ImageFormat {
    Png,   // 8-bit grey or RGB
    Jpeg,  // baseline, 8-bit grey or RGB
    Pnm,   // binary PGM (grey) or PPM (RGB): raw pixels with a tiny header, for tests and tools
};

/// A part of the frame as fractions of its width and height (PS3.18 WADO-URI `region`:
/// xmin, ymin, xmax, ymax in 0.0–1.0, with min < max).
struct ImageRegion {
    double left = 0.0;
    double top = 0.0;
    double right = 1.0;
    double bottom = 1.0;
};

/// A frame larger than this (decoded bytes, rows × columns × samples × bytes per sample) is not
/// decoded; RenderOptions::maxFrameBytes can lower or raise it.
inline constexpr std::uint64_t kDefaultMaxFrameBytes = 256ULL * 1024 * 1024;
/// All frames together (rows × columns × frames × samples × bytes per sample) may not exceed
/// this: native pixel data cannot (32-bit length), and a header declaring more is nonsense.
inline constexpr std::uint64_t kMaxPixelDataBytes = 4ULL * 1024 * 1024 * 1024;
/// Largest output size a caller may ask for (each side).
inline constexpr unsigned kMaxOutputSide = 8192;

struct RenderOptions {
    unsigned frame = 0;  // 0-based
    // The box the output must fit in, aspect ratio kept (scaled up or down to touch it). Either
    // may be given alone; neither: the frame's (or region's) own size. Above kMaxOutputSide →
    // Error TooLarge.
    std::optional<unsigned> rows;
    std::optional<unsigned> columns;
    // Monochrome VOI: this window when both are given (width >= 1); else the object's first
    // window, else its first VOI LUT, else the frame's min-max. Ignored for colour images.
    std::optional<double> windowCenter;
    std::optional<double> windowWidth;
    bool minMaxWindow = false;  // skip the object's windows and VOI LUTs, use min-max
    std::optional<ImageRegion> region;
    ImageFormat format = ImageFormat::Png;
    int jpegQuality = 90;  // 1..100
    std::uint64_t maxFrameBytes = kDefaultMaxFrameBytes;
};

struct RenderedImage {
    std::string contentType;  // "image/png", "image/jpeg", "image/x-portable-anymap"
    std::vector<std::uint8_t> bytes;
    unsigned rows = 0;
    unsigned columns = 0;
    bool colour = false;  // RGB output (else 8-bit grey)
};

/// Renders one frame of a DICOM file (Part 10, or a bare data set). Throws sdk::Error:
/// NotFound (no such file), Corrupted (unreadable, truncated or undecodable pixel data),
/// Unsupported (no pixel data, an encoding or layout nobody decodes), TooLarge (declared sizes
/// over the limits above), InvalidArgument (frame out of range, bad window, region or size).
RenderedImage renderFrame(const std::filesystem::path& file, const RenderOptions& options);
/// The same for a file's bytes in memory.
RenderedImage renderFrame(std::span<const std::uint8_t> part10, const RenderOptions& options);

/// The number of frames (NumberOfFrames, 1 when absent or unreadable as a number); 0 when the
/// object has no pixel data. Reads the header only. Throws NotFound / Corrupted like renderFrame.
unsigned frameCount(const std::filesystem::path& file);
unsigned frameCount(std::span<const std::uint8_t> part10);

/// The first frame as a PNG that fits in size × size, aspect ratio kept (Dicoogle's thumbnail).
/// Throws like renderFrame; size 0 or above kMaxOutputSide → InvalidArgument.
std::vector<std::uint8_t> renderThumbnailPng(const std::filesystem::path& file, unsigned size);

}  // namespace tessera::core
