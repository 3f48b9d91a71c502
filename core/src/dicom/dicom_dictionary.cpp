#include "tessera/core/dicom/dicom_dictionary.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <unordered_map>

namespace tessera::core {
namespace {

constexpr std::string_view kRetiredPrefix = "RETIRED_";

struct Entry {
    std::uint32_t tag = 0;
    std::string keyword;
    std::string vr;
};

// A repeating-group or repeating-element entry such as (60xx,0010).
struct RangeEntry {
    std::uint16_t group = 0;
    std::uint16_t upperGroup = 0;
    std::uint16_t element = 0;
    std::uint16_t upperElement = 0;
    DcmDictRangeRestriction groupRestriction = DcmDictRange_Unspecified;
    DcmDictRangeRestriction elementRestriction = DcmDictRange_Unspecified;
    std::size_t entry = 0;  // index into Tables::entries

    bool contains(std::uint16_t g, std::uint16_t e) const {
        auto allowed = [](DcmDictRangeRestriction restriction, std::uint16_t value) {
            return restriction == DcmDictRange_Unspecified || (restriction == DcmDictRange_Even && value % 2 == 0) ||
                   (restriction == DcmDictRange_Odd && value % 2 == 1);
        };
        return g >= group && g <= upperGroup && e >= element && e <= upperElement &&
               allowed(groupRestriction, g) && allowed(elementRestriction, e);
    }
};

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

struct Tables {
    bool loaded = false;
    std::vector<Entry> entries;
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> byKeyword;
    std::unordered_map<std::uint32_t, std::size_t> byTag;
    std::vector<RangeEntry> ranges;
    std::vector<std::string> keywords;
};

// Where Debian, Ubuntu, Fedora and source installs put dicom.dic, for when neither
// DCMDICTPATH nor DCMTK's compiled-in default finds it.
std::vector<std::filesystem::path> candidateDictionaries() {
    std::vector<std::filesystem::path> candidates;
    for (const char* root : {"/usr/share", "/usr/local/share"}) {
        std::error_code ec;
        for (const auto& dir : std::filesystem::directory_iterator(root, ec)) {
            const std::string name = dir.path().filename().string();
            if (name.rfind("libdcmtk", 0) == 0 || name.rfind("dcmtk", 0) == 0) {
                candidates.push_back(dir.path() / "dicom.dic");
            }
        }
    }
    std::sort(candidates.begin(), candidates.end(), std::greater<>());  // newest version first
    return candidates;
}

void ensureDictionaryLoaded() {
    if (dcmDataDict.isDictionaryLoaded()) {
        return;
    }
    for (const auto& candidate : candidateDictionaries()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(candidate, ec)) {
            continue;
        }
        DcmDataDictionary& dictionary = dcmDataDict.wrlock();
        const bool ok = dictionary.loadDictionary(candidate.c_str(), OFFalse);
        dcmDataDict.wrunlock();
        if (ok && dcmDataDict.isDictionaryLoaded()) {
            return;
        }
    }
}

std::string keywordOf(const DcmDictEntry& entry) {
    std::string_view name = entry.getTagName() ? entry.getTagName() : "";
    if (name.substr(0, kRetiredPrefix.size()) == kRetiredPrefix) {
        name.remove_prefix(kRetiredPrefix.size());
    }
    return std::string(name);
}

bool usable(const DcmDictEntry& entry) {
    // Private entries need their creator to mean anything; items and delimiters are not
    // attributes.
    return entry.getPrivateCreator() == nullptr && entry.getTagName() != nullptr &&
           entry.getEVR() != EVR_na && entry.getEVR() != EVR_item;
}

void addEntry(Tables& tables, const DcmDictEntry& entry) {
    if (!usable(entry)) {
        return;
    }
    const std::size_t index = tables.entries.size();
    Entry copy{(std::uint32_t{entry.getGroup()} << 16) | entry.getElement(), keywordOf(entry),
               entry.getVR().getValidVRName()};
    tables.entries.push_back(copy);
    // Non-retired entries are added first, so a name clash keeps the current attribute.
    tables.byKeyword.try_emplace(copy.keyword, index);
    if (entry.isRepeating()) {
        tables.ranges.push_back({entry.getGroup(), entry.getUpperGroup(), entry.getElement(), entry.getUpperElement(),
                                 entry.getGroupRangeRestriction(), entry.getElementRangeRestriction(), index});
    } else {
        tables.byTag.try_emplace(copy.tag, index);
    }
}

const Tables& tables() {
    static Tables instance;
    static std::once_flag once;
    std::call_once(once, [] {
        ensureDictionaryLoaded();
        instance.loaded = dcmDataDict.isDictionaryLoaded();
        // normalBegin() and friends are not const although iterating changes nothing.
        auto& dictionary = const_cast<DcmDataDictionary&>(dcmDataDict.rdlock());
        std::vector<const DcmDictEntry*> all;
        for (auto it = dictionary.normalBegin(); it != dictionary.normalEnd(); ++it) {
            all.push_back(*it);
        }
        for (auto it = dictionary.repeatingBegin(); it != dictionary.repeatingEnd(); ++it) {
            all.push_back(*it);
        }
        std::stable_partition(all.begin(), all.end(), [](const DcmDictEntry* entry) {
            return entry->getTagName() == nullptr ||
                   std::string_view(entry->getTagName()).substr(0, kRetiredPrefix.size()) != kRetiredPrefix;
        });
        for (const DcmDictEntry* entry : all) {
            addEntry(instance, *entry);
        }
        dcmDataDict.rdunlock();
        for (const auto& [keyword, index] : instance.byKeyword) {
            instance.keywords.push_back(keyword);
        }
        std::sort(instance.keywords.begin(), instance.keywords.end());
    });
    return instance;
}

const Entry* findTag(std::uint32_t tag) {
    const Tables& t = tables();
    const auto group = static_cast<std::uint16_t>(tag >> 16);
    const auto element = static_cast<std::uint16_t>(tag & 0xFFFF);
    if (group % 2 == 1) {
        return nullptr;
    }
    if (auto it = t.byTag.find(tag); it != t.byTag.end()) {
        return &t.entries[it->second];
    }
    for (const RangeEntry& range : t.ranges) {
        if (range.contains(group, element)) {
            return &t.entries[range.entry];
        }
    }
    return nullptr;
}

const Entry* findKeyword(std::string_view keyword) {
    const Tables& t = tables();
    auto it = t.byKeyword.find(keyword);
    return it == t.byKeyword.end() ? nullptr : &t.entries[it->second];
}

}  // namespace

bool dictionaryLoaded() { return tables().loaded; }

std::optional<std::uint32_t> tagForKeyword(std::string_view keyword) {
    const Entry* entry = findKeyword(keyword);
    return entry ? std::optional(entry->tag) : std::nullopt;
}

std::optional<std::string> keywordForTag(std::uint32_t tag) {
    const Entry* entry = findTag(tag);
    return entry ? std::optional(entry->keyword) : std::nullopt;
}

std::string_view keywordViewForTag(std::uint32_t tag) {
    const Entry* entry = findTag(tag);
    return entry ? std::string_view(entry->keyword) : std::string_view();
}

std::optional<std::string> vrForKeyword(std::string_view keyword) {
    const Entry* entry = findKeyword(keyword);
    return entry ? std::optional(entry->vr) : std::nullopt;
}

std::optional<std::string> vrForTag(std::uint32_t tag) {
    const Entry* entry = findTag(tag);
    return entry ? std::optional(entry->vr) : std::nullopt;
}

std::vector<std::string> allKeywords() { return tables().keywords; }

}  // namespace tessera::core
