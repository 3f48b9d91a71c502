#pragma once
// Decoding of DICOM text values to UTF-8 by Specific Character Set (0008,0005).
//
// We decode ourselves instead of through DCMTK because DCMTK 3.6.7 on Debian hands the work to
// glibc iconv, which cannot convert ISO 2022 IR 87 (JIS X 0208) as DICOM uses it. ISO 2022
// escape sequences are parsed here; the 94x94 double-byte sets are looked up in tables built once
// from iconv's EUC forms, so no character tables live in this source.
//
// Thread-safety: free function, safe to call concurrently (lazily built tables are guarded).

#include <string>
#include <string_view>

namespace tessera::core {

/// Decodes raw attribute bytes to UTF-8 given the value of (0008,0005), which may be empty or
/// multi-valued with '\' (ISO 2022 code extensions). `isPersonName` makes '^' and '=' reset
/// the code extension state, as PS3.5 6.1.2.5.3 asks for PN component groups. Never throws;
/// undecodable bytes become U+FFFD. Bytes >= 0x80 under the default repertoire (no or empty
/// 0008,0005) are read as ISO 8859-1, because many real files do that. No trimming is done.
std::string decodeToUtf8(std::string_view raw, std::string_view specificCharacterSet, bool isPersonName);

/// True when `raw` has no byte >= 0x80 and no ESC: decodeToUtf8 then returns it unchanged
/// whatever the character set, so callers may skip the call (and its copy).
bool isPlainAscii(std::string_view raw);

}  // namespace tessera::core
