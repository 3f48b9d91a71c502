#pragma once
// The document summary: a second, small copy of the few attributes that C-FIND and the DIM
// aggregate by and usually return (the DIM fields and a few common C-FIND keys), in value slot
// kSummarySlot, beside the full record in kDocumentSlot.
//
// Why: a record is a multi-KB value, so reading the records of a few thousand hits (a study-level
// C-FIND on ModalitiesInStudy reads every instance of the matching studies) costs one B-tree
// block read per record. Summaries are a few hundred bytes, so one block holds tens of them. A
// search whose every requested field is a summary field reads summaries only.
//
// Additive to layout 4: an index written before summaries existed has none, and a search falls
// back to the full record of any document without a summary of this version (per document), so
// old indexes stay readable and mixed ones answer the same. Older plugins ignore the slot.
//
// Value format: one version byte (kSummaryVersion), then DocumentEncoder data (document_codec.hpp)
// holding the URI and the FIRST occurrence of each summary field, in visiting order: what a
// search reads from the full record (first occurrence wins) is what it reads here.
//
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_codec.hpp"

namespace tessera::plugins::xapian {

/// The summary slot: multiSlot(0), which no field uses (field ids start at 1).
constexpr Xapian::valueno kSummarySlot = 1;
/// Bumped whenever the summary field list changes: summaries of another version are not read.
inline constexpr char kSummaryVersion = 1;

/// Whether a keyword is kept in the summary.
bool isSummaryField(std::string_view keyword) noexcept;

/// The DocumentEncoder data of a summary value; empty when the value is of another version.
inline std::string_view summaryData(std::string_view value) noexcept {
    if (value.size() < 2 || value.front() != kSummaryVersion) return {};
    return value.substr(1);
}

/// Collects one document's summary while the writer visits its attributes.
class SummaryBuilder {
public:
    explicit SummaryBuilder(std::string_view uri);

    /// Keeps the value when the keyword is a summary field not seen yet in this document.
    void add(std::string_view keyword, std::uint32_t fieldId, std::string_view value);

    /// Sets the summary slot of `doc`.
    void addTo(Xapian::Document& doc) const;

private:
    DocumentEncoder encoder_;
    std::vector<std::uint32_t> seen_;
};

}  // namespace tessera::plugins::xapian
