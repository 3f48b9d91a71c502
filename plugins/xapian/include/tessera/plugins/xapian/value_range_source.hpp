#pragma once
// A posting source over one value slot that matches documents where ANY of the values packed in
// the slot lies in a range. A slot holds every value of its field in the document (each value of
// a multi-valued attribute and of every sequence item), so `Field:[a TO b]` means "some value is
// in range", which Xapian's built-in single-value OP_VALUE_RANGE cannot express.
//
// Slot format: for each value, one length byte then the value's sortable key (keys are at most
// kMaxSlotKeyBytes long).
//
// Thread-safety: one instance per query; clone() gives each match its own.

#include <optional>
#include <string>
#include <string_view>

#include <xapian.h>

namespace tessera::plugins::xapian {

inline constexpr std::size_t kMaxSlotKeyBytes = 255;

/// Appends one key to a packed slot value (keys longer than kMaxSlotKeyBytes are truncated).
void appendSlotKey(std::string& packed, std::string_view key);

struct KeyRange {
    std::optional<std::string> lower;  ///< nullopt = open
    std::optional<std::string> upper;  ///< nullopt = open
    bool includeLower = true;
    bool includeUpper = true;

    bool contains(std::string_view key) const noexcept;
    /// True when some packed key is in the range.
    bool containsAny(std::string_view packed) const noexcept;
};

class AnyValueRangeSource : public Xapian::ValuePostingSource {
public:
    AnyValueRangeSource(Xapian::valueno slot, KeyRange range);

    void init(const Xapian::Database& db) override;
    void next(double minWeight) override;
    void skip_to(Xapian::docid did, double minWeight) override;
    bool check(Xapian::docid did, double minWeight) override;
    AnyValueRangeSource* clone() const override;
    std::string get_description() const override;

private:
    void skipNonMatching(double minWeight);

    KeyRange range_;
};

}  // namespace tessera::plugins::xapian
