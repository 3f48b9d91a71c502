#pragma once
/// @file storage_provider.hpp
/// A StorageProvider owns the bytes of stored objects under one URI scheme.
///
/// Every URI it accepts must resolve inside the roots it serves: `..` segments (also escaped as
/// `%2e%2e`), symbolic links leading out of a root and foreign absolute paths are refused with
/// Error(Forbidden). Files on storage are the archive's truth; indexes are derived from them.
///
/// Ownership: returned streams belong to the caller. Views and byte spans passed in are borrowed
/// for the duration of the call.
/// Thread-safety: every method may be called concurrently from several threads.
/// @since 1.0

#include <cstdint>
#include <filesystem>
#include <optional>
#include <functional>
#include <istream>
#include <memory>
#include <span>
#include <string>

#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/provider.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::sdk {

/// One stored item found by enumerate().
/// @since 1.0
struct StorageItem {
    Uri uri;
    std::uint64_t size = 0;  ///< bytes
};

/// @since 1.0
class StorageProvider : public virtual Provider {
public:
    /// The URI scheme served (`file`), lower case.
    virtual std::string scheme() const = 0;

    /// True when this provider serves the URI (by default: same scheme).
    virtual bool handles(const Uri& uri) const { return uri.scheme() == scheme(); }

    /// Calls `visit` for every item at or below `root` (recursive; a single item yields itself),
    /// streaming: it never collects the whole listing first. Stops early when `visit` returns
    /// false. Throws Error(NotFound) when the root does not exist, Error(Forbidden) when it is
    /// outside the served roots.
    virtual void enumerate(const Uri& root, const std::function<bool(const StorageItem&)>& visit) = 0;

    /// Opens an item for reading. Throws Error(NotFound) or Error(Forbidden).
    virtual std::unique_ptr<std::istream> open(const Uri& uri) = 0;

    /// The local file behind a URI, when the provider keeps items as plain local files, after
    /// the same root checks as open(); nullopt otherwise. Lets the host read only a file's
    /// header (up to PixelData) instead of streaming the whole object. Throws like open().
    virtual std::optional<std::filesystem::path> localPath(const Uri& /*uri*/) const { return std::nullopt; }

    /// Stores a DICOM Part 10 file durably (the data is on stable storage when this returns) and
    /// returns its URI. Storing an object with the same SOP Instance UID again replaces it.
    /// `object` is the parsed view of `part10`, for the storage layout.
    virtual Uri store(const DicomObjectView& object, std::span<const std::uint8_t> part10) = 0;

    /// Deletes an item. Removing what does not exist is not an error.
    virtual void remove(const Uri& uri) = 0;
};

}  // namespace tessera::sdk
