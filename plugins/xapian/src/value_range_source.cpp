#include "tessera/plugins/xapian/value_range_source.hpp"

#include <utility>

namespace tessera::plugins::xapian {

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
