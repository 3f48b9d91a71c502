#include "dcmtk_object_view.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "tessera/core/dicom/character_set.hpp"
#include "tessera/core/dicom/dicom_dictionary.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"

namespace tessera::core {
namespace {

// Deeper nesting than this is hostile or broken; real objects (SR trees included) stay far below.
constexpr int kMaxDepth = 32;

enum class Kind { Binary, Text, Number };

struct VrInfo {
    Kind kind = Kind::Binary;
    bool decoded = false;     // charset applies (SH LO ST LT PN UC UT)
    bool multiValued = true;  // '\' separates values
    bool keepLeading = false; // leading spaces are significant
};

constexpr unsigned vrCode(char first, char second) {
    return (static_cast<unsigned>(static_cast<unsigned char>(first)) << 8) | static_cast<unsigned char>(second);
}

// One switch on the two VR characters (this runs for every attribute; comparing against 26
// names one by one cost more than the rest of the classification).
VrInfo infoFor(std::string_view vr) {
    VrInfo info;
    if (vr.size() != 2) {
        return info;
    }
    switch (vrCode(vr[0], vr[1])) {
        case vrCode('S', 'H'): case vrCode('L', 'O'): case vrCode('P', 'N'):
            info.kind = Kind::Text;
            info.decoded = true;
            break;
        case vrCode('S', 'T'): case vrCode('L', 'T'): case vrCode('U', 'T'):
            info.kind = Kind::Text;
            info.decoded = true;
            info.multiValued = false;
            info.keepLeading = true;
            break;
        case vrCode('U', 'C'):
            info.kind = Kind::Text;
            info.decoded = true;
            info.keepLeading = true;
            break;
        case vrCode('U', 'R'):
            info.kind = Kind::Text;
            info.multiValued = false;
            info.keepLeading = true;
            break;
        case vrCode('A', 'E'): case vrCode('A', 'S'): case vrCode('C', 'S'): case vrCode('D', 'A'):
        case vrCode('D', 'S'): case vrCode('D', 'T'): case vrCode('I', 'S'): case vrCode('T', 'M'):
        case vrCode('U', 'I'):
            info.kind = Kind::Text;
            break;
        case vrCode('A', 'T'): case vrCode('F', 'L'): case vrCode('F', 'D'): case vrCode('S', 'L'):
        case vrCode('S', 'S'): case vrCode('U', 'L'): case vrCode('U', 'S'): case vrCode('S', 'V'):
        case vrCode('U', 'V'):
            info.kind = Kind::Number;
            break;
        default:
            break;
    }
    return info;
}

// `gggg,eeee` in lower-case hex, into a caller's buffer (snprintf cost more than the rest of an
// attribute put together).
std::string_view hexName(std::uint32_t tag, std::array<char, 9>& buffer) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int i = 0; i < 4; ++i) {
        buffer[static_cast<std::size_t>(i)] = kDigits[(tag >> (28 - 4 * i)) & 0xF];
        buffer[static_cast<std::size_t>(5 + i)] = kDigits[(tag >> (12 - 4 * i)) & 0xF];
    }
    buffer[4] = ',';
    return std::string_view(buffer.data(), buffer.size());
}

std::string_view trim(std::string_view text, bool keepLeading) {
    auto isPad = [](char c) { return c == ' ' || c == '\0'; };
    while (!keepLeading && !text.empty() && isPad(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && isPad(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::string trimValues(std::string_view text, const VrInfo& info) {
    if (!info.multiValued) {
        return std::string(trim(text, info.keepLeading));
    }
    std::string out;
    out.reserve(text.size());
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find('\\', start);
        out.append(trim(text.substr(start, end == std::string_view::npos ? end : end - start), info.keepLeading));
        if (end == std::string_view::npos) {
            break;
        }
        out.push_back('\\');
        start = end + 1;
    }
    return out;
}

template <typename T>
void appendNumber(std::string& out, T value) {
    if (!out.empty()) {
        out.push_back('\\');
    }
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void appendTag(std::string& out, std::uint16_t group, std::uint16_t element) {
    if (!out.empty()) {
        out.push_back('\\');
    }
    std::array<char, 9> buffer{};
    out += hexName((std::uint32_t{group} << 16) | element, buffer);
}

// Numbers held by DCMTK in host order.
std::optional<std::string> numbersOf(DcmElement& element, DcmEVR evr) {
    std::string out;
    const unsigned long count = element.getVM();
    for (unsigned long i = 0; i < count; ++i) {
        OFCondition status = EC_Normal;
        switch (evr) {
            case EVR_US: { Uint16 v = 0; status = element.getUint16(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_SS: { Sint16 v = 0; status = element.getSint16(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_UL:
            case EVR_up: { Uint32 v = 0; status = element.getUint32(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_SL: { Sint32 v = 0; status = element.getSint32(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_FL: { Float32 v = 0; status = element.getFloat32(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_FD: { Float64 v = 0; status = element.getFloat64(v, i); if (status.good()) appendNumber(out, v); break; }
            case EVR_SV: { Sint64 v = 0; status = element.getSint64(v, i); if (status.good()) appendNumber(out, static_cast<long long>(v)); break; }
            case EVR_UV: { Uint64 v = 0; status = element.getUint64(v, i); if (status.good()) appendNumber(out, static_cast<unsigned long long>(v)); break; }
            case EVR_AT: {
                DcmTagKey v;
                status = element.getTagVal(v, i);
                if (status.good()) appendTag(out, v.getGroup(), v.getElement());
                break;
            }
            default: return std::nullopt;
        }
        if (status.bad()) {
            return std::nullopt;
        }
    }
    return out;
}

template <typename T>
T readLittleEndian(const Uint8* bytes) {
    std::make_unsigned_t<std::conditional_t<std::is_floating_point_v<T>, std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>, T>> raw = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        raw |= static_cast<decltype(raw)>(bytes[i]) << (8 * i);
    }
    T value;
    std::memcpy(&value, &raw, sizeof value);
    return value;
}

// Numbers of an attribute stored as UN, whose value is the Implicit VR Little Endian encoding.
std::optional<std::string> numbersFromUn(const Uint8* bytes, std::size_t length, std::string_view vr) {
    std::size_t size = 0;
    if (vr == "US" || vr == "SS") size = 2;
    else if (vr == "UL" || vr == "SL" || vr == "FL" || vr == "AT") size = 4;
    else if (vr == "FD" || vr == "SV" || vr == "UV") size = 8;
    if (size == 0 || length % size != 0) {
        return std::nullopt;
    }
    std::string out;
    for (std::size_t offset = 0; offset < length; offset += size) {
        const Uint8* p = bytes + offset;
        if (vr == "US") appendNumber(out, readLittleEndian<std::uint16_t>(p));
        else if (vr == "SS") appendNumber(out, readLittleEndian<std::int16_t>(p));
        else if (vr == "UL") appendNumber(out, readLittleEndian<std::uint32_t>(p));
        else if (vr == "SL") appendNumber(out, readLittleEndian<std::int32_t>(p));
        else if (vr == "FL") appendNumber(out, readLittleEndian<float>(p));
        else if (vr == "FD") appendNumber(out, readLittleEndian<double>(p));
        else if (vr == "SV") appendNumber(out, static_cast<long long>(readLittleEndian<std::int64_t>(p)));
        else if (vr == "UV") appendNumber(out, static_cast<unsigned long long>(readLittleEndian<std::uint64_t>(p)));
        else appendTag(out, readLittleEndian<std::uint16_t>(p), readLittleEndian<std::uint16_t>(p + 2));
    }
    return out;
}

std::string rawCharset(DcmItem& item) {
    DcmElement* element = nullptr;
    if (item.findAndGetElement(DCM_SpecificCharacterSet, element, OFFalse).bad() || element == nullptr) {
        return {};
    }
    char* value = nullptr;
    Uint32 length = 0;
    if (element->getLength() > kMaxDicomValueLength || element->getString(value, length).bad() || value == nullptr) {
        return {};
    }
    return std::string(value, length);
}

}  // namespace

DcmtkObjectView::DcmtkObjectView(DcmItem* meta, DcmItem& dataset) {
    attributes_.reserve((meta != nullptr ? meta->card() : 0) + dataset.card() + 16);
    if (meta != nullptr) {
        collect(*meta, {}, {}, 0);
    }
    const std::string charset = rawCharset(dataset);
    collect(dataset, {}, charset, 0);
    buildIndex();
}

namespace {

std::size_t hashOf(std::string_view keyword) { return std::hash<std::string_view>{}(keyword); }

}  // namespace

void DcmtkObjectView::buildIndex() {
    std::size_t capacity = 16;
    while (capacity < attributes_.size() * 2) {
        capacity *= 2;
    }
    slots_.assign(capacity, kEmptySlot);
    const std::size_t mask = capacity - 1;
    for (std::size_t i = 0; i < attributes_.size(); ++i) {
        const std::string& keyword = attributes_[i].keyword;
        for (std::size_t slot = hashOf(keyword) & mask;; slot = (slot + 1) & mask) {
            if (slots_[slot] == kEmptySlot) {
                slots_[slot] = static_cast<std::uint32_t>(i);
                break;
            }
            if (attributes_[slots_[slot]].keyword == keyword) {
                break;  // the first occurrence answers get()
            }
        }
    }
}

std::optional<std::string> DcmtkObjectView::get(std::string_view keyword) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hashOf(keyword) & mask;; slot = (slot + 1) & mask) {
        const std::uint32_t index = slots_[slot];
        if (index == kEmptySlot) {
            return std::nullopt;
        }
        if (attributes_[index].keyword == keyword) {
            return attributes_[index].value;
        }
    }
}

void DcmtkObjectView::forEachAttribute(const std::function<void(const sdk::DicomAttribute&)>& visit) const {
    for (const auto& attribute : attributes_) {
        visit(attribute);
    }
}

void DcmtkObjectView::collect(DcmItem& item, const std::string& prefix, std::string_view charset, int depth) {
    if (depth > kMaxDepth) {
        return;
    }
    std::string own;
    if (depth > 0) {
        // An item may declare its own character set for itself and what it nests.
        own = rawCharset(item);
        if (!own.empty()) {
            charset = own;
        }
    }
    // nextInContainer walks the element list once; getElement(i) seeks from the head each time.
    for (DcmObject* object = item.nextInContainer(nullptr); object != nullptr; object = item.nextInContainer(object)) {
        auto* element = static_cast<DcmElement*>(object);  // an item holds elements only
        const DcmTagKey key = element->getTag();
        const std::uint32_t tag = (std::uint32_t{key.getGroup()} << 16) | key.getElement();
        if (key.getElement() == 0 && key.getGroup() != 0x0002) {
            continue;  // group lengths are encoding details, retired outside the meta header
        }
        std::array<char, 9> hexBuffer{};
        std::string_view keyword = keywordViewForTag(tag);
        if (keyword.empty()) {
            keyword = hexName(tag, hexBuffer);
        }

        const DcmEVR evr = element->ident();
        if (evr == EVR_SQ) {
            auto* sequence = static_cast<DcmSequenceOfItems*>(element);
            std::string childPrefix;
            childPrefix.reserve(prefix.size() + keyword.size() + 1);
            childPrefix.append(prefix).append(keyword).push_back('_');
            for (unsigned long j = 0; j < sequence->card(); ++j) {
                if (DcmItem* child = sequence->getItem(j)) {
                    collect(*child, childPrefix, charset, depth + 1);
                }
            }
            continue;
        }
        // Values above kMaxDicomValueLength are not loaded on purpose. The length field is what
        // getLength() reports for a value as read (rounded up to even, and the limit is even);
        // a byte string's getLength() would first convert the value to DICOM form.
        if (element->getLengthField() > kMaxDicomValueLength) {
            continue;
        }

        std::string_view vr = DcmVR(evr).getValidVRName();
        std::string dictionaryVr;
        bool fromUn = false;
        if (evr == EVR_UN) {
            // Some writers (GDCM) store known attributes as UN; the dictionary tells what they are.
            auto fromDictionary = vrForTag(tag);
            if (!fromDictionary) {
                continue;
            }
            dictionaryVr = std::move(*fromDictionary);
            vr = dictionaryVr;
            fromUn = true;
        }
        const VrInfo info = infoFor(vr);
        std::optional<std::string> value;
        if (info.kind == Kind::Text) {
            char* raw = nullptr;
            Uint32 length = 0;
            std::string_view bytes;
            if (fromUn) {
                Uint8* data = nullptr;
                if (element->getUint8Array(data).good() && data != nullptr) {
                    bytes = std::string_view(reinterpret_cast<const char*>(data), element->getLength());
                }
            } else if (element->getString(raw, length).good() && raw != nullptr) {
                bytes = std::string_view(raw, length);
            }
            if (isPlainAscii(bytes)) {
                // What decodeToUtf8 would return unchanged: trim straight from DCMTK's buffer.
                value = trimValues(bytes, info);
            } else {
                // ASCII-only VRs still go through the decoder so that stray bytes end up valid UTF-8.
                value = trimValues(decodeToUtf8(bytes, info.decoded ? charset : std::string_view(), vr == "PN"), info);
            }
        } else if (info.kind == Kind::Number) {
            if (fromUn) {
                Uint8* data = nullptr;
                if (element->getLength() == 0) {
                    value = std::string();
                } else if (element->getUint8Array(data).good() && data != nullptr) {
                    value = numbersFromUn(data, element->getLength(), vr);
                }
            } else {
                value = numbersOf(*element, evr == EVR_up ? EVR_UL : evr);
            }
        }
        if (!value) {
            continue;
        }
        sdk::DicomAttribute& attribute = attributes_.emplace_back();
        attribute.tag = tag;
        // One allocation, sized up front (prefix is empty at the top level).
        attribute.keyword.resize(prefix.size() + keyword.size());
        std::memcpy(attribute.keyword.data(), prefix.data(), prefix.size());
        std::memcpy(attribute.keyword.data() + prefix.size(), keyword.data(), keyword.size());
        attribute.vr = std::string(vr);  // not assign(vr): g++ 12 -Wrestrict false positive
        attribute.value = std::move(*value);
    }
}

}  // namespace tessera::core
