#pragma once
/// @file dicom_object_view.hpp
/// Read-only access to one parsed DICOM object (header up to PixelData), as the host hands it to
/// index and storage providers. The host parses each file once and every provider reads the
/// same view.
///
/// Values are UTF-8 (decoded by the object's SpecificCharacterSet), trimmed of DICOM padding;
/// multi-valued attributes are joined with a backslash, as DICOM writes them. Binary VRs (OB, OW,
/// OF, OD, OL, OV, UN) are not offered as text.
///
/// Ownership: the host owns the view; it stays valid for the duration of the provider call that
/// received it. Providers copy what they keep.
/// Thread-safety: const methods may be called concurrently from several threads.
/// @since 1.0

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::sdk {

/// One attribute as text.
/// @since 1.0
struct DicomAttribute {
    std::uint32_t tag = 0;  ///< (group << 16) | element
    /// DICOM keyword (`PatientName`); for attributes inside sequences, the sequence keywords and
    /// the attribute keyword joined by `_` (`ViewCodeSequence_CodeValue`). Private or unknown tags
    /// are named `gggg,eeee` in lower-case hex.
    std::string keyword;
    std::string vr;     ///< two letters (`PN`, `DA`, `DS`)
    std::string value;  ///< UTF-8, multi-values joined with `\`
};

/// @since 1.0
class DicomObjectView {
public:
    virtual ~DicomObjectView() = default;

    /// The value of a top-level attribute by keyword, or a flattened nested one
    /// (`Sequence_Child`, first item that has it). nullopt when absent; an empty string when
    /// present but empty.
    virtual std::optional<std::string> get(std::string_view keyword) const = 0;

    /// Visits every non-binary attribute, sequence items flattened (every item, not only the
    /// first) with the keyword rule above. Sequence elements themselves are not visited.
    virtual void forEachAttribute(const std::function<void(const DicomAttribute&)>& visit) const = 0;

    /// `get(keyword)` or `fallback` when absent.
    std::string getOr(std::string_view keyword, std::string_view fallback = {}) const {
        auto value = get(keyword);
        return value ? *value : std::string(fallback);
    }
};

}  // namespace tessera::sdk
