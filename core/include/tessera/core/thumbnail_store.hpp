#pragma once
// ThumbnailStore: PNG thumbnails made at index time (archive.save-thumbnails) and kept in the
// data directory, so that /dic2png?thumbnail=true serves them without decoding the DICOM file
// again. One file per stored item, named by the SHA-256 of its URI:
// `<directory>/<64 hex digits>.png`. Keyed by URI rather than SOP Instance UID because unindex
// only knows URIs, and /dic2png resolves a UID to a URI anyway.
//
// The renderer is injected (the imaging module provides renderThumbnailPng), so the store and the
// indexing hooks do not depend on it. Thumbnails of one size are kept: when the size setting
// changes, clear() drops them all (they are re-made on demand or at the next indexing).
//
// Thread-safety: every method may be called concurrently. put() is atomic (a temporary sibling
// renamed over the target), so a reader sees a whole PNG or none.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "tessera/sdk/uri.hpp"

namespace tessera::core {

/// Renders a DICOM file's first frame as a PNG that fits in size × size. Throws sdk::Error for
/// a file it cannot render (no pixel data, unsupported or corrupt).
using ThumbnailRenderer = std::function<std::vector<std::uint8_t>(const std::filesystem::path& file, unsigned size)>;

class ThumbnailStore {
public:
    /// Creates `directory` when missing (Error(Unavailable) when it cannot). An empty renderer
    /// means make() never makes anything.
    explicit ThumbnailStore(std::filesystem::path directory, ThumbnailRenderer renderer = {});

    const std::filesystem::path& directory() const noexcept { return directory_; }
    bool canRender() const noexcept { return static_cast<bool>(renderer_); }

    /// Where the thumbnail of `uri` is (or would be) kept.
    std::filesystem::path pathFor(const sdk::Uri& uri) const;

    /// Stores a PNG for `uri`, replacing any. Error(InvalidArgument) when `png` is not a PNG,
    /// Error(Unavailable) when it cannot be written.
    void put(const sdk::Uri& uri, std::span<const std::uint8_t> png);

    /// The stored PNG of `uri`, or nullopt when there is none.
    std::optional<std::vector<std::uint8_t>> get(const sdk::Uri& uri) const;

    /// Removes the thumbnail of each URI; returns how many existed.
    std::size_t remove(const std::vector<sdk::Uri>& uris);

    /// Removes every stored thumbnail; returns how many.
    std::size_t clear();

    /// Renders `file` (the local file behind `uri`) at `size` and stores the result. Returns
    /// false, storing nothing, when there is no renderer or it refuses the file (expected for
    /// objects without pixel data); other failures (writing) throw.
    bool make(const sdk::Uri& uri, const std::filesystem::path& file, unsigned size);

private:
    std::filesystem::path directory_;
    ThumbnailRenderer renderer_;
};

}  // namespace tessera::core
