#include "j2k_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include <openjpeg.h>

#include "tessera/sdk/error.hpp"

namespace tessera::core::imaging {
namespace {

using sdk::Error;
using sdk::ErrorCode;

struct MemorySource {
    std::span<const std::uint8_t> bytes;
    std::size_t position = 0;
};

OPJ_SIZE_T readBytes(void* buffer, OPJ_SIZE_T count, void* user) {
    auto* source = static_cast<MemorySource*>(user);
    const std::size_t left = source->bytes.size() - source->position;
    if (left == 0) return static_cast<OPJ_SIZE_T>(-1);
    const std::size_t n = std::min<std::size_t>(left, count);
    std::memcpy(buffer, source->bytes.data() + source->position, n);
    source->position += n;
    return n;
}

OPJ_OFF_T skipBytes(OPJ_OFF_T count, void* user) {
    auto* source = static_cast<MemorySource*>(user);
    if (count < 0) {
        const auto back = static_cast<std::size_t>(-count);
        if (back > source->position) return -1;
        source->position -= back;
        return count;
    }
    const std::size_t n =
        std::min<std::size_t>(source->bytes.size() - source->position, static_cast<std::size_t>(count));
    source->position += n;
    return static_cast<OPJ_OFF_T>(n);
}

OPJ_BOOL seekTo(OPJ_OFF_T position, void* user) {
    auto* source = static_cast<MemorySource*>(user);
    if (position < 0 || static_cast<std::size_t>(position) > source->bytes.size()) return OPJ_FALSE;
    source->position = static_cast<std::size_t>(position);
    return OPJ_TRUE;
}

void keepMessage(const char* message, void* user) {
    auto* last = static_cast<std::string*>(user);
    if (last->empty() && message != nullptr) {
        *last = message;
        while (!last->empty() && (last->back() == '\n' || last->back() == ' ')) last->pop_back();
    }
}
void ignoreMessage(const char*, void*) {}

struct CodecDeleter {
    void operator()(opj_codec_t* codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
    void operator()(opj_stream_t* stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
    void operator()(opj_image_t* image) const { opj_image_destroy(image); }
};

bool isJp2File(std::span<const std::uint8_t> bytes) {
    static constexpr std::uint8_t kSignature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20};
    return bytes.size() >= sizeof kSignature && std::equal(std::begin(kSignature), std::end(kSignature), bytes.begin());
}

[[noreturn]] void corrupted(const std::string& what, const std::string& detail) {
    throw Error(ErrorCode::Corrupted, "JPEG 2000 pixel data cannot be decoded: " + what +
                                          (detail.empty() ? std::string() : " (" + detail + ")"));
}

}  // namespace

J2kFrame decodeJpeg2000(std::span<const std::uint8_t> stream, unsigned columns, unsigned rows) {
    if (stream.size() < 2) corrupted("empty codestream", "");
    std::unique_ptr<opj_codec_t, CodecDeleter> codec(
        opj_create_decompress(isJp2File(stream) ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
    if (!codec) throw Error(ErrorCode::Internal, "OpenJPEG could not create a decoder");
    std::string lastError;
    opj_set_error_handler(codec.get(), keepMessage, &lastError);
    opj_set_warning_handler(codec.get(), ignoreMessage, nullptr);
    opj_set_info_handler(codec.get(), ignoreMessage, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(codec.get(), &parameters)) throw Error(ErrorCode::Internal, "OpenJPEG setup failed");
    // Strict: a truncated codestream is an error, not a silently half-grey picture.
    opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);

    MemorySource source{stream, 0};
    std::unique_ptr<opj_stream_t, StreamDeleter> input(opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE));
    if (!input) throw Error(ErrorCode::Internal, "OpenJPEG could not create a stream");
    opj_stream_set_user_data(input.get(), &source, nullptr);
    opj_stream_set_user_data_length(input.get(), stream.size());
    opj_stream_set_read_function(input.get(), readBytes);
    opj_stream_set_skip_function(input.get(), skipBytes);
    opj_stream_set_seek_function(input.get(), seekTo);

    opj_image_t* rawImage = nullptr;
    if (!opj_read_header(input.get(), codec.get(), &rawImage)) {
        if (rawImage) opj_image_destroy(rawImage);
        corrupted("bad header", lastError);
    }
    std::unique_ptr<opj_image_t, ImageDeleter> image(rawImage);
    const auto width = image->x1 - image->x0;
    const auto height = image->y1 - image->y0;
    if (width != columns || height != rows)
        corrupted("the codestream is " + std::to_string(width) + "×" + std::to_string(height) + ", the data set says " +
                      std::to_string(columns) + "×" + std::to_string(rows),
                  "");
    if (image->numcomps != 1 && image->numcomps != 3)
        throw Error(ErrorCode::Unsupported,
                    "JPEG 2000 with " + std::to_string(image->numcomps) + " components is not supported");
    for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
        const auto& component = image->comps[c];
        if (component.dx != 1 || component.dy != 1)
            throw Error(ErrorCode::Unsupported, "JPEG 2000 with sub-sampled components is not supported");
        if (component.prec == 0 || component.prec > 16)
            throw Error(ErrorCode::Unsupported,
                        "JPEG 2000 with " + std::to_string(component.prec) + "-bit samples is not supported");
    }
    if (!opj_decode(codec.get(), input.get(), image.get()) || !opj_end_decompress(codec.get(), input.get()))
        corrupted("decoding failed", lastError);

    J2kFrame frame;
    frame.columns = columns;
    frame.rows = rows;
    frame.components = image->numcomps;
    frame.precision = image->comps[0].prec;
    frame.isSigned = image->comps[0].sgnd != 0;
    frame.bitsAllocated = frame.precision <= 8 ? 8 : 16;
    const std::size_t pixels = std::size_t{columns} * rows;
    const std::size_t bytesPerSample = frame.bitsAllocated / 8;
    frame.data.resize(pixels * frame.components * bytesPerSample);
    for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
        const auto& component = image->comps[c];
        if (component.data == nullptr || component.w != columns || component.h != rows)
            corrupted("a component is missing or has another size", lastError);
        for (std::size_t i = 0; i < pixels; ++i) {
            const auto value = static_cast<std::uint32_t>(component.data[i]);  // two's complement kept
            const std::size_t at = (i * frame.components + c) * bytesPerSample;
            frame.data[at] = static_cast<std::uint8_t>(value & 0xFF);
            if (bytesPerSample == 2) frame.data[at + 1] = static_cast<std::uint8_t>((value >> 8) & 0xFF);
        }
    }
    return frame;
}

}  // namespace tessera::core::imaging
