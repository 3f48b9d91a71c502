#include "tessera/core/imaging/image_renderer.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>  // colour images (RGB, YBR, PALETTE) for DicomImage
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "dcmtk_codecs.hpp"
#include "image_encoder.hpp"
#include "j2k_decoder.hpp"
#include "tessera/core/dicom/dicom_dictionary.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {

void imaging::registerDcmtkDecoders() {
    static std::once_flag once;
    std::call_once(once, [] {
        dictionaryLoaded();
        DJDecoderRegistration::registerCodecs();      // JPEG baseline, extended, lossless
        DJLSDecoderRegistration::registerCodecs();    // JPEG-LS
        DcmRLEDecoderRegistration::registerCodecs();  // RLE (deflate is built into dcmdata)
    });
}

namespace {

using sdk::Error;
using sdk::ErrorCode;

// Largest output a caller may ask for by area: DCMTK's scaled copy holds 4 bytes per sample.
constexpr std::uint64_t kMaxOutputPixels = 4096ULL * 4096ULL;

bool isJpeg2000(std::string_view uid) {
    return uid == "1.2.840.10008.1.2.4.90" || uid == "1.2.840.10008.1.2.4.91" || uid == "1.2.840.10008.1.2.4.201" ||
           uid == "1.2.840.10008.1.2.4.202" || uid == "1.2.840.10008.1.2.4.203";
}

std::string conditionText(const OFCondition& condition) {
    return condition.text() != nullptr ? condition.text() : "unknown error";
}

std::unique_ptr<DcmFileFormat> loadBytes(std::span<const std::uint8_t> bytes);

// Where the pixel data element ends, when it has a defined length and the file is not deflated.
// Anything after it is useless to a renderer, and much of it is costly: DCMTK takes quadratic
// time over long runs of zero bytes (one sample has 2.5 MB of them after its pixel data).
std::optional<std::uint64_t> pixelDataEnd(const std::filesystem::path& file) {
    DcmInputFileStream stream(OFFilename(file.c_str()));
    if (!stream.good()) return std::nullopt;
    DcmFileFormat header;
    header.transferInit();
    const OFCondition condition =
        header.readUntilTag(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DCM_PixelData);
    header.transferEnd();
    if (condition.bad() || header.getDataset() == nullptr) return std::nullopt;
    const DcmXfer xfer(header.getDataset()->getOriginalXfer());
    if (xfer.getStreamCompression() != ESC_none) return std::nullopt;
    const bool big = xfer.isBigEndian();
    // DCMTK stops at or just after the tag: find it in the few bytes around.
    const auto stop = static_cast<std::uint64_t>(stream.tell());
    const std::uint64_t from = stop >= 16 ? stop - 16 : 0;
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(from));
    std::uint8_t window[48] = {};
    in.read(reinterpret_cast<char*>(window), sizeof window);
    const std::uint8_t tag[4] = {
        static_cast<std::uint8_t>(big ? 0x7F : 0xE0), static_cast<std::uint8_t>(big ? 0xE0 : 0x7F),
        static_cast<std::uint8_t>(big ? 0x00 : 0x10), static_cast<std::uint8_t>(big ? 0x10 : 0x00)};
    const auto found = std::search(window, window + in.gcount(), tag, tag + 4);
    if (found == window + in.gcount()) return std::nullopt;
    const std::uint64_t at = from + static_cast<std::uint64_t>(found - window);
    const std::uint8_t* head = found;
    if (window + in.gcount() - found < 12) return std::nullopt;
    auto u16 = [&](int i) { return big ? (head[i] << 8 | head[i + 1]) : (head[i + 1] << 8 | head[i]); };
    auto u32 = [&](int i) {
        return big ? (std::uint32_t{head[i]} << 24 | std::uint32_t{head[i + 1]} << 16 |
                      std::uint32_t{head[i + 2]} << 8 | head[i + 3])
                   : (std::uint32_t{head[i + 3]} << 24 | std::uint32_t{head[i + 2]} << 16 |
                      std::uint32_t{head[i + 1]} << 8 | head[i]);
    };
    if (u16(0) != 0x7FE0 || u16(2) != 0x0010) return std::nullopt;  // not where we expect: no shortcut
    std::uint32_t length = 0;
    std::uint64_t headerLength = 8;
    if (xfer.isExplicitVR()) {
        length = u32(8);
        headerLength = 12;
    } else {
        length = u32(4);
    }
    if (length == 0xFFFFFFFFu) return std::nullopt;
    return at + headerLength + length;
}

std::unique_ptr<DcmFileFormat> loadFile(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw Error(ErrorCode::NotFound, "No such image file");
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec && size > 64 * 1024) {
        if (const auto end = pixelDataEnd(file); end && *end + 64 * 1024 < size) {
            std::vector<std::uint8_t> bytes(static_cast<std::size_t>(*end));
            std::ifstream in(file, std::ios::binary);
            in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
            if (static_cast<std::uint64_t>(in.gcount()) == *end) return loadBytes(bytes);
        }
    }
    auto dicom = std::make_unique<DcmFileFormat>();
    // Values above DCM_MaxReadLength stay on disk until used: pixel data is read frame by frame.
    const OFCondition condition =
        dicom->loadFile(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    if (condition.bad())
        throw Error(ErrorCode::Corrupted, "The DICOM object cannot be read: " + conditionText(condition));
    return dicom;
}

std::unique_ptr<DcmFileFormat> loadBytes(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) throw Error(ErrorCode::Corrupted, "The DICOM object cannot be read: no data");
    std::vector<std::uint8_t> withPreamble;
    if (bytes.size() >= 4 && bytes[0] == 'D' && bytes[1] == 'I' && bytes[2] == 'C' && bytes[3] == 'M') {
        // DCMTK looks for "DICM" after a 128-byte preamble only.
        withPreamble.assign(128, 0);
        withPreamble.insert(withPreamble.end(), bytes.begin(), bytes.end());
        bytes = withPreamble;
    }
    auto dicom = std::make_unique<DcmFileFormat>();
    DcmInputBufferStream stream;
    stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    stream.setEos();
    dicom->transferInit();
    const OFCondition condition = dicom->read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    dicom->transferEnd();
    if (condition.bad())
        throw Error(ErrorCode::Corrupted, "The DICOM object cannot be read: " + conditionText(condition));
    // Everything now lives in the data set, not in `bytes` (buffer streams load values whole).
    dicom->loadAllDataIntoMemory();
    return dicom;
}

// What the pixel module declares, read before anything is decoded.
struct PixelHeader {
    bool hasPixelData = false;
    DcmPixelData* pixelData = nullptr;
    Uint16 rows = 0;
    Uint16 columns = 0;
    Uint16 samples = 1;
    Uint16 bitsAllocated = 0;
    std::uint64_t frames = 1;
    std::string photometric;
    E_TransferSyntax xfer = EXS_Unknown;
    std::string xferUid;
    std::uint64_t frameBytes = 0;
};

std::uint64_t parseFrames(DcmDataset& dataset) {
    OFString text;
    if (dataset.findAndGetOFString(DCM_NumberOfFrames, text).bad()) return 1;
    std::string_view value(text.c_str());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (!value.empty() && value.front() == '+') value.remove_prefix(1);
    std::uint64_t frames = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), frames);
    // An unreadable or zero count is read as one frame, as DCMTK's own tools do.
    if (ec != std::errc() || end != value.data() + value.size() || frames == 0) return 1;
    return frames;
}

PixelHeader readHeader(DcmDataset& dataset) {
    PixelHeader header;
    DcmElement* element = nullptr;
    if (dataset.findAndGetElement(DCM_PixelData, element).good() && element != nullptr) {
        header.hasPixelData = true;
        header.pixelData = dynamic_cast<DcmPixelData*>(element);
    }
    if (!header.hasPixelData) return header;
    if (header.pixelData == nullptr)
        throw Error(ErrorCode::Corrupted, "The pixel data element has an unexpected encoding");
    if (dataset.findAndGetUint16(DCM_Rows, header.rows).bad() ||
        dataset.findAndGetUint16(DCM_Columns, header.columns).bad() ||
        dataset.findAndGetUint16(DCM_BitsAllocated, header.bitsAllocated).bad())
        throw Error(ErrorCode::Corrupted, "Rows, Columns or BitsAllocated is missing");
    if (dataset.findAndGetUint16(DCM_SamplesPerPixel, header.samples).bad()) header.samples = 1;
    OFString photometric;
    dataset.findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    header.photometric = photometric.c_str();
    header.frames = parseFrames(dataset);
    header.xfer = dataset.getOriginalXfer();
    const DcmXfer xfer(header.xfer);
    header.xferUid = xfer.getXferID() != nullptr ? xfer.getXferID() : "";
    return header;
}

std::uint64_t checkedProduct(std::initializer_list<std::uint64_t> factors, const char* what) {
    std::uint64_t product = 1;
    for (auto factor : factors)
        if (__builtin_mul_overflow(product, factor, &product))
            throw Error(ErrorCode::TooLarge, std::string("The image is too large: ") + what + " overflows");
    return product;
}

// Sizes first, so that a header declaring a gigantic image costs nothing.
void checkSizes(PixelHeader& header, const RenderOptions& options) {
    if (header.rows == 0 || header.columns == 0)
        throw Error(ErrorCode::Corrupted, "The image has zero Rows or Columns");
    if (header.samples != 1 && header.samples != 3)
        throw Error(ErrorCode::Unsupported, "SamplesPerPixel " + std::to_string(header.samples) + " is not supported");
    if (header.bitsAllocated != 1 && header.bitsAllocated != 8 && header.bitsAllocated != 16 &&
        header.bitsAllocated != 32)
        throw Error(ErrorCode::Unsupported,
                    "BitsAllocated " + std::to_string(header.bitsAllocated) + " is not supported");
    const std::uint64_t pixels = checkedProduct({header.rows, header.columns, header.samples}, "rows × columns");
    header.frameBytes = header.bitsAllocated == 1 ? (pixels + 7) / 8 : pixels * (header.bitsAllocated / 8);
    const std::uint64_t total = checkedProduct({header.frameBytes, header.frames}, "rows × columns × frames");
    if (total > kMaxPixelDataBytes)
        throw Error(ErrorCode::TooLarge, "The image declares " + std::to_string(total) +
                                             " bytes of pixel data, more than the limit of " +
                                             std::to_string(kMaxPixelDataBytes));
    if (header.frameBytes > options.maxFrameBytes)
        throw Error(ErrorCode::TooLarge, "A frame of " + std::to_string(header.frameBytes) +
                                             " bytes is larger than the limit of " +
                                             std::to_string(options.maxFrameBytes));
    if (options.frame >= header.frames)
        throw Error(ErrorCode::InvalidArgument, "Frame " + std::to_string(options.frame) +
                                                    " is out of range: the object has " +
                                                    std::to_string(header.frames) + " frame(s), numbered from 0");
    // Native pixel data shorter than declared would render zeros where data is missing.
    if (!DcmXfer(header.xfer).isEncapsulated()) {
        const std::uint64_t length = header.pixelData->getLength();
        // Uncompressed YBR_*_422 keeps two samples per pixel, not three.
        const bool subsampled =
            header.samples == 3 && (header.photometric == "YBR_FULL_422" || header.photometric == "YBR_PARTIAL_422");
        const std::uint64_t needed = subsampled ? total / 3 * 2 : total;
        if (length < needed)
            throw Error(ErrorCode::Corrupted, "The pixel data is shorter (" + std::to_string(length) +
                                                  " bytes) than rows × columns × frames declare (" +
                                                  std::to_string(needed) + ")");
    }
}

// 32-bit samples in big endian arrive as OW, which DCMTK swaps 16 bits at a time: the two
// halves of every sample are then in the wrong order. Swap them back in memory.
void fixBigEndian32(const PixelHeader& header) {
    if (header.xfer != EXS_BigEndianExplicit || header.bitsAllocated != 32) return;
    Uint16* words = nullptr;
    if (header.pixelData->getUint16Array(words).bad() || words == nullptr)
        throw Error(ErrorCode::Corrupted, "The pixel data cannot be read");
    const std::size_t count = header.pixelData->getLength() / 4 * 2;
    for (std::size_t i = 0; i + 1 < count; i += 2) std::swap(words[i], words[i + 1]);
}

void checkOptions(const RenderOptions& options) {
    for (const auto& side : {options.rows, options.columns}) {
        if (!side) continue;
        if (*side == 0) throw Error(ErrorCode::InvalidArgument, "Requested rows and columns must be at least 1");
        if (*side > kMaxOutputSide)
            throw Error(ErrorCode::TooLarge,
                        "Requested rows and columns may not exceed " + std::to_string(kMaxOutputSide));
    }
    if (options.windowCenter.has_value() != options.windowWidth.has_value())
        throw Error(ErrorCode::InvalidArgument, "windowCenter and windowWidth must be given together");
    if (options.windowWidth && !(*options.windowWidth >= 1.0 && std::isfinite(*options.windowWidth)))
        throw Error(ErrorCode::InvalidArgument, "windowWidth must be at least 1");
    if (options.windowCenter && !std::isfinite(*options.windowCenter))
        throw Error(ErrorCode::InvalidArgument, "windowCenter must be a number");
    if (const auto& r = options.region) {
        const bool ok = std::isfinite(r->left) && std::isfinite(r->top) && std::isfinite(r->right) &&
                        std::isfinite(r->bottom) && r->left >= 0.0 && r->top >= 0.0 && r->right <= 1.0 &&
                        r->bottom <= 1.0 && r->left < r->right && r->top < r->bottom;
        if (!ok)
            throw Error(ErrorCode::InvalidArgument,
                        "region must be four fractions xmin,ymin,xmax,ymax with 0 <= min < max <= 1");
    }
    if (options.jpegQuality < 1 || options.jpegQuality > 100)
        throw Error(ErrorCode::InvalidArgument, "JPEG quality must be 1 to 100");
}

// The fragments of one frame of encapsulated pixel data, joined.
std::vector<std::uint8_t> frameFragments(const PixelHeader& header, unsigned frame) {
    DcmPixelSequence* sequence = nullptr;
    if (header.pixelData->getEncapsulatedRepresentation(header.xfer, nullptr, sequence).bad() || sequence == nullptr)
        throw Error(ErrorCode::Corrupted, "The encapsulated pixel data has no fragments");
    const unsigned long items = sequence->card();
    if (items < 2) throw Error(ErrorCode::Corrupted, "The encapsulated pixel data has no fragments");
    auto fragment = [&](unsigned long index) {
        DcmPixelItem* item = nullptr;
        Uint8* data = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr || item->getUint8Array(data).bad())
            throw Error(ErrorCode::Corrupted, "A pixel data fragment cannot be read");
        return std::span<const std::uint8_t>(data, data == nullptr ? 0 : item->getLength());
    };
    unsigned long first = 1;
    unsigned long last = items;  // one past
    if (header.frames > 1) {
        Uint32 start = 0;
        Uint32 next = 0;
        if (items - 1 == header.frames) {
            first = frame + 1;
            last = first + 1;
        } else if (DcmCodec::determineStartFragment(frame, static_cast<Sint32>(header.frames), sequence, start)
                       .good()) {
            first = start;
            last = frame + 1 < header.frames && DcmCodec::determineStartFragment(
                                                    frame + 1, static_cast<Sint32>(header.frames), sequence, next)
                                                    .good()
                       ? next
                       : items;
        } else {
            // No usable offset table: a frame starts with a J2K SOC+SIZ marker or a JP2 signature.
            std::vector<unsigned long> starts;
            for (unsigned long i = 1; i < items; ++i) {
                const auto bytes = fragment(i);
                const bool soc =
                    bytes.size() >= 4 && bytes[0] == 0xFF && bytes[1] == 0x4F && bytes[2] == 0xFF && bytes[3] == 0x51;
                const bool jp2 = bytes.size() >= 8 && bytes[3] == 0x0C && bytes[4] == 0x6A && bytes[5] == 0x50;
                if (soc || jp2) starts.push_back(i);
            }
            if (frame >= starts.size()) throw Error(ErrorCode::Corrupted, "The frame's fragments cannot be found");
            first = starts[frame];
            last = frame + 1 < starts.size() ? starts[frame + 1] : items;
        }
        if (first < 1 || first >= items || last <= first || last > items)
            throw Error(ErrorCode::Corrupted, "The frame's fragments cannot be found");
    }
    if (last - first == 1) {
        const auto only = fragment(first);
        return {only.begin(), only.end()};
    }
    std::vector<std::uint8_t> joined;
    for (unsigned long i = first; i < last; ++i) {
        const auto bytes = fragment(i);
        joined.insert(joined.end(), bytes.begin(), bytes.end());
    }
    return joined;
}

// A J2K frame decoded by OpenJPEG, as an uncompressed one-frame data set DicomImage can render
// with every other attribute (modality LUT, windows, palettes) of the original.
std::unique_ptr<DcmDataset> nativeJpeg2000Frame(DcmDataset& dataset, const PixelHeader& header, unsigned frame) {
    const auto codestream = frameFragments(header, frame);
    const auto decoded = imaging::decodeJpeg2000(codestream, header.columns, header.rows);
    auto native = std::make_unique<DcmDataset>();
    for (unsigned long i = 0; i < dataset.card(); ++i) {
        DcmElement* element = dataset.getElement(i);
        if (element == nullptr || element->getTag() == DCM_PixelData) continue;
        native->insert(static_cast<DcmElement*>(element->clone()), true);
    }
    std::string photometric = header.photometric;
    // OpenJPEG undoes the codestream's component transform: the samples are RGB again.
    if (photometric == "YBR_RCT" || photometric == "YBR_ICT") photometric = "RGB";
    if (decoded.components == 1 && photometric != "MONOCHROME1" && photometric != "PALETTE COLOR")
        photometric = "MONOCHROME2";
    if (decoded.components == 3 && photometric.rfind("MONOCHROME", 0) == 0) photometric = "RGB";
    const auto bits = static_cast<Uint16>(decoded.bitsAllocated);
    const auto stored = static_cast<Uint16>(decoded.precision);
    bool ok = native->putAndInsertString(DCM_PhotometricInterpretation, photometric.c_str()).good() &&
              native->putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(decoded.components)).good() &&
              native->putAndInsertUint16(DCM_BitsAllocated, bits).good() &&
              native->putAndInsertUint16(DCM_BitsStored, stored).good() &&
              native->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(stored - 1)).good() &&
              // The codestream's signedness is the truth about the samples (it disagrees with
              // PixelRepresentation in real files).
              native->putAndInsertUint16(DCM_PixelRepresentation, decoded.isSigned ? 1 : 0).good() &&
              native->putAndInsertString(DCM_NumberOfFrames, "1").good();
    if (decoded.components == 3) ok = ok && native->putAndInsertUint16(DCM_PlanarConfiguration, 0).good();
    if (bits == 8) {
        ok = ok && native->putAndInsertUint8Array(DCM_PixelData, decoded.data.data(), decoded.data.size()).good();
    } else {
        ok = ok && native
                       ->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(decoded.data.data()),
                                                 decoded.data.size() / 2)
                       .good();
    }
    if (!ok) throw Error(ErrorCode::Internal, "Could not build the decoded JPEG 2000 frame");
    return native;
}

[[noreturn]] void throwForStatus(EI_Status status) {
    const std::string text = DicomImage::getString(status) != nullptr ? DicomImage::getString(status) : "unknown";
    switch (status) {
        case EIS_NotSupportedValue:
            throw Error(ErrorCode::Unsupported, "The image cannot be rendered: " + text);
        case EIS_MemoryFailure:
            throw Error(ErrorCode::TooLarge, "The image cannot be rendered: not enough memory");
        default:
            throw Error(ErrorCode::Corrupted, "The image cannot be rendered: " + text);
    }
}

void applyVoi(DicomImage& image, const RenderOptions& options) {
    if (options.windowCenter && options.windowWidth) {
        if (!image.setWindow(*options.windowCenter, *options.windowWidth))
            throw Error(ErrorCode::InvalidArgument, "The window cannot be applied");
        return;
    }
    if (!options.minMaxWindow && image.getWindowCount() > 0 && image.setWindow(0)) return;
    if (!options.minMaxWindow && image.getVoiLutCount() > 0 && image.setVoiLut(0)) return;
    image.setMinMaxWindow(0);
}

struct OutputSize {
    unsigned long columns;
    unsigned long rows;
};

OutputSize fitInside(unsigned long columns, unsigned long rows, const RenderOptions& options) {
    if (!options.rows && !options.columns) return {columns, rows};
    double scale = 1e300;
    if (options.columns) scale = std::min(scale, static_cast<double>(*options.columns) / static_cast<double>(columns));
    if (options.rows) scale = std::min(scale, static_cast<double>(*options.rows) / static_cast<double>(rows));
    auto side = [&](unsigned long native, const std::optional<unsigned>& box) {
        auto value = static_cast<unsigned long>(std::lround(static_cast<double>(native) * scale));
        value = std::max<unsigned long>(value, 1);
        if (box) value = std::min<unsigned long>(value, *box);
        return value;
    };
    OutputSize out{side(columns, options.columns), side(rows, options.rows)};
    if (static_cast<std::uint64_t>(out.columns) * out.rows > kMaxOutputPixels)
        throw Error(ErrorCode::TooLarge,
                    "The requested output size is larger than " + std::to_string(kMaxOutputPixels) + " pixels");
    return out;
}

RenderedImage renderLoaded(DcmFileFormat& dicom, const RenderOptions& options) {
    DcmDataset* dataset = dicom.getDataset();
    if (dataset == nullptr) throw Error(ErrorCode::Corrupted, "The DICOM object has no data set");
    PixelHeader header = readHeader(*dataset);
    if (!header.hasPixelData) throw Error(ErrorCode::Unsupported, "The object has no pixel data");
    checkSizes(header, options);
    fixBigEndian32(header);

    std::unique_ptr<DcmDataset> decodedFrame;
    std::unique_ptr<DicomImage> image;
    if (isJpeg2000(header.xferUid)) {
        decodedFrame = nativeJpeg2000Frame(*dataset, header, options.frame);
        image = std::make_unique<DicomImage>(decodedFrame.get(), EXS_LittleEndianExplicit, 0UL, 0UL, 1UL);
    } else {
        // Partial access: only the wanted frame is read (and decompressed).
        image = std::make_unique<DicomImage>(dataset, header.xfer, CIF_UsePartialAccessToPixelData,
                                             static_cast<unsigned long>(options.frame), 1UL);
    }
    if (image->getStatus() != EIS_Normal) throwForStatus(image->getStatus());
    const bool monochrome = image->isMonochrome();
    if (monochrome) applyVoi(*image, options);

    DicomImage* current = image.get();
    std::unique_ptr<DicomImage> clipped;
    if (const auto& r = options.region) {
        const auto width = static_cast<double>(current->getWidth());
        const auto height = static_cast<double>(current->getHeight());
        const auto left = static_cast<long>(std::floor(r->left * width));
        const auto top = static_cast<long>(std::floor(r->top * height));
        const auto right = std::max(left + 1, static_cast<long>(std::ceil(r->right * width)));
        const auto bottom = std::max(top + 1, static_cast<long>(std::ceil(r->bottom * height)));
        clipped.reset(current->createClippedImage(left, top, static_cast<unsigned long>(right - left),
                                                  static_cast<unsigned long>(bottom - top)));
        if (!clipped || clipped->getStatus() != EIS_Normal)
            throw Error(ErrorCode::Internal, "The region could not be cut out of the image");
        current = clipped.get();
    }
    std::unique_ptr<DicomImage> scaled;
    const OutputSize size = fitInside(current->getWidth(), current->getHeight(), options);
    if (size.columns != current->getWidth() || size.rows != current->getHeight()) {
        const bool smaller = size.columns <= current->getWidth() && size.rows <= current->getHeight();
        // pbmplus averages when shrinking; bicubic looks best when enlarging.
        scaled.reset(current->createScaledImage(size.columns, size.rows, smaller ? 1 : 4, 0));
        if (!scaled || scaled->getStatus() != EIS_Normal)
            throw Error(ErrorCode::TooLarge, "The image could not be scaled to the requested size");
        current = scaled.get();
    }

    const void* data = current->getOutputData(8, 0, 0);
    if (data == nullptr) throw Error(ErrorCode::Corrupted, "The pixel data could not be rendered");
    const unsigned channels = monochrome ? 1 : 3;
    const std::size_t expected = std::size_t{current->getWidth()} * current->getHeight() * channels;
    if (current->getOutputDataSize(8) < expected)
        throw Error(ErrorCode::Internal, "The rendered frame has an unexpected size");
    const imaging::Pixels8 pixels{std::span(static_cast<const std::uint8_t*>(data), expected),
                                  static_cast<unsigned>(current->getWidth()),
                                  static_cast<unsigned>(current->getHeight()), channels};
    RenderedImage out;
    out.columns = pixels.columns;
    out.rows = pixels.rows;
    out.colour = channels == 3;
    switch (options.format) {
        case ImageFormat::Png:
            out.contentType = "image/png";
            out.bytes = imaging::encodePng(pixels);
            break;
        case ImageFormat::Jpeg:
            out.contentType = "image/jpeg";
            out.bytes = imaging::encodeJpeg(pixels, options.jpegQuality);
            break;
        case ImageFormat::Pnm:
            out.contentType = "image/x-portable-anymap";
            out.bytes = imaging::encodePnm(pixels);
            break;
    }
    return out;
}

template <typename Load>
RenderedImage render(Load load, const RenderOptions& options) {
    checkOptions(options);
    imaging::registerDcmtkDecoders();
    try {
        auto dicom = load();
        return renderLoaded(*dicom, options);
    } catch (const std::bad_alloc&) {
        throw Error(ErrorCode::TooLarge, "Not enough memory to render the image");
    }
}

unsigned framesOf(DcmFileFormat& dicom) {
    DcmDataset* dataset = dicom.getDataset();
    if (dataset == nullptr) return 0;
    const PixelHeader header = readHeader(*dataset);
    if (!header.hasPixelData) return 0;
    return static_cast<unsigned>(std::min<std::uint64_t>(header.frames, 0xFFFFFFFFu));
}

}  // namespace

RenderedImage renderFrame(const std::filesystem::path& file, const RenderOptions& options) {
    return render([&] { return loadFile(file); }, options);
}

RenderedImage renderFrame(std::span<const std::uint8_t> part10, const RenderOptions& options) {
    return render([&] { return loadBytes(part10); }, options);
}

unsigned frameCount(const std::filesystem::path& file) {
    imaging::registerDcmtkDecoders();
    return framesOf(*loadFile(file));
}

unsigned frameCount(std::span<const std::uint8_t> part10) {
    imaging::registerDcmtkDecoders();
    return framesOf(*loadBytes(part10));
}

std::vector<std::uint8_t> renderThumbnailPng(const std::filesystem::path& file, unsigned size) {
    if (size == 0 || size > kMaxOutputSide)
        throw Error(ErrorCode::InvalidArgument, "Thumbnail size must be 1 to " + std::to_string(kMaxOutputSide));
    RenderOptions options;
    options.rows = size;
    options.columns = size;
    options.format = ImageFormat::Png;
    return renderFrame(file, options).bytes;
}

}  // namespace tessera::core
