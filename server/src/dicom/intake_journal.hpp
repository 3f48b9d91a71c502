#pragma once
// The storage SCP's intake journal: the durability point of a C-STORE. Before the Success
// response, the received Part 10 bytes (with the calling/called AE titles and the names of the
// storage providers chosen) are appended as one record to a journal segment and flushed with
// fdatasync; the storage providers get them later, off the association thread (StoreIntake).
//
// Segments (`<dir>/segment-<number, 16 hex digits>`) are preallocated AND pre-written (zeros) by a
// background thread before they are used (the next one once the active one is half full), so a
// flush writes data blocks only: no size or extent metadata (0.21 ms on the reference disk,
// against 0.87 ms for a file store). Layout:
//   [0, 4096)  header: "TSJSEG01", the segment number (u64 LE); synced when the segment is made;
//   4096...    records, each 8-byte aligned: magic "TSJR" (u32 LE), payload length (u32), CRC32 of
//              the payload (u32), 0 (u32), then the payload: segment number (u64), seq (u64),
//              calling AE, called AE (u16 length + bytes each), provider count (u16) and names
//              (u16 length + bytes), Part 10 length (u64) and bytes.
// Replay reads each segment up to the first record that is not whole (bad magic, length, CRC,
// or a segment number that is not this segment's: what a recycled segment held before), so a
// torn tail ends the segment cleanly.
// Group commit: append() writes its record under the mutex; then whoever flushes first covers
// every record written up to then (leader); the others wait for it (followers) or lead the next.
// Done bookkeeping: markDone() records what is stored, indexed and committed; everything below
// the lowest pending seq is "done" (`<dir>/done`, 8 bytes, overwritten without fsync: a stale
// value only replays done records again, which is idempotent). A segment whose records are all
// done goes back to the pool and is recycled as a later segment (renamed, header rewritten,
// synced); at most `spareSegments` files are kept, the rest are removed, so the disk use is
// about the backlog plus the spares.
// A record larger than a segment gets a segment of its own, sized to fit (removed when done).
//
// Thread-safety: append()/markDone() from any thread; open()/close() from one.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tessera::server {

struct IntakeRecord {
    std::uint64_t seq = 0;  // set by append()
    std::string callingAe;
    std::string calledAe;
    std::vector<std::string> providers;
    std::vector<std::uint8_t> part10;
};

struct IntakeJournalOptions {
    std::uint64_t segmentSize = std::uint64_t(64) << 20;
    /// Segment files kept ready (prepared or free for recycling) beyond those in use.
    std::size_t spareSegments = 2;
};

class IntakeJournal {
public:
    IntakeJournal(std::filesystem::path dir, IntakeJournalOptions options = {});
    /// Calls close().
    ~IntakeJournal();
    IntakeJournal(const IntakeJournal&) = delete;
    IntakeJournal& operator=(const IntakeJournal&) = delete;

    /// Creates the directory, reads every record not marked done (seq order; they stay pending
    /// until markDone()), prepares the first segment and starts the preparing thread.
    /// Throws Error(Internal) when the directory or a segment cannot be made.
    std::vector<IntakeRecord> open();

    /// Writes `record` (assigning its seq) and returns once it is on disk (fdatasync), as one
    /// flush with the records other threads appended meanwhile. Throws Error(Internal) when it
    /// cannot be written or flushed (a flush failure refuses every later append too: the page
    /// cache may have dropped the data); Error(Unavailable) when not open.
    std::uint64_t append(IntakeRecord& record);

    /// These records are stored, indexed and committed: they need no replay.
    void markDone(const std::vector<std::uint64_t>& seqs);

    /// Stops the preparing thread, closes the files. Pending records stay for the next open().
    void close();

    /// Segment files in the directory now (in use, ready or spare).
    std::size_t segmentFiles() const;

private:
    struct Segment;

    void prepareLoop();
    std::shared_ptr<Segment> prepareSegment(std::uint64_t number, std::uint64_t size);  // no lock held
    void writeDone();  // caller holds mutex_
    void releaseSegments();  // caller holds mutex_: done segments to the free pool

    std::filesystem::path dir_;
    IntakeJournalOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable flushed_;
    std::condition_variable needSegment_;
    std::condition_variable segmentReady_;
    bool open_ = false;
    bool closing_ = false;
    bool failed_ = false;
    bool flushing_ = false;
    std::uint64_t nextSeq_ = 1;
    std::uint64_t nextSegment_ = 1;
    std::uint64_t writtenSeq_ = 0;  // the last seq written
    std::uint64_t durableSeq_ = 0;  // every record up to it is flushed
    std::uint64_t doneMark_ = 0;    // written to `done`
    std::set<std::uint64_t> pending_;
    std::shared_ptr<Segment> active_;
    std::vector<std::shared_ptr<Segment>> unsynced_;  // written since the last flush
    std::vector<std::shared_ptr<Segment>> sealed_;    // full, records not all done
    std::deque<std::shared_ptr<Segment>> ready_;      // prepared, unused
    std::vector<std::filesystem::path> free_;         // all done: to recycle or remove
    std::string prepareError_;  // the preparing thread's last failure
    int doneFd_ = -1;
    std::thread preparer_;
};

}  // namespace tessera::server
