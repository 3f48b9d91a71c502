#pragma once
// The DicomObjectView the host hands out: every non-binary attribute of a DCMTK data set,
// copied out once at construction (UTF-8, trimmed, sequences flattened), so that the data set
// can be freed and the view read from several threads without touching DCMTK again.
// Thread-safety: immutable after construction; const methods may run concurrently.

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/sdk/dicom_object_view.hpp"

class DcmItem;

namespace tessera::core {

class DcmtkObjectView final : public sdk::DicomObjectView {
public:
    /// Copies the file meta information (`meta`, may be null) and then the data set.
    DcmtkObjectView(DcmItem* meta, DcmItem& dataset);

    std::optional<std::string> get(std::string_view keyword) const override;
    void forEachAttribute(const std::function<void(const sdk::DicomAttribute&)>& visit) const override;

    /// Number of attributes forEachAttribute visits.
    std::size_t size() const { return attributes_.size(); }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
    };

    void collect(DcmItem& item, const std::string& prefix, std::string charset, int depth);
    void add(sdk::DicomAttribute attribute);

    std::vector<sdk::DicomAttribute> attributes_;
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index_;  // first occurrence
};

}  // namespace tessera::core
