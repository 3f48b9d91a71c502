#include "image_encoder.hpp"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <jpeglib.h>
#include <png.h>

#include "tessera/sdk/error.hpp"

namespace tessera::core::imaging {
namespace {

using sdk::Error;
using sdk::ErrorCode;

void checkPixels(const Pixels8& pixels) {
    if (pixels.columns == 0 || pixels.rows == 0 || (pixels.channels != 1 && pixels.channels != 3) ||
        pixels.data.size() < std::size_t{pixels.columns} * pixels.rows * pixels.channels)
        throw Error(ErrorCode::Internal, "Image encoding got an inconsistent pixel buffer");
}

// libpng reports errors by longjmp; the handlers below keep C++ objects out of the jumped-over
// frames (only the output vector, owned by the caller, is touched between setjmp and the end).
void pngWrite(png_structp png, png_bytep data, png_size_t length) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}
void pngFlush(png_structp) {}

bool writePng(const Pixels8& pixels, std::vector<std::uint8_t>& out) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (png == nullptr) return false;
    png_infop info = png_create_info_struct(png);
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, &out, pngWrite, pngFlush);
    // Level 3 costs a third of the default's time for a few percent more bytes; thumbnails and
    // previews are made on request.
    png_set_compression_level(png, 3);
    png_set_IHDR(png, info, pixels.columns, pixels.rows, 8,
                 pixels.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const std::size_t stride = std::size_t{pixels.columns} * pixels.channels;
    for (unsigned row = 0; row < pixels.rows; ++row)
        png_write_row(png, const_cast<png_bytep>(pixels.data.data() + row * stride));
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

struct JpegErrorManager {
    jpeg_error_mgr base;
    std::jmp_buf jump;
};

// The default error_exit calls exit(); jump back instead.
void jpegErrorExit(j_common_ptr info) {
    auto* manager = reinterpret_cast<JpegErrorManager*>(info->err);
    std::longjmp(manager->jump, 1);
}
void jpegSilent(j_common_ptr, int) {}

bool writeJpeg(const Pixels8& pixels, int quality, unsigned char** buffer, unsigned long* size) {
    jpeg_compress_struct info{};
    JpegErrorManager errors{};
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpegErrorExit;
    errors.base.emit_message = jpegSilent;
    if (setjmp(errors.jump)) {
        jpeg_destroy_compress(&info);
        return false;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, buffer, size);
    info.image_width = pixels.columns;
    info.image_height = pixels.rows;
    info.input_components = static_cast<int>(pixels.channels);
    info.in_color_space = pixels.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    const std::size_t stride = std::size_t{pixels.columns} * pixels.channels;
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(pixels.data.data() + info.next_scanline * stride);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return true;
}

}  // namespace

std::vector<std::uint8_t> encodePng(const Pixels8& pixels) {
    checkPixels(pixels);
    std::vector<std::uint8_t> out;
    out.reserve(pixels.data.size() / 2 + 1024);
    if (!writePng(pixels, out)) throw Error(ErrorCode::Internal, "PNG encoding failed");
    return out;
}

std::vector<std::uint8_t> encodeJpeg(const Pixels8& pixels, int quality) {
    checkPixels(pixels);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    const bool ok = writeJpeg(pixels, quality < 1 ? 1 : (quality > 100 ? 100 : quality), &buffer, &size);
    std::vector<std::uint8_t> out;
    if (ok && buffer != nullptr) out.assign(buffer, buffer + size);
    std::free(buffer);
    if (!ok) throw Error(ErrorCode::Internal, "JPEG encoding failed");
    return out;
}

std::vector<std::uint8_t> encodePnm(const Pixels8& pixels) {
    checkPixels(pixels);
    const std::string header = std::string(pixels.channels == 3 ? "P6\n" : "P5\n") + std::to_string(pixels.columns) +
                               " " + std::to_string(pixels.rows) + "\n255\n";
    std::vector<std::uint8_t> out(header.begin(), header.end());
    out.insert(
        out.end(), pixels.data.begin(),
        pixels.data.begin() + static_cast<std::ptrdiff_t>(std::size_t{pixels.columns} * pixels.rows * pixels.channels));
    return out;
}

}  // namespace tessera::core::imaging
