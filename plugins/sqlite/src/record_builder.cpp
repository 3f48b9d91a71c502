#include "tessera/plugins/sqlite/record_builder.hpp"

#include <algorithm>

#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

using sdk::Error;
using sdk::ErrorCode;

constexpr char kRecordVersion = 1;

xapian::FieldKind toXapian(FieldKind kind) noexcept { return static_cast<xapian::FieldKind>(kind); }

void putVarint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

bool getVarint(std::string_view& in, std::uint64_t& value) noexcept {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        const auto byte = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

bool getBytes(std::string_view& in, std::string_view& out) noexcept {
    std::uint64_t length = 0;
    if (!getVarint(in, length) || length > in.size()) return false;
    out = in.substr(0, static_cast<std::size_t>(length));
    in.remove_prefix(static_cast<std::size_t>(length));
    return true;
}

template <typename T>
void sortUnique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::string joinPhraseWords(const std::vector<std::string>& words) {
    std::string out = " ";
    for (const auto& w : words) {
        out += w;
        out += ' ';
    }
    return out;
}

void RecordRows::addAttribute(const FieldInfo& field, std::string_view vr, std::string_view value) {
    const bool freeText = xapian::isFreeTextVr(vr);
    for (const std::string& component : xapian::splitValues(xapian::lowerCase(value))) {
        std::string normalised = xapian::normaliseForTerm(toXapian(field.kind), component);
        if (field.kind == FieldKind::Numeric) {
            if (auto number = xapian::parseNumber(component)) keys.emplace_back(field.id, *number);
        } else if (hasKeys(field.kind)) {
            if (auto key = xapian::sortableKey(toXapian(field.kind), component)) keys.emplace_back(field.id, std::move(*key));
        }
        std::vector<std::string> valueWords = xapian::words(component);
        if (valueWords.size() > 1) {
            phrases.push_back(PhraseRow{field.id, freeText, joinPhraseWords(valueWords)});
            for (auto& w : valueWords) {
                words.emplace_back(field.id, w);
                if (freeText) textWords.push_back(std::move(w));
            }
        } else if (valueWords.size() == 1) {
            // A single word equal to the whole value is already the value row.
            if (valueWords.front() != normalised) words.emplace_back(field.id, valueWords.front());
            if (freeText) textWords.push_back(std::move(valueWords.front()));
        }
        values.emplace_back(field.id, std::move(normalised));
    }
}

void RecordRows::finish() {
    sortUnique(values);
    sortUnique(words);
    sortUnique(keys);
    sortUnique(textWords);
}

RecordEncoder::RecordEncoder() {
    data_.reserve(2048);
    data_.push_back(kRecordVersion);
}

void RecordEncoder::add(std::uint32_t fieldId, std::string_view vr, std::string_view value) {
    putVarint(data_, fieldId);
    putVarint(data_, vr.size());
    data_.append(vr);
    putVarint(data_, value.size());
    data_.append(value);
}

RecordReader::RecordReader(std::string_view data) noexcept {
    if (data.empty() || data.front() != kRecordVersion) return;
    rest_ = data.substr(1);
    valid_ = true;
}

bool RecordReader::next(std::uint32_t& fieldId, std::string_view& vr, std::string_view& value) noexcept {
    if (!valid_ || rest_.empty()) return false;
    std::uint64_t id = 0;
    if (!getVarint(rest_, id) || id == 0 || id > 0xffffffffu || !getBytes(rest_, vr) || !getBytes(rest_, value)) {
        valid_ = false;
        return false;
    }
    fieldId = static_cast<std::uint32_t>(id);
    return true;
}

BuiltRecord buildRecord(const sdk::IndexItem& item, FieldCatalogue& catalogue) {
    if (item.object == nullptr) throw Error(ErrorCode::InvalidArgument, "Index item without an object");
    if (item.uri.empty()) throw Error(ErrorCode::InvalidArgument, "Index item without a URI");
    BuiltRecord built;
    built.uri = item.uri.str();
    RecordEncoder encoder;
    item.object->forEachAttribute([&](const sdk::DicomAttribute& a) {
        const auto info = catalogue.findOrAdd(a.keyword, a.vr);
        if (!info) return;  // keyword too long to catalogue: neither stored nor searchable
        encoder.add(info->id, a.vr, a.value);
        built.rows.addAttribute(*info, a.vr, a.value);
        if (const std::size_t column = dimColumnIndex(a.keyword); column < kDimColumns.size() && !built.dim[column])
            built.dim[column] = a.value;
    });
    built.rows.finish();
    built.data = encoder.data();
    return built;
}

RecordRows rowsOfStoredRecord(std::string_view data, const FieldCatalogue& catalogue) {
    RecordRows rows;
    RecordReader reader(data);
    std::uint32_t id = 0;
    std::string_view vr, value;
    while (reader.next(id, vr, value)) {
        const auto info = catalogue.findById(id);
        if (!info) throw Error(ErrorCode::Corrupted, "A record in the sqlite index names an unknown field");
        rows.addAttribute(*info, vr, value);
    }
    if (!reader.valid()) throw Error(ErrorCode::Corrupted, "A record in the sqlite index is damaged");
    rows.finish();
    return rows;
}

}  // namespace tessera::plugins::sqlite
