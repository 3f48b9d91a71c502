#pragma once
// Which storage SOP classes the storage SCP accepts, and with which transfer syntaxes: the model
// behind /management/settings/transfer (behaviour §1 "Transfer settings", §6, §9).
//
// Kept in server.xml in Dicoogle's structure:
//   dicom-services.default-ts.ts...          the list every SOP class gets unless it has its own
//   dicom-services.sop-classes.sop-class...  <uid>, and <transfer-syntaxes><ts>... for a class
//                                            with its own list; an empty <transfer-syntaxes/>
//                                            means the class is refused
//   dicom-services.additional-sop-classes.additional-sop-class[@uid, @alias]  extra classes,
//                                            listed first
// Only the classes that differ from default-ts get a <sop-class> entry, so a fresh file stays
// short. The SOP classes are every storage SOP class DCMTK knows, in its order. The options are
// the 14 transfer syntaxes of Dicoogle's list, in its order. By default all 14 are accepted —
// unlike Dicoogle, whose default leaves out JPEG Baseline, deflate and JPEG-LS near-lossless:
// the archive stores what it receives as received and never decodes pixel data, so refusing a
// syntax only makes senders transcode (lossy JPEG senders often cannot) or fail.
// Dicoogle's additional-transfer-syntaxes are not offered: DCMTK cannot read a data set in a
// transfer syntax it does not know.
//
// Thread-safety: every method may be called concurrently (one internal mutex).

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera::core {

class ServerSettings;

struct TransferSyntaxOption {
    std::string uid;
    std::string name;  // Dicoogle's name: "ImplicitVRLittleEndian", "JPEGBaseline1", ...
    bool value = false;
};

struct SopClassTransfer {
    std::string uid;
    std::string name;  // DCMTK's name ("CTImageStorage"), an additional class's alias, or the UID
    std::vector<TransferSyntaxOption> options;  // the 14, in Dicoogle's order
};

struct AcceptedSopClass {
    std::string uid;
    std::vector<std::string> transferSyntaxes;  // never empty; preferred first
};

class TransferSettings {
public:
    /// Reads the lists from `settings` (which must outlive this object). A file without
    /// dicom-services.default-ts gets the defaults written. Throws like ServerSettings::update
    /// when that save fails.
    explicit TransferSettings(ServerSettings& settings);
    ~TransferSettings();
    TransferSettings(const TransferSettings&) = delete;
    TransferSettings& operator=(const TransferSettings&) = delete;

    /// The 14 transfer syntaxes: {name, uid}, in Dicoogle's order.
    static const std::vector<std::pair<std::string, std::string>>& transferSyntaxNames();
    /// Tessera's default accepted list (all 14).
    static std::vector<std::string> defaultTransferSyntaxes();

    /// Every SOP class with its options: the GET /management/settings/transfer body.
    std::vector<SopClassTransfer> list() const;
    /// The SOP classes accepted now, each with its transfer syntaxes in the order the SCP
    /// prefers them (uncompressed explicit first, then implicit, then the encapsulated ones as
    /// listed, so a proposal offering its original compressed syntax keeps it).
    std::vector<AcceptedSopClass> accepted() const;
    /// The accepted transfer syntaxes of one SOP class (empty = refused or unknown).
    std::vector<std::string> acceptedFor(const std::string& sopClassUid) const;

    /// Turns option `optionName` (one of the 14 names) of SOP class `sopClassUid` on or off and
    /// saves at once. False, and nothing changes, for an unknown SOP class or option name.
    /// Throws like ServerSettings::update when the save fails (then nothing changes either).
    bool set(const std::string& sopClassUid, const std::string& optionName, bool value);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::core
