#include "tessera/core/thumbnail_store.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <unistd.h>

#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace fs = std::filesystem;

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

bool isPng(std::span<const std::uint8_t> bytes) {
    return bytes.size() > sizeof kPngSignature && std::equal(std::begin(kPngSignature), std::end(kPngSignature), bytes.begin());
}

}  // namespace

ThumbnailStore::ThumbnailStore(fs::path directory, ThumbnailRenderer renderer)
    : directory_(std::move(directory)), renderer_(std::move(renderer)) {
    std::error_code ec;
    fs::create_directories(directory_, ec);
    if (ec)
        throw sdk::Error(sdk::ErrorCode::Unavailable,
                         "Cannot create the thumbnail directory " + directory_.string() + ": " + ec.message());
}

fs::path ThumbnailStore::pathFor(const sdk::Uri& uri) const {
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    sha.update(uri.str());
    return directory_ / (Poco::DigestEngine::digestToHex(sha.digest()) + ".png");
}

void ThumbnailStore::put(const sdk::Uri& uri, std::span<const std::uint8_t> png) {
    if (!isPng(png)) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Not a PNG thumbnail for " + uri.str());
    static std::atomic<unsigned> counter{0};
    const fs::path target = pathFor(uri);
    const fs::path temporary = target.string() + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            fs::remove(temporary, ignored);
            throw sdk::Error(sdk::ErrorCode::Unavailable, "Cannot write the thumbnail " + target.string());
        }
    }
    std::error_code ec;
    fs::rename(temporary, target, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw sdk::Error(sdk::ErrorCode::Unavailable, "Cannot store the thumbnail " + target.string() + ": " + ec.message());
    }
}

std::optional<std::vector<std::uint8_t>> ThumbnailStore::get(const sdk::Uri& uri) const {
    std::ifstream in(pathFor(uri), std::ios::binary);
    if (!in) return std::nullopt;
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || !isPng(bytes)) return std::nullopt;
    return bytes;
}

std::size_t ThumbnailStore::remove(const std::vector<sdk::Uri>& uris) {
    std::size_t removed = 0;
    for (const auto& uri : uris) {
        std::error_code ec;
        if (fs::remove(pathFor(uri), ec)) ++removed;
    }
    return removed;
}

std::size_t ThumbnailStore::clear() {
    std::size_t removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(directory_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        if (it->path().extension() != ".png") continue;
        std::error_code removeError;
        if (fs::remove(it->path(), removeError)) ++removed;
    }
    return removed;
}

bool ThumbnailStore::make(const sdk::Uri& uri, const fs::path& file, unsigned size) {
    if (!renderer_) return false;
    std::vector<std::uint8_t> png;
    try {
        png = renderer_(file, size);
    } catch (const std::exception&) {
        return false;  // no pixel data, unsupported or corrupt: /dic2png will say why if asked
    }
    put(uri, png);
    return true;
}

}  // namespace tessera::core
