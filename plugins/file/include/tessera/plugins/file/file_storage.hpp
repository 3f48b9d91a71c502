#pragma once
/// @file file_storage.hpp
/// The `file` StorageProvider: DICOM files on a local file system.
///
/// It serves a set of roots: the store root, where store() writes
/// `<root>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`, plus extra read roots
/// (folders an operator wants indexed in place). Every URI is decoded, must be absolute, may not
/// contain a `..` segment, and must resolve (symbolic links followed) to a path inside one of the
/// roots; anything else is refused with Error(Forbidden) before the file system is touched any
/// further, so a refusal never tells whether a path outside the roots exists.
///
/// URIs it produces are `file:/abs/path` with every byte outside `[A-Za-z0-9-._~/]`
/// percent-encoded (a space is `%20`); it accepts `file:/p`, `file:///p` and
/// `file://localhost/p`.
///
/// Thread-safety: the configuration is fixed at construction; every method may be called
/// concurrently. store() is atomic per instance (temporary file, fsync, rename, directory fsync),
/// so concurrent stores of the same instance end with one complete file.
/// It also implements sdk::DeferredDurabilityStorage: storeUnsynced() is store() without the
/// fsyncs (temporary file, rename), syncStored() one syncfs() of the store root's file system.
/// @since 1.0

#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sdk/deferred_durability_storage.hpp"
#include "tessera/sdk/dicom_object_view.hpp"
#include "tessera/sdk/settings_section.hpp"
#include "tessera/sdk/storage_provider.hpp"
#include "tessera/sdk/uri.hpp"

namespace tessera::plugins::file {

class FileStorage : public sdk::StorageProvider, public sdk::DeferredDurabilityStorage {
public:
    /// Provider name and URI scheme.
    static constexpr std::string_view kName = "file";
    static constexpr std::string_view kScheme = "file";
    /// Settings keys: the archive root store() writes to, and extra read roots (`;`-separated).
    static constexpr std::string_view kStoreRootKey = "store-root";
    static constexpr std::string_view kRootsKey = "roots";

    /// Creates the store root if missing, then canonicalises it and every read root (which need
    /// not exist yet). Throws Error(InvalidArgument) for a relative root or one that cannot be
    /// created.
    explicit FileStorage(const std::filesystem::path& storeRoot,
                         const std::vector<std::filesystem::path>& readRoots = {});

    /// Reads `store-root` (default `<dataDirectory>/storage`) and `roots` (default empty),
    /// writing the defaults into the section so that they show up in the configuration file.
    static std::unique_ptr<FileStorage> fromSettings(sdk::SettingsSection& settings,
                                                     const std::filesystem::path& dataDirectory);

    /// Splits a `;`-separated list of absolute paths or `file:` URIs; blanks are skipped.
    /// Throws Error(InvalidArgument) for a relative path or a bad URI.
    static std::vector<std::filesystem::path> parseRootList(std::string_view list);

    /// `file:` URI of an absolute path, percent-encoded as described above.
    static sdk::Uri toUri(const std::filesystem::path& absolutePath);

    std::string name() const override { return std::string(kName); }
    std::string scheme() const override { return std::string(kScheme); }

    void enumerate(const sdk::Uri& root, const std::function<bool(const sdk::StorageItem&)>& visit) override;
    std::unique_ptr<std::istream> open(const sdk::Uri& uri) override;
    /// The checked canonical path of an existing regular file (NotFound, Forbidden otherwise).
    std::optional<std::filesystem::path> localPath(const sdk::Uri& uri) const override;
    sdk::Uri store(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) override;
    void remove(const sdk::Uri& uri) override;
    sdk::Uri storeUnsynced(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) override;
    /// One syncfs() of the store root's file system (it may flush unrelated data on it too).
    void syncStored(std::span<const sdk::Uri> uris) override;

    /// The canonical store root.
    const std::filesystem::path& storeRoot() const noexcept { return storeRoot_; }
    /// Every root served, canonical, the store root first.
    const std::vector<std::filesystem::path>& roots() const noexcept { return roots_; }

    /// The canonical path a URI names, after every check above (the file need not exist).
    /// Throws Error(InvalidArgument) for another scheme, Error(Forbidden) when outside the roots.
    std::filesystem::path resolve(const sdk::Uri& uri) const;

private:
    sdk::Uri write(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10, bool durable);
    bool insideRoots(const std::filesystem::path& canonicalPath) const;
    std::filesystem::path checkedLexicalPath(const sdk::Uri& uri) const;
    // Like resolve(), but a final symbolic link is left as is: remove() deletes the link itself.
    std::filesystem::path resolveEntry(const sdk::Uri& uri) const;

    std::filesystem::path storeRoot_;
    std::vector<std::filesystem::path> roots_;
};

}  // namespace tessera::plugins::file
