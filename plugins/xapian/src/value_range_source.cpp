#include "tessera/plugins/xapian/value_range_source.hpp"

#include <utility>

namespace tessera::plugins::xapian {

std::string_view slotKey(std::string_view key) noexcept { return key.substr(0, kMaxSlotKeyBytes); }

std::optional<std::string> greatestKeyBelow(std::string_view key) {
    key = slotKey(key);
    if (key.empty()) return std::nullopt;
    std::string below(key.substr(0, key.size() - 1));
    const auto last = static_cast<unsigned char>(key.back());
    // Keys below "...\0" are exactly those up to its prefix; otherwise lower the last byte and
    // pad with the greatest bytes to the longest key length.
    if (last == 0) return below;
    below.push_back(static_cast<char>(last - 1));
    below.append(kMaxSlotKeyBytes - below.size(), '\xff');
    return below;
}

Xapian::Query singleValueRangeQuery(Xapian::valueno slot, const KeyRange& range) {
    // Xapian takes a document without a value as having the empty one, which an open lower
    // end would match: the least real key is one zero byte (keys are never empty).
    std::string lower(1, '\0');
    if (range.lower) {
        lower = std::string(slotKey(*range.lower));
        // The least key above `k` is `k` followed by a zero byte.
        if (!range.includeLower) lower.push_back('\0');
    }
    if (!range.upper) return Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, lower);
    std::optional<std::string> upper;
    if (range.includeUpper) upper = std::string(slotKey(*range.upper));
    else upper = greatestKeyBelow(*range.upper);
    if (!upper || lower > *upper) return Xapian::Query();
    return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, lower, *upper);
}

void appendSlotKey(std::string& packed, std::string_view key) {
    if (key.size() > kMaxSlotKeyBytes) key = key.substr(0, kMaxSlotKeyBytes);
    packed.push_back(static_cast<char>(static_cast<unsigned char>(key.size())));
    packed.append(key);
}

bool KeyRange::contains(std::string_view key) const noexcept {
    if (lower) {
        const int c = key.compare(*lower);
        if (c < 0 || (c == 0 && !includeLower)) return false;
    }
    if (upper) {
        const int c = key.compare(*upper);
        if (c > 0 || (c == 0 && !includeUpper)) return false;
    }
    return true;
}

bool KeyRange::containsAny(std::string_view packed) const noexcept {
    while (!packed.empty()) {
        const std::size_t length = static_cast<unsigned char>(packed.front());
        packed.remove_prefix(1);
        if (length > packed.size()) return false;  // damaged: match nothing rather than guess
        if (contains(packed.substr(0, length))) return true;
        packed.remove_prefix(length);
    }
    return false;
}

AnyValueRangeSource::AnyValueRangeSource(Xapian::valueno slot, KeyRange range)
    : Xapian::ValuePostingSource(slot), range_(std::move(range)) {}

void AnyValueRangeSource::init(const Xapian::Database& db) {
    Xapian::ValuePostingSource::init(db);
    // Any document with a value may or may not match: the minimum is 0.
    set_termfreq_min(0);
    set_termfreq_est(get_termfreq_est() / 2);
}

void AnyValueRangeSource::skipNonMatching(double minWeight) {
    while (!at_end() && !range_.containsAny(get_value())) Xapian::ValuePostingSource::next(minWeight);
}

void AnyValueRangeSource::next(double minWeight) {
    Xapian::ValuePostingSource::next(minWeight);
    skipNonMatching(minWeight);
}

void AnyValueRangeSource::skip_to(Xapian::docid did, double minWeight) {
    Xapian::ValuePostingSource::skip_to(did, minWeight);
    skipNonMatching(minWeight);
}

bool AnyValueRangeSource::check(Xapian::docid did, double minWeight) {
    // The base moves to `did` when it has a value (true) or says it has none (false).
    if (!Xapian::ValuePostingSource::check(did, minWeight)) return false;
    if (at_end()) return true;
    if (get_docid() == did) return range_.containsAny(get_value());
    // The base went past `did` (no value there); stand on a document that really matches.
    skipNonMatching(minWeight);
    return true;
}

AnyValueRangeSource* AnyValueRangeSource::clone() const { return new AnyValueRangeSource(get_slot(), range_); }

std::string AnyValueRangeSource::get_description() const {
    return "AnyValueRangeSource(slot " + std::to_string(get_slot()) + ")";
}

}  // namespace tessera::plugins::xapian
