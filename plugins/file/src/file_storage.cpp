#include "tessera/plugins/file/file_storage.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <random>
#include <system_error>
#include <utility>

#include "tessera/sdk/error.hpp"

namespace tessera::plugins::file {

namespace fs = std::filesystem;
using sdk::Error;
using sdk::ErrorCode;

namespace {

// Temporary files are `<target>.tmp-<16 lower-case hex digits>`; enumerate() skips that shape so an
// interrupted store is never indexed as an instance.
constexpr std::string_view kTempMarker = ".tmp-";
constexpr std::size_t kTempRandomDigits = 16;
constexpr std::size_t kMaxUidLength = 64;
// A concurrent remove() may prune the series/study directory a store is about to write into; the
// store then starts over. More than a few collisions in a row means something else is wrong.
constexpr int kStoreAttempts = 5;

class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // For a written file, close() can be the first to report a failed write-back.
    int close() noexcept { return ::close(std::exchange(fd_, -1)); }

    void reset() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

private:
    int fd_;
};

// Unlinks the temporary file unless the store got as far as renaming it.
class TempFileGuard {
public:
    TempFileGuard(int dirFd, std::string name) : dirFd_(dirFd), name_(std::move(name)) {}
    ~TempFileGuard() {
        if (armed_) ::unlinkat(dirFd_, name_.c_str(), 0);
    }
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;
    void release() noexcept { armed_ = false; }

private:
    int dirFd_;
    std::string name_;
    bool armed_ = true;
};

std::string errnoText(int err) {
    return std::generic_category().message(err);
}

// Messages name the instance, not the path: Error texts may reach clients.
Error storeError(int err, std::string_view step, std::string_view sopUid) {
    ErrorCode code = ErrorCode::Unavailable;  // disk full, read-only, I/O: the operator can fix it
    switch (err) {
        case ENOTDIR:
        case EISDIR:
        case EEXIST:
        case ENOTEMPTY:
            code = ErrorCode::Conflict;
            break;  // something else occupies the layout
        case ELOOP:
            code = ErrorCode::Forbidden;
            break;  // a symbolic link planted in the layout
        default:
            break;
    }
    return Error(code,
                 "Cannot store SOP Instance " + std::string(sopUid) + ": " + std::string(step) + ": " + errnoText(err));
}

Error outsideRoots(const sdk::Uri& uri, std::string_view why = {}) {
    std::string message = uri.str() + " is outside the storage roots";
    if (!why.empty()) message += " (" + std::string(why) + ")";
    return Error(ErrorCode::Forbidden, message);
}

bool isHexDigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool isTempFileName(const std::string& name) {
    const auto pos = name.rfind(kTempMarker);
    if (pos == std::string::npos) return false;
    const std::string_view suffix = std::string_view(name).substr(pos + kTempMarker.size());
    return suffix.size() == kTempRandomDigits && std::all_of(suffix.begin(), suffix.end(), isHexDigit);
}

std::string randomHex() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    static constexpr char kDigits[] = "0123456789abcdef";
    std::uint64_t value = engine();
    std::string out(kTempRandomDigits, '0');
    for (auto& c : out) {
        c = kDigits[value & 0xf];
        value >>= 4;
    }
    return out;
}

// `/data/` and `/data` are the same root; a trailing empty component would upset the
// component-wise comparison.
fs::path withoutTrailingSeparator(const fs::path& path) {
    fs::path normal = path.lexically_normal();
    if (!normal.has_filename() && normal.has_relative_path()) normal = normal.parent_path();
    return normal;
}

// Component-wise, so that `/data2` is not inside `/data`.
bool isWithin(const fs::path& path, const fs::path& root) {
    auto p = path.begin();
    for (auto r = root.begin(); r != root.end(); ++r, ++p) {
        if (p == path.end() || *p != *r) return false;
    }
    return true;
}

bool isUidValid(std::string_view uid) {
    auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    // First and last a digit and no empty component: this also keeps `.` and `..` out of paths.
    return !uid.empty() && uid.size() <= kMaxUidLength && isDigit(uid.front()) && isDigit(uid.back()) &&
           std::all_of(uid.begin(), uid.end(), [&](char c) { return isDigit(c) || c == '.'; }) &&
           uid.find("..") == std::string_view::npos;
}

std::string requireUid(const sdk::DicomObjectView& object, std::string_view keyword) {
    const auto value = object.get(keyword);
    if (!value || value->empty())
        throw Error(ErrorCode::InvalidArgument, "Cannot store: " + std::string(keyword) + " is missing");
    if (!isUidValid(*value))
        throw Error(ErrorCode::InvalidArgument, "Cannot store: " + std::string(keyword) +
                                                    " is not a valid UID (digits and dots, at most 64 characters)");
    return *value;
}

// Whether `path` names an existing regular file that the kernel reached without following any
// symbolic link. Such a path, when it is also absolute, normal and free of `..` (what
// checkedLexicalPath() guarantees), is its own canonical form: the per-file check of an index
// run then costs one path walk in the kernel (openat2 with RESOLVE_NO_SYMLINKS, fstat, close)
// instead of weakly_canonical's stat calls plus a readlink per component. Anything else (a
// link on the way, a missing file, a kernel without openat2) answers false and the caller takes
// the full resolution, which decides and words the outcome as before.
bool isRegularFileWithoutLinks(const fs::path& path) {
    static std::atomic<bool> unsupported{false};
    if (unsupported.load(std::memory_order_relaxed)) return false;
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;  // magic links (/proc/self/fd/...) included
    const long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
    if (fd < 0) {
        if (errno == ENOSYS || errno == EPERM) unsupported.store(true, std::memory_order_relaxed);
        return false;
    }
    struct stat info {};
    const bool regular = ::fstat(static_cast<int>(fd), &info) == 0 && S_ISREG(info.st_mode);
    ::close(static_cast<int>(fd));
    return regular;
}

fs::path absoluteRootFromText(std::string_view text) {
    fs::path path;
    if (!text.empty() && text.front() == '/') {
        path = fs::path(std::string(text));
    } else {
        const auto uri = sdk::Uri::parse(text);  // throws InvalidArgument for a bare relative path too
        if (uri.scheme() != FileStorage::kScheme)
            throw Error(ErrorCode::InvalidArgument, "Storage root is not a path or file: URI: " + std::string(text));
        const auto decoded = uri.decodedPath();
        if (!decoded) throw Error(ErrorCode::InvalidArgument, "Storage root has a bad escape: " + std::string(text));
        path = fs::path(*decoded);
    }
    if (!path.is_absolute())
        throw Error(ErrorCode::InvalidArgument, "Storage root must be absolute: " + std::string(text));
    return path;
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

// Writes `bytes` as `<dir>/<fileName>` under the store root through descriptors, with O_NOFOLLOW
// at every step, so a symbolic link swapped into the layout cannot redirect the write outside.
// Returns false when a directory on the way vanished under a concurrent remove(); the caller
// starts over. `durable` false skips every fsync (storeUnsynced(): syncStored() flushes later).
bool writeInstance(const fs::path& storeRoot, const std::array<std::string, 2>& dirs, const std::string& fileName,
                   std::span<const std::uint8_t> bytes, std::string_view sopUid, bool durable) {
    FileDescriptor dir(::open(storeRoot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw storeError(errno, "cannot open the store root", sopUid);

    for (const auto& name : dirs) {
        bool created = false;
        if (::mkdirat(dir.get(), name.c_str(), 0755) == 0) {
            created = true;
        } else if (errno == ENOENT) {
            return false;
        } else if (errno != EEXIST) {
            throw storeError(errno, "cannot create a directory", sopUid);
        }
        FileDescriptor child(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) {
            const int err = errno;
            if (err == ENOENT) return false;
            // Linux reports a symbolic link under O_DIRECTORY | O_NOFOLLOW as ENOTDIR; a link in
            // the layout is an escape attempt, not a mere clash.
            struct stat entry {};
            if (err == ENOTDIR && ::fstatat(dir.get(), name.c_str(), &entry, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(entry.st_mode))
                throw storeError(ELOOP, "a symbolic link is in the storage layout", sopUid);
            throw storeError(err, "cannot open a directory", sopUid);
        }
        // A new directory entry is only durable once its parent is synced.
        if (durable && created && ::fsync(dir.get()) != 0) throw storeError(errno, "cannot sync a directory", sopUid);
        dir = std::move(child);
    }

    std::string tempName;
    FileDescriptor file;
    for (int attempt = 0; attempt < 8 && !file; ++attempt) {
        tempName = fileName + std::string(kTempMarker) + randomHex();
        file = FileDescriptor(
            ::openat(dir.get(), tempName.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!file && errno != EEXIST) {
            if (errno == ENOENT) return false;
            throw storeError(errno, "cannot create a temporary file", sopUid);
        }
    }
    if (!file) throw storeError(EEXIST, "cannot create a temporary file", sopUid);
    TempFileGuard guard(dir.get(), tempName);

    const auto* data = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t written = ::write(file.get(), data, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw storeError(errno, "cannot write", sopUid);
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    if (durable && ::fsync(file.get()) != 0) throw storeError(errno, "cannot sync the file", sopUid);
    if (file.close() != 0) throw storeError(errno, "cannot close the file", sopUid);

    // rename() replaces atomically: readers see the old file or the new one, never a mix, and of
    // concurrent stores of one instance the last rename wins with a complete file.
    if (::renameat(dir.get(), tempName.c_str(), dir.get(), fileName.c_str()) != 0)
        throw storeError(errno, "cannot move the file into place", sopUid);
    guard.release();
    if (durable && ::fsync(dir.get()) != 0) throw storeError(errno, "cannot sync the directory", sopUid);
    return true;
}

}  // namespace

FileStorage::FileStorage(const fs::path& storeRoot, const std::vector<fs::path>& readRoots) {
    if (!storeRoot.is_absolute())
        throw Error(ErrorCode::InvalidArgument, "Store root must be absolute: " + storeRoot.string());
    std::error_code ec;
    fs::create_directories(storeRoot, ec);
    if (ec || !fs::is_directory(storeRoot, ec))
        throw Error(ErrorCode::InvalidArgument, "Cannot create the store root " + storeRoot.string());
    storeRoot_ = withoutTrailingSeparator(fs::canonical(storeRoot, ec));
    if (ec) throw Error(ErrorCode::InvalidArgument, "Cannot resolve the store root " + storeRoot.string());
    roots_.push_back(storeRoot_);

    for (const auto& root : readRoots) {
        if (!root.is_absolute())
            throw Error(ErrorCode::InvalidArgument, "Storage root must be absolute: " + root.string());
        // A read root may not exist yet (a mount point); weakly_canonical resolves what does.
        auto canonical = withoutTrailingSeparator(fs::weakly_canonical(root, ec));
        if (ec) throw Error(ErrorCode::InvalidArgument, "Cannot resolve the storage root " + root.string());
        if (std::find(roots_.begin(), roots_.end(), canonical) == roots_.end()) roots_.push_back(std::move(canonical));
    }
}

std::unique_ptr<FileStorage> FileStorage::fromSettings(sdk::SettingsSection& settings, const fs::path& dataDirectory) {
    const auto storeRootText = settings.getOrInit(kStoreRootKey, (dataDirectory / "storage").string());
    const auto rootsText = settings.getOrInit(kRootsKey, "");
    const auto storeRoot = trim(storeRootText);
    if (storeRoot.empty()) throw Error(ErrorCode::InvalidArgument, "Setting store-root is empty");
    return std::make_unique<FileStorage>(absoluteRootFromText(storeRoot), parseRootList(rootsText));
}

std::vector<fs::path> FileStorage::parseRootList(std::string_view list) {
    std::vector<fs::path> roots;
    while (!list.empty()) {
        const auto semicolon = list.find(';');
        const auto entry = trim(list.substr(0, semicolon));
        if (!entry.empty()) roots.push_back(absoluteRootFromText(entry));
        if (semicolon == std::string_view::npos) break;
        list.remove_prefix(semicolon + 1);
    }
    return roots;
}

sdk::Uri FileStorage::toUri(const fs::path& absolutePath) {
    return sdk::Uri::fromFilePath(absolutePath.native());
}

fs::path FileStorage::checkedLexicalPath(const sdk::Uri& uri) const {
    if (uri.scheme() != kScheme) throw Error(ErrorCode::InvalidArgument, "Not a file: URI: " + uri.str());

    const auto rest = uri.schemeSpecificPart();
    if (rest.substr(0, 2) == "//") {
        const auto authority = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
        std::string lower(authority);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!lower.empty() && lower != "localhost") throw outsideRoots(uri, "another host");
    }

    const auto decoded = uri.decodedPath();
    if (!decoded) {
        // An escaped NUL would cut the path short in C APIs; refuse it as an attack, not a typo.
        if (rest.find("%00") != std::string_view::npos) throw outsideRoots(uri, "escaped NUL");
        throw Error(ErrorCode::InvalidArgument, "Bad URI: malformed percent-escape: " + uri.str());
    }
    if (decoded->empty() || decoded->front() != '/') throw outsideRoots(uri, "not an absolute path");

    // `..` is refused outright, even where it would normalise back inside a root: no client of a
    // storage provider needs it, and checking the decoded path catches `%2e%2e` and `..%2f` alike.
    const fs::path path(*decoded);
    for (const auto& part : path)
        if (part == "..") throw outsideRoots(uri, "'..' segment");
    return withoutTrailingSeparator(path);
}

bool FileStorage::insideRoots(const fs::path& canonicalPath) const {
    return std::any_of(roots_.begin(), roots_.end(),
                       [&](const fs::path& root) { return isWithin(canonicalPath, root); });
}

fs::path FileStorage::resolve(const sdk::Uri& uri) const {
    const auto lexical = checkedLexicalPath(uri);
    std::error_code ec;
    auto resolved = fs::weakly_canonical(lexical, ec);
    if (ec) throw outsideRoots(uri, "cannot be resolved");
    resolved = withoutTrailingSeparator(resolved);
    if (!insideRoots(resolved)) throw outsideRoots(uri);
    return resolved;
}

fs::path FileStorage::resolveEntry(const sdk::Uri& uri) const {
    const auto lexical = checkedLexicalPath(uri);
    if (!lexical.has_relative_path()) throw outsideRoots(uri);
    std::error_code ec;
    const auto parent = fs::weakly_canonical(lexical.parent_path(), ec);
    if (ec) throw outsideRoots(uri, "cannot be resolved");
    auto resolved = withoutTrailingSeparator(parent / lexical.filename());
    if (!insideRoots(resolved)) throw outsideRoots(uri);
    return resolved;
}

void FileStorage::enumerate(const sdk::Uri& root, const std::function<bool(const sdk::StorageItem&)>& visit) {
    const auto start = resolve(root);
    std::error_code ec;
    const auto startStatus = fs::status(start, ec);
    if (startStatus.type() == fs::file_type::not_found)
        throw Error(ErrorCode::NotFound, root.str() + " does not exist");
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot read " + root.str() + ": " + ec.message());
    if (fs::is_regular_file(startStatus)) {
        const auto size = fs::file_size(start, ec);
        if (ec) throw Error(ErrorCode::Unavailable, "Cannot read " + root.str() + ": " + ec.message());
        visit(sdk::StorageItem{toUri(start), size});
        return;
    }
    if (!fs::is_directory(startStatus))
        throw Error(ErrorCode::InvalidArgument, root.str() + " is neither a file nor a directory");

    // An explicit stack of directory iterators instead of recursive_directory_iterator: a directory
    // that vanishes or fails mid-walk costs only its own entries, where the recursive iterator
    // would end the whole walk. Memory stays proportional to the depth, not the listing.
    constexpr auto kOptions = fs::directory_options::skip_permission_denied;
    std::vector<fs::directory_iterator> stack;
    stack.emplace_back(start, kOptions, ec);
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot list " + root.str() + ": " + ec.message());

    while (!stack.empty()) {
        auto& current = stack.back();
        if (current == fs::directory_iterator()) {
            stack.pop_back();
            continue;
        }
        const fs::directory_entry entry = *current;
        current.increment(ec);
        if (ec) stack.pop_back();  // `current` is unusable now; the rest of the tree goes on

        // The type comes from the listing itself (d_type) where the file system gives it: no
        // lstat per entry. The size needs one stat, which also drops a file that vanished.
        fs::file_type type = fs::file_type::none;
        ec.clear();  // a cached type answers without touching ec
        if (entry.is_symlink(ec))
            type = fs::file_type::symlink;
        else if (!ec && entry.is_directory(ec))
            type = fs::file_type::directory;
        else if (!ec && entry.is_regular_file(ec))
            type = fs::file_type::regular;
        if (ec) continue;  // vanished since it was listed
        if (type == fs::file_type::directory) {
            fs::directory_iterator child(entry.path(), kOptions, ec);
            if (!ec) stack.push_back(std::move(child));
            continue;
        }
        std::uint64_t size = 0;
        if (type == fs::file_type::regular) {
            if (isTempFileName(entry.path().filename().string())) continue;
            size = entry.file_size(ec);
            if (ec) continue;
        } else if (type == fs::file_type::symlink) {
            // Symbolic links to directories are never followed; a link to a file is listed only
            // when its target lies inside the roots, so that open() of the listed URI succeeds.
            const auto target = fs::canonical(entry.path(), ec);
            if (ec || !insideRoots(target) || !fs::is_regular_file(target, ec) || ec) continue;
            size = fs::file_size(target, ec);
            if (ec) continue;
        } else {
            continue;  // sockets, pipes, devices
        }
        if (!visit(sdk::StorageItem{toUri(entry.path()), size})) return;
    }
}

std::optional<fs::path> FileStorage::localPath(const sdk::Uri& uri) const {
    // Fast path: a lexically checked path under a root (roots are canonical) that the kernel
    // walks without meeting a symbolic link is canonical and inside that root.
    auto lexical = checkedLexicalPath(uri);
    if (lexical.has_relative_path() && insideRoots(lexical) && isRegularFileWithoutLinks(lexical)) return lexical;

    const auto path = resolve(uri);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) throw Error(ErrorCode::NotFound, uri.str() + " does not exist");
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot read " + uri.str() + ": " + ec.message());
    if (!fs::is_regular_file(status)) throw Error(ErrorCode::InvalidArgument, uri.str() + " is not a file");
    return path;
}

std::unique_ptr<std::istream> FileStorage::open(const sdk::Uri& uri) {
    const auto path = *localPath(uri);

    // The path was canonical a moment ago; a link swapped in between is the operator's own doing
    // inside a root they control, and std::ifstream cannot be opened from a descriptor.
    auto stream = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!stream->is_open()) {
        const int err = errno;
        if (err == ENOENT) throw Error(ErrorCode::NotFound, uri.str() + " does not exist");
        throw Error(ErrorCode::Unavailable, "Cannot open " + uri.str() + ": " + errnoText(err));
    }
    return stream;
}

sdk::Uri FileStorage::store(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) {
    return write(object, part10, true);
}

sdk::Uri FileStorage::storeUnsynced(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) {
    return write(object, part10, false);
}

void FileStorage::syncStored(std::span<const sdk::Uri> uris) {
    if (uris.empty()) return;
    // One syncfs() of the store root's file system writes back every file, inode and directory
    // entry the unsynced stores left dirty, with one device flush; an fsync of each file and
    // each touched directory costs one flush each (docs/benchmarks.md, "deferred durability").
    // storeUnsynced() only writes under the store root, so that one file system covers `uris`.
    FileDescriptor root(::open(storeRoot_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error(ErrorCode::Unavailable, "Cannot sync the stored files: " + errnoText(errno));
    if (::syncfs(root.get()) != 0)
        throw Error(ErrorCode::Unavailable, "Cannot sync the stored files: " + errnoText(errno));
}

sdk::Uri FileStorage::write(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10, bool durable) {
    const std::array<std::string, 2> dirs{requireUid(object, "StudyInstanceUID"),
                                          requireUid(object, "SeriesInstanceUID")};
    const auto sopUid = requireUid(object, "SOPInstanceUID");
    if (part10.empty()) throw Error(ErrorCode::InvalidArgument, "Cannot store SOP Instance " + sopUid + ": no data");
    const auto fileName = sopUid + ".dcm";

    for (int attempt = 1; !writeInstance(storeRoot_, dirs, fileName, part10, sopUid, durable); ++attempt) {
        if (attempt == kStoreAttempts)
            throw Error(ErrorCode::Unavailable,
                        "Cannot store SOP Instance " + sopUid + ": its directory keeps being removed");
    }
    return toUri(storeRoot_ / dirs[0] / dirs[1] / fileName);
}

void FileStorage::remove(const sdk::Uri& uri) {
    // A link leading out of the roots is refused like everywhere else; one that stays inside is
    // removed itself, never its target.
    resolve(uri);
    const auto path = resolveEntry(uri);
    if (std::find(roots_.begin(), roots_.end(), path) != roots_.end())
        throw Error(ErrorCode::InvalidArgument, "Cannot remove a storage root: " + uri.str());
    if (::unlink(path.c_str()) != 0) {
        const int err = errno;
        if (err == ENOENT) return;
        if (err == EISDIR) throw Error(ErrorCode::InvalidArgument, "Cannot remove " + uri.str() + ": not a file");
        throw Error(ErrorCode::Unavailable, "Cannot remove " + uri.str() + ": " + errnoText(err));
    }
    // Prune series and study directories the removal emptied. rmdir() refuses a non-empty
    // directory, so a concurrent store() that already put a file there keeps it; one that is
    // between mkdir and create sees ENOENT and starts over.
    if (!isWithin(path, storeRoot_)) return;
    for (auto dir = path.parent_path(); dir != storeRoot_ && isWithin(dir, storeRoot_); dir = dir.parent_path()) {
        if (::rmdir(dir.c_str()) != 0) break;
    }
}

}  // namespace tessera::plugins::file
