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

// Up to `size` bytes from `offset`, fewer only at the end of the file; nullopt on a read error.
std::optional<std::vector<std::uint8_t>> readAt(int fd, std::size_t size, off_t offset) {
    std::vector<std::uint8_t> bytes(size);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t count = ::pread(fd, bytes.data() + done, size - done, offset + static_cast<off_t>(done));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) return std::nullopt;
        if (count == 0) break;
        done += static_cast<std::size_t>(count);
    }
    bytes.resize(done);
    return bytes;
}

}  // namespace

DicomReadResult readDicomFile(const std::filesystem::path& file) {
    try {
        struct stat info {};
        if (::stat(file.c_str(), &info) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                return error("cannot open: no such file");
            }
            return error("cannot open: " + std::error_code(errno, std::generic_category()).message());
        }
        if (!S_ISREG(info.st_mode)) {
            return error("cannot open: not a regular file");
        }
        if (info.st_size == 0) {
            return error("not a DICOM file: empty");
        }
        FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return error("cannot open: not readable");
        }
        auto head = readAt(fd.get(), kPreambleLength + kMagic.size(), 0);
        if (!head || head->empty()) {
            return error("cannot open: not readable");
        }
        const Magic magic = magicOf(*head);
        if (magic == Magic::AtStart) {
            // Rare (meta header without preamble): read it whole and go through the buffer path.
            auto whole = readAt(fd.get(), static_cast<std::size_t>(info.st_size), 0);
            if (!whole) {
                return error("cannot open: not readable");
            }
            return readBuffer(*whole);
        }
        fd.close();
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
