#include "tessera/core/dicom/dicom_reader.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <exception>
#include <optional>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcmtk_object_view.hpp"
#include "tessera/core/dicom/dicom_dictionary.hpp"

namespace tessera::core {
namespace {

DicomReadResult error(std::string reason) {
    DicomReadResult result;
    result.status = DicomReadStatus::Error;
    result.reason = std::move(reason);
    return result;
}

DicomReadResult skipped(std::string reason) {
    DicomReadResult result;
    result.status = DicomReadStatus::Skipped;
    result.reason = std::move(reason);
    return result;
}

constexpr std::size_t kPreambleLength = 128;
// Files up to this size are read whole and parsed from memory; larger ones (pixel data, mostly)
// are parsed by DCMTK from the file up to PixelData, so their pixels are never read.
constexpr std::size_t kWholeFileReadLimit = 256 * 1024;
constexpr std::string_view kMagic = "DICM";

enum class Magic { None, AfterPreamble, AtStart };

Magic magicOf(std::span<const std::uint8_t> head) {
    auto matches = [&](std::size_t offset) {
        return head.size() >= offset + kMagic.size() &&
               std::equal(kMagic.begin(), kMagic.end(), head.begin() + static_cast<std::ptrdiff_t>(offset));
    };
    if (matches(kPreambleLength)) {
        return Magic::AfterPreamble;
    }
    return matches(0) ? Magic::AtStart : Magic::None;
}

std::string describe(const OFCondition& condition, Magic magic) {
    // DCMTK reports running out of data differently for files and for memory buffers; one
    // wording for both keeps the reasons of readDicomFile and readDicomBytes equal.
    const bool endOfData = condition == EC_StreamNotifyClient || condition == EC_EndOfStream ||
                           condition == EC_InvalidStream || condition == EC_PrematureSequDelimitationItem ||
                           condition == EC_SequEnd;
    const std::string text = endOfData ? std::string("data ends inside an attribute")
                                       : std::string(condition.text() ? condition.text() : "unknown DCMTK error");
    if (magic == Magic::None) {
        // Without "DICM" DCMTK guesses an encoding, and non-DICOM bytes usually end in a length
        // that runs past the end: we cannot tell that from a truncated bare data set.
        return "not a DICOM file or truncated data set: " + text;
    }
    return (endOfData ? "truncated: " : "unreadable: ") + text;
}

// Whether anything DCMTK read looks like DICOM: without a meta header DCMTK will happily read
// most byte strings as some data set of nonsense tags.
bool hasPublicAttribute(DcmItem& dataset) {
    for (DcmObject* object = dataset.nextInContainer(nullptr); object != nullptr;
         object = dataset.nextInContainer(object)) {
        const DcmTagKey key = object->getTag();
        // Command and meta groups never belong in a stored data set; zeros parse as (0000,0000).
        if (key.getGroup() > 0x0002 &&
            !keywordViewForTag((std::uint32_t{key.getGroup()} << 16) | key.getElement()).empty()) {
            return true;
        }
    }
    return false;
}

DicomReadResult finish(DcmFileFormat& file, const OFCondition& condition, Magic magic) {
    if (condition.bad()) {
        return error(describe(condition, magic));
    }
    DcmMetaInfo* meta = file.getMetaInfo();
    DcmDataset* dataset = file.getDataset();
    if (dataset == nullptr) {
        return error("not a DICOM file: no data set");
    }
    const bool hasMeta = meta != nullptr && meta->card() > 0;
    if (!hasMeta && !hasPublicAttribute(*dataset)) {
        return error("not a DICOM file: no meta header and no known attribute");
    }

    OFString mediaClass;
    if (hasMeta) {
        meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, mediaClass);
    }
    if (mediaClass == UID_MediaStorageDirectoryStorage || dataset->tagExists(DCM_DirectoryRecordSequence)) {
        return skipped("DICOMDIR is not a storable object");
    }

    auto view = std::make_unique<DcmtkObjectView>(hasMeta ? meta : nullptr, *dataset);
    for (const char* required : {"SOPClassUID", "SOPInstanceUID"}) {
        auto value = view->get(required);
        if (!value || value->empty()) {
            return skipped(std::string("no ") + required + ": not a storable object");
        }
    }
    DicomReadResult result;
    result.status = DicomReadStatus::Ok;
    result.object = std::move(view);
    return result;
}

DicomReadResult readBuffer(std::span<const std::uint8_t> bytes) {
    const Magic magic = magicOf(bytes);
    std::vector<std::uint8_t> withPreamble;
    if (magic == Magic::AtStart) {
        // DCMTK only finds "DICM" after a preamble; give it one rather than lose the meta header.
        withPreamble.assign(kPreambleLength, 0);
        withPreamble.insert(withPreamble.end(), bytes.begin(), bytes.end());
        bytes = withPreamble;
    }
    dictionaryLoaded();  // makes sure DCMTK has its dictionary before it parses
    DcmInputBufferStream stream;
    stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    stream.setEos();
    DcmFileFormat dicom;
    dicom.transferInit();
    const OFCondition condition =
        dicom.readUntilTag(stream, EXS_Unknown, EGL_noChange, kMaxDicomValueLength, DCM_PixelData);
    dicom.transferEnd();
    return finish(dicom, condition, magic);
}

// A file descriptor closed on every path out (no iostream: its locale set-up cost more than
// reading the 132 bytes we need).
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { close(); }
    int get() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// Up to `size` bytes from `offset` into `bytes`, fewer only at the end of the file; false on a
// read error.
bool readAt(int fd, std::size_t size, off_t offset, std::vector<std::uint8_t>& bytes) {
    bytes.resize(size);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t count = ::pread(fd, bytes.data() + done, size - done, offset + static_cast<off_t>(done));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) return false;
        if (count == 0) break;
        done += static_cast<std::size_t>(count);
    }
    bytes.resize(done);
    return true;
}

}  // namespace

DicomReadResult readDicomFile(const std::filesystem::path& file) {
    try {
        // open + fstat rather than stat + open: one path walk per file. O_NONBLOCK so that a FIFO
        // in place of a file cannot hang the open (it changes nothing for a regular file).
        FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
        if (fd.get() < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                return error("cannot open: no such file");
            }
            if (errno == EACCES) {
                return error("cannot open: not readable");
            }
            return error("cannot open: " + std::error_code(errno, std::generic_category()).message());
        }
        struct stat info {};
        if (::fstat(fd.get(), &info) != 0) {
            return error("cannot open: " + std::error_code(errno, std::generic_category()).message());
        }
        if (!S_ISREG(info.st_mode)) {
            return error("cannot open: not a regular file");
        }
        if (info.st_size == 0) {
            return error("not a DICOM file: empty");
        }
        const auto size = static_cast<std::size_t>(info.st_size);
        if (size <= kWholeFileReadLimit) {
            // Small files (most of an archive's headers, every file of the bench corpus) are read
            // whole with one pread into this thread's buffer and parsed from memory, exactly as
            // readDicomBytes does: DCMTK's file stream costs an open, a seek and a tell per
            // element and a read per 4 KB, its memory stream none of that. The buffer is reused,
            // so there is no allocation (or mmap, past glibc's threshold) per file either.
            thread_local std::vector<std::uint8_t> buffer;
            if (!readAt(fd.get(), size, 0, buffer) || buffer.empty()) {
                return error("cannot open: not readable");
            }
            fd.close();
            DicomReadResult result = readBuffer(buffer);
            if (buffer.capacity() > kWholeFileReadLimit / 4 && buffer.size() < kWholeFileReadLimit / 16) {
                // One odd large file must not pin its buffer for the thread's life; the common
                // small ones keep theirs.
                std::vector<std::uint8_t>().swap(buffer);
            }
            return result;
        }
        std::vector<std::uint8_t> head;
        if (!readAt(fd.get(), kPreambleLength + kMagic.size(), 0, head) || head.empty()) {
            return error("cannot open: not readable");
        }
        const Magic magic = magicOf(head);
        if (magic == Magic::AtStart) {
            // Rare (meta header without preamble): read it whole and go through the buffer path.
            std::vector<std::uint8_t> whole;
            if (!readAt(fd.get(), size, 0, whole)) {
                return error("cannot open: not readable");
            }
            return readBuffer(whole);
        }
        fd.close();
        // Large files: DCMTK reads the header from the file and stops at PixelData, so the
        // pixels are never read.
        dictionaryLoaded();  // makes sure DCMTK has its dictionary before it parses
        DcmFileFormat dicom;
        const OFCondition condition = dicom.loadFileUntilTag(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange,
                                                             kMaxDicomValueLength, ERM_autoDetect, DCM_PixelData);
        return finish(dicom, condition, magic);
    } catch (const std::exception& e) {
        return error(std::string("unreadable: ") + e.what());
    }
}

DicomReadResult readDicomBytes(std::span<const std::uint8_t> bytes) {
    try {
        if (bytes.empty()) {
            return error("not a DICOM file: empty");
        }
        return readBuffer(bytes);
    } catch (const std::exception& e) {
        return error(std::string("unreadable: ") + e.what());
    }
}

}  // namespace tessera::core
