#pragma once
// The DicomObjectView the host hands out: every non-binary attribute of a DCMTK data set,
// copied out once at construction (UTF-8, trimmed, sequences flattened), so that the data set
// can be freed and the view read from several threads without touching DCMTK again.
// Thread-safety: immutable after construction; const methods may run concurrently.

#include <cstddef>
#include <cstdint>
#include <string>
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
    static constexpr std::uint32_t kEmptySlot = 0xFFFFFFFFu;

    void collect(DcmItem& item, const std::string& prefix, std::string_view charset, int depth);
    void buildIndex();

    std::vector<sdk::DicomAttribute> attributes_;
    // Open addressing over attributes_ (first occurrence of each keyword), built once the
    // attributes are in place: one allocation instead of a node and a key copy per attribute.
    std::vector<std::uint32_t> slots_;
};

}  // namespace tessera::core
