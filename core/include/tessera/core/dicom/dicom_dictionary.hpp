#pragma once
// Keyword <-> tag <-> VR lookups over DCMTK's data dictionary (public attributes only).
//
// The first call makes sure DCMTK's external dictionary is loaded (trying the usual install
// locations when DCMDICTPATH and DCMTK's built-in default fail) and copies what we need into
// immutable tables, so lookups afterwards take no DCMTK lock.
// Retired attributes are named by their DICOM keyword, without DCMTK's "RETIRED_" prefix.
//
// Thread-safety: all functions may be called concurrently.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::core {

/// Whether a DICOM data dictionary is loaded; the server refuses to start without one.
bool dictionaryLoaded();

/// The tag `(group << 16) | element` of a public keyword (`PatientName` -> 0x00100010). For a
/// repeating-group keyword (`OverlayRows`) the lowest group of the range.
std::optional<std::uint32_t> tagForKeyword(std::string_view keyword);

/// The keyword of a public tag, repeating groups included; nullopt for private or unknown tags.
std::optional<std::string> keywordForTag(std::uint32_t tag);

/// keywordForTag without the copy, for hot loops (the DICOM reader): a view into the immutable
/// tables, valid for the life of the program; empty for private or unknown tags.
std::string_view keywordViewForTag(std::uint32_t tag);

/// The two-letter VR of a public keyword ("PN", "DA"); where the dictionary allows several
/// (US or SS), the first one.
std::optional<std::string> vrForKeyword(std::string_view keyword);

/// The VR of a public tag, as for vrForKeyword.
std::optional<std::string> vrForTag(std::uint32_t tag);

/// Every public keyword in the dictionary, sorted.
std::vector<std::string> allKeywords();

}  // namespace tessera::core
