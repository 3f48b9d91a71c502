#include "dicom/intake_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "tessera/sdk/error.hpp"

namespace tessera::server {
namespace {

using sdk::Error;
using sdk::ErrorCode;

constexpr std::uint64_t kHeaderSize = 4096;
constexpr char kSegmentMagic[8] = {'T', 'S', 'J', 'S', 'E', 'G', '0', '1'};
constexpr std::uint32_t kRecordMagic = 0x524a5354;  // "TSJR" little-endian
constexpr std::size_t kRecordHead = 16;             // magic, length, CRC, 0
constexpr std::size_t kPayloadPrefix = 16;          // segment number, seq
constexpr std::size_t kZeroChunk = std::size_t(1) << 20;
constexpr std::chrono::seconds kSegmentWait{10};

Poco::Logger& logger() {
    return Poco::Logger::get("tessera.dicom.storage");
}

std::string errnoText(int err) {
    return std::strerror(err);
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int err) {
    throw Error(ErrorCode::Internal, "C-STORE journal: " + what + " " + path.string() + ": " + errnoText(err));
}

void putU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void putU64At(std::uint8_t* at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void putU32At(std::uint8_t* at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t getU64(const std::uint8_t* at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | at[i];
    return v;
}
std::uint32_t getU32(const std::uint8_t* at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | at[i];
    return v;
}
void putString(std::vector<std::uint8_t>& out, const std::string& s) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(s.size(), 0xffff));
    putU16(out, n);
    out.insert(out.end(), s.begin(), s.begin() + n);
}

std::uint32_t crcOf(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        crc = static_cast<std::uint32_t>(::crc32(crc, data, chunk));
        data += chunk;
        size -= chunk;
    }
    return crc;
}

bool writeAll(int fd, const std::uint8_t* data, std::size_t size, std::uint64_t offset) {
    while (size > 0) {
        const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool readAll(int fd, std::uint8_t* data, std::size_t size, std::uint64_t offset) {
    while (size > 0) {
        const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

void syncDirectory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("cannot open the directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) fail("cannot sync the directory", dir, err);
}

std::filesystem::path segmentPath(const std::filesystem::path& dir, std::uint64_t number) {
    char name[32];
    std::snprintf(name, sizeof name, "segment-%016llx", static_cast<unsigned long long>(number));
    return dir / name;
}

std::optional<std::uint64_t> segmentNumber(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    if (name.size() != 24 || name.rfind("segment-", 0) != 0) return std::nullopt;
    try {
        return std::stoull(name.substr(8), nullptr, 16);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::uint64_t roundUp(std::uint64_t value, std::uint64_t unit) {
    return (value + unit - 1) / unit * unit;
}

}  // namespace

struct IntakeJournal::Segment {
    std::uint64_t number = 0;
    std::filesystem::path path;
    int fd = -1;
    std::uint64_t size = 0;
    std::uint64_t used = kHeaderSize;
    std::uint64_t lastSeq = 0;  // 0: no record yet
    ~Segment() {
        if (fd >= 0) ::close(fd);
    }
};

IntakeJournal::IntakeJournal(std::filesystem::path dir, IntakeJournalOptions options)
    : dir_(std::move(dir)), options_(options) {
    options_.segmentSize = std::max<std::uint64_t>(roundUp(options_.segmentSize, 4096), 2 * kHeaderSize);
}

IntakeJournal::~IntakeJournal() {
    close();
}

std::shared_ptr<IntakeJournal::Segment> IntakeJournal::prepareSegment(std::uint64_t number, std::uint64_t size) {
    auto segment = std::make_shared<Segment>();
    segment->number = number;
    segment->path = segmentPath(dir_, number);
    segment->size = size;
    std::optional<std::filesystem::path> recycled;
    if (size == options_.segmentSize) {
        std::lock_guard lock(mutex_);
        if (!free_.empty()) {
            recycled = free_.back();
            free_.pop_back();
        }
    }
    std::uint8_t header[kHeaderSize] = {};
    std::memcpy(header, kSegmentMagic, sizeof kSegmentMagic);
    putU64At(header + 8, number);
    if (recycled) {
        // Its blocks are written already: a rename and a new header make it a new segment, whose
        // records replace the old ones (a replay stops at the first old one: another number).
        if (::rename(recycled->c_str(), segment->path.c_str()) != 0) fail("cannot recycle", *recycled, errno);
        segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CLOEXEC);
        if (segment->fd < 0) fail("cannot open", segment->path, errno);
        if (!writeAll(segment->fd, header, sizeof header, 0)) fail("cannot write the header of", segment->path, errno);
        if (::fdatasync(segment->fd) != 0) fail("cannot sync", segment->path, errno);
    } else {
        segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (segment->fd < 0) fail("cannot create", segment->path, errno);
        // Every block written once now, so a record's flush later is data only.
        std::vector<std::uint8_t> zeros(kZeroChunk, 0);
        for (std::uint64_t offset = 0; offset < size; offset += kZeroChunk) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kZeroChunk, size - offset));
            if (!writeAll(segment->fd, zeros.data(), n, offset)) fail("cannot fill", segment->path, errno);
        }
        if (!writeAll(segment->fd, header, sizeof header, 0)) fail("cannot write the header of", segment->path, errno);
        if (::fsync(segment->fd) != 0) fail("cannot sync", segment->path, errno);
    }
    syncDirectory(dir_);
    return segment;
}

std::vector<IntakeRecord> IntakeJournal::open() {
    std::lock_guard lock(mutex_);
    if (open_) return {};
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw Error(ErrorCode::Internal, "C-STORE journal: cannot create " + dir_.string() + ": " + ec.message());
    const auto donePath = dir_ / "done";
    doneFd_ = ::open(donePath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (doneFd_ < 0) fail("cannot open", donePath, errno);
    std::uint8_t mark[8] = {};
    doneMark_ = readAll(doneFd_, mark, sizeof mark, 0) ? getU64(mark) : 0;

    // Every segment's whole records; those not done are replayed.
    std::vector<std::pair<std::uint64_t, std::filesystem::path>> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
        if (auto number = segmentNumber(entry.path())) files.emplace_back(*number, entry.path());
    std::sort(files.begin(), files.end());
    std::vector<IntakeRecord> records;
    std::uint64_t maxSeq = 0;
    std::uint64_t maxNumber = 0;
    for (const auto& [number, path] : files) {
        maxNumber = std::max(maxNumber, number);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail("cannot open", path, errno);
        struct stat st {};
        ::fstat(fd, &st);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        std::uint8_t header[16] = {};
        std::uint64_t lastSeq = 0;
        std::size_t found = 0;
        if (readAll(fd, header, sizeof header, 0) && std::memcmp(header, kSegmentMagic, 8) == 0 &&
            getU64(header + 8) == number) {
            std::uint64_t offset = kHeaderSize;
            std::vector<std::uint8_t> payload;
            std::uint8_t head[kRecordHead];
            while (offset + kRecordHead <= size && readAll(fd, head, kRecordHead, offset)) {
                const std::uint32_t length = getU32(head + 4);
                if (getU32(head) != kRecordMagic || length < kPayloadPrefix + 16 ||
                    length > size - offset - kRecordHead)
                    break;
                payload.resize(length);
                if (!readAll(fd, payload.data(), length, offset + kRecordHead) ||
                    crcOf(0, payload.data(), length) != getU32(head + 8) || getU64(payload.data()) != number)
                    break;  // torn, or what this file held as an earlier segment
                const std::uint8_t* at = payload.data() + 8;
                const std::uint8_t* end = payload.data() + length;
                IntakeRecord record;
                record.seq = getU64(at);
                at += 8;
                bool ok = true;
                auto takeString = [&](std::string& out) {
                    if (end - at < 2) return ok = false;
                    const std::size_t n = at[0] | (at[1] << 8);
                    at += 2;
                    if (static_cast<std::size_t>(end - at) < n) return ok = false;
                    out.assign(reinterpret_cast<const char*>(at), n);
                    at += n;
                    return true;
                };
                takeString(record.callingAe);
                takeString(record.calledAe);
                if (ok && end - at >= 2) {
                    const std::size_t count = at[0] | (at[1] << 8);
                    at += 2;
                    for (std::size_t i = 0; ok && i < count; ++i) takeString(record.providers.emplace_back());
                } else {
                    ok = false;
                }
                if (ok && end - at >= 8) {
                    const std::uint64_t n = getU64(at);
                    at += 8;
                    if (static_cast<std::uint64_t>(end - at) < n) ok = false;
                    else record.part10.assign(at, at + n);
                } else {
                    ok = false;
                }
                if (!ok) break;
                lastSeq = std::max(lastSeq, record.seq);
                maxSeq = std::max(maxSeq, record.seq);
                if (record.seq > doneMark_) {
                    pending_.insert(record.seq);
                    records.push_back(std::move(record));
                    ++found;
                }
                offset = roundUp(offset + kRecordHead + length, 8);
            }
        }
        ::close(fd);
        if (found > 0) {
            auto segment = std::make_shared<Segment>();
            segment->number = number;
            segment->path = path;
            segment->size = size;
            segment->lastSeq = lastSeq;
            sealed_.push_back(std::move(segment));
        } else if (size == options_.segmentSize) {
            free_.push_back(path);
        } else {
            std::filesystem::remove(path, ec);
        }
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    nextSeq_ = std::max(maxSeq, doneMark_) + 1;
    writtenSeq_ = durableSeq_ = nextSeq_ - 1;
    nextSegment_ = maxNumber + 1;
    failed_ = false;
    closing_ = false;
    if (!records.empty())
        logger().information("C-STORE journal %s: %z acknowledged instances to store and index again", dir_.string(),
                             records.size());
    open_ = true;
    preparer_ = std::thread([this] { prepareLoop(); });
    return records;
}

void IntakeJournal::prepareLoop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        needSegment_.wait(lock, [&] {
            // The next segment is made once the active one is half full, not at once: writing
            // a segment's zeros competes with the flushes of the first C-STOREs otherwise.
            const bool wanted = ready_.empty() && (!active_ || active_->used > active_->size / 2);
            return closing_ || wanted || (!free_.empty() && free_.size() + ready_.size() > options_.spareSegments);
        });
        if (closing_) return;
        if (ready_.empty() && (!active_ || active_->used > active_->size / 2)) {
            const std::uint64_t number = nextSegment_++;
            lock.unlock();
            std::shared_ptr<Segment> segment;
            std::string error;
            try {
                segment = prepareSegment(number, options_.segmentSize);
            } catch (const std::exception& e) {
                error = e.what();
                logger().error("%s", error);
            }
            lock.lock();
            prepareError_ = error;
            if (segment) {
                ready_.push_back(std::move(segment));
                segmentReady_.notify_all();
            } else {
                needSegment_.wait_for(lock, std::chrono::seconds(1), [&] { return closing_; });
            }
            continue;
        }
        // More spare files than wanted: the disk use stays bounded.
        const auto path = free_.back();
        free_.pop_back();
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
}

std::uint64_t IntakeJournal::append(IntakeRecord& record) {
    // Encoded outside the lock; the segment number and seq go in under it, and the CRC is
    // combined from the prefix's and the rest's.
    std::vector<std::uint8_t> bytes(kRecordHead + kPayloadPrefix, 0);
    bytes.reserve(kRecordHead + kPayloadPrefix + 64 + record.part10.size() + 8);
    putString(bytes, record.callingAe);
    putString(bytes, record.calledAe);
    putU16(bytes, static_cast<std::uint16_t>(record.providers.size()));
    for (const auto& name : record.providers) putString(bytes, name);
    const std::size_t sizeAt = bytes.size();
    bytes.resize(sizeAt + 8);
    putU64At(bytes.data() + sizeAt, record.part10.size());
    bytes.insert(bytes.end(), record.part10.begin(), record.part10.end());
    const std::size_t restSize = bytes.size() - kRecordHead - kPayloadPrefix;
    const std::uint32_t restCrc = crcOf(0, bytes.data() + kRecordHead + kPayloadPrefix, restSize);
    const std::size_t length = bytes.size() - kRecordHead;
    bytes.resize(roundUp(bytes.size(), 8), 0);
    putU32At(bytes.data(), kRecordMagic);
    putU32At(bytes.data() + 4, static_cast<std::uint32_t>(length));

    std::unique_lock lock(mutex_);
    if (!open_ || closing_) throw Error(ErrorCode::Unavailable, "The C-STORE journal is closed");
    if (failed_) throw Error(ErrorCode::Internal, "The C-STORE journal failed to flush earlier");
    if (length > 0xffffffffull) throw Error(ErrorCode::InvalidArgument, "The instance is too large for the journal");

    std::shared_ptr<Segment> segment;
    if (kHeaderSize + bytes.size() > options_.segmentSize) {
        // Larger than a segment: one of its own, made here (rare).
        const std::uint64_t number = nextSegment_++;
        lock.unlock();
        segment = prepareSegment(number, roundUp(kHeaderSize + bytes.size(), 4096));
        lock.lock();
        sealed_.push_back(segment);
    } else {
        if (!active_ || active_->used + bytes.size() > active_->size) {
            if (active_ && active_->lastSeq > 0) sealed_.push_back(active_);
            active_.reset();
            needSegment_.notify_all();
            // The preparing thread retries every second; a journal that cannot get a segment
            // (disk full) refuses the C-STORE rather than holding the association.
            segmentReady_.wait_for(lock, kSegmentWait, [&] { return !ready_.empty() || closing_; });
            if (closing_) throw Error(ErrorCode::Unavailable, "The C-STORE journal is closed");
            if (ready_.empty())
                throw Error(ErrorCode::Internal, "The C-STORE journal has no segment to write to: " + prepareError_);
            active_ = ready_.front();
            ready_.pop_front();
        }
        segment = active_;
    }
    const bool halfFull = segment == active_ && segment->used <= segment->size / 2 &&
                          segment->used + bytes.size() > segment->size / 2;

    const std::uint64_t seq = nextSeq_;
    putU64At(bytes.data() + kRecordHead, segment->number);
    putU64At(bytes.data() + kRecordHead + 8, seq);
    const std::uint32_t crc = static_cast<std::uint32_t>(
        ::crc32_combine(crcOf(0, bytes.data() + kRecordHead, kPayloadPrefix), restCrc, static_cast<z_off_t>(restSize)));
    putU32At(bytes.data() + 8, crc);
    if (!writeAll(segment->fd, bytes.data(), bytes.size(), segment->used))
        fail("cannot write a record to", segment->path, errno);
    ++nextSeq_;
    segment->used += bytes.size();
    segment->lastSeq = seq;
    writtenSeq_ = seq;
    pending_.insert(seq);
    record.seq = seq;
    if (std::find(unsynced_.begin(), unsynced_.end(), segment) == unsynced_.end()) unsynced_.push_back(segment);
    if (halfFull) needSegment_.notify_all();  // prepare the next one ahead

    // Group commit: one fdatasync covers every record written before it.
    while (durableSeq_ < seq) {
        if (failed_) throw Error(ErrorCode::Internal, "The C-STORE journal failed to flush");
        if (flushing_) {
            flushed_.wait(lock);
            continue;
        }
        flushing_ = true;
        const std::uint64_t target = writtenSeq_;
        auto segments = std::move(unsynced_);
        unsynced_.clear();
        lock.unlock();
        int err = 0;
        std::filesystem::path failedPath;
        for (const auto& s : segments)
            if (::fdatasync(s->fd) != 0 && err == 0) {
                err = errno;
                failedPath = s->path;
            }
        lock.lock();
        flushing_ = false;
        if (err != 0) {
            // After a failed flush the kernel may have dropped the pages: nothing written since
            // can be trusted to reach the disk.
            failed_ = true;
            flushed_.notify_all();
            fail("cannot flush", failedPath, err);
        }
        durableSeq_ = std::max(durableSeq_, target);
        flushed_.notify_all();
    }
    return seq;
}

void IntakeJournal::markDone(const std::vector<std::uint64_t>& seqs) {
    std::lock_guard lock(mutex_);
    for (const auto seq : seqs) pending_.erase(seq);
    const std::uint64_t mark = pending_.empty() ? writtenSeq_ : *pending_.begin() - 1;
    if (mark <= doneMark_) return;
    doneMark_ = mark;
    writeDone();
    releaseSegments();
}

void IntakeJournal::writeDone() {
    if (doneFd_ < 0) return;
    std::uint8_t mark[8];
    putU64At(mark, doneMark_);
    // No fsync: a stale mark replays done records, which stores and indexes them again.
    if (!writeAll(doneFd_, mark, sizeof mark, 0))
        logger().warning("C-STORE journal: cannot write %s: %s", (dir_ / "done").string(), errnoText(errno));
}

void IntakeJournal::releaseSegments() {
    bool freed = false;
    std::erase_if(sealed_, [&](const std::shared_ptr<Segment>& segment) {
        if (segment->lastSeq > doneMark_) return false;
        if (segment->size == options_.segmentSize) {
            free_.push_back(segment->path);
        } else {
            std::error_code ec;
            std::filesystem::remove(segment->path, ec);
        }
        freed = true;
        return true;
    });
    if (freed) needSegment_.notify_all();
}

void IntakeJournal::close() {
    {
        std::lock_guard lock(mutex_);
        if (!open_) return;
        closing_ = true;
    }
    needSegment_.notify_all();
    segmentReady_.notify_all();
    flushed_.notify_all();
    if (preparer_.joinable()) preparer_.join();
    std::lock_guard lock(mutex_);
    active_.reset();
    unsynced_.clear();
    sealed_.clear();
    ready_.clear();
    free_.clear();
    pending_.clear();
    if (doneFd_ >= 0) ::close(doneFd_);
    doneFd_ = -1;
    open_ = false;
}

std::size_t IntakeJournal::segmentFiles() const {
    std::size_t count = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
        if (segmentNumber(entry.path())) ++count;
    return count;
}

}  // namespace tessera::server
