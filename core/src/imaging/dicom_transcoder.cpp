#include "tessera/core/imaging/dicom_transcoder.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <system_error>

#include "dcmtk_codecs.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using sdk::Error;
using sdk::ErrorCode;

void load(const std::filesystem::path& file, DcmFileFormat& dicom) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw Error(ErrorCode::NotFound, "No such DICOM file");
    const OFCondition condition = dicom.loadFile(OFFilename(file.c_str()));
    if (condition.bad())
        throw Error(ErrorCode::Corrupted, std::string("The DICOM object cannot be read: ") + condition.text());
}

}  // namespace

std::string storedTransferSyntax(const std::filesystem::path& file) {
    DcmFileFormat dicom;
    load(file, dicom);
    const DcmXfer xfer(dicom.getDataset()->getOriginalXfer());
    return dicom.getMetaInfo() != nullptr && dicom.getMetaInfo()->card() > 0 && xfer.getXferID() ? xfer.getXferID()
                                                                                                 : "";
}

std::vector<std::uint8_t> transcodePart10(const std::filesystem::path& file, const std::string& transferSyntaxUid) {
    const DcmXfer target(transferSyntaxUid.c_str());
    const E_TransferSyntax xfer = target.getXfer();
    if (xfer != EXS_LittleEndianImplicit && xfer != EXS_LittleEndianExplicit)
        throw Error(ErrorCode::Unsupported,
                    "Transcoding to transfer syntax " + transferSyntaxUid + " is not supported");
    imaging::registerDcmtkDecoders();
    DcmFileFormat dicom;
    load(file, dicom);
    DcmDataset* dataset = dicom.getDataset();
    if (dataset->chooseRepresentation(xfer, nullptr).bad() || !dataset->canWriteXfer(xfer))
        throw Error(ErrorCode::Unsupported, "The object cannot be decoded for transcoding (its encoding, " +
                                                std::string(DcmXfer(dataset->getOriginalXfer()).getXferName()) +
                                                ", has no decoder here)");
    dicom.getMetaInfo()->clear();  // rebuilt for the new transfer syntax by write()
    const auto length = dicom.calcElementLength(xfer, EET_ExplicitLength);
    std::vector<std::uint8_t> out(static_cast<std::size_t>(length) + 64 * 1024);
    DcmOutputBufferStream stream(out.data(), static_cast<offile_off_t>(out.size()));
    dicom.transferInit();
    const OFCondition condition = dicom.write(stream, xfer, EET_ExplicitLength, nullptr);
    dicom.transferEnd();
    if (condition.bad()) throw Error(ErrorCode::Internal, std::string("Transcoding failed: ") + condition.text());
    void* written = nullptr;
    offile_off_t size = 0;
    stream.flushBuffer(written, size);
    out.resize(static_cast<std::size_t>(size));
    return out;
}

}  // namespace tessera::core
