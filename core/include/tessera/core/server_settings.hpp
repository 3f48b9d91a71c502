#pragma once
// The one configuration file. Its shape is Dicoogle's confs/server.xml (behaviour §9) so an
// operator can bring an existing Dicoogle configuration along; Tessera's own settings sit where
// they fit in that tree instead of a separate section. Elements Tessera does not know are kept
// and written back unchanged, so a file shared with Dicoogle tooling loses nothing.
//
// Keys are Poco::Util::XMLConfiguration-style paths: `.` descends into a child element, `[n]`
// picks the n-th (0-based) repeated element, and a final `[@name]` names an attribute:
// "web-server[@port]", "archive.thumbnail-size", "archive.dim-providers.dim-provider[1]".
// Values are trimmed of surrounding whitespace when read.
//
// Keys Tessera reads (default in parentheses; * = Tessera's own, not in Dicoogle):
//   web-server[@autostart]                (true)
//   web-server[@port]                     (8080)  0 = any free port
//   web-server[@hostname]                 (127.0.0.1)  address the HTTP server binds; Dicoogle
//                                         binds every interface, Tessera only loopback unless
//                                         told otherwise
//   web-server.allowed-origins            (empty) comma-separated CORS origins; empty = CORS off
//   web-server.allow-unauthorized         (false) PR #740's opt-out: no token needed anywhere
//   web-server.token-idle-timeout*        (3600)  seconds a login token survives unused;
//                                         0 = never expires (Dicoogle's behaviour)
//   web-server.max-body-bytes*            (3325000) largest request body (Dicoogle's form limit)
//   security.password-hash-iterations*    (210000) PBKDF2-HMAC-SHA256 rounds for new hashes
//                                         (OWASP 2023 figure)
//   archive.save-thumbnails               (false)
//   archive.thumbnail-size                (64)
//   archive.indexer-effort                (100)   0-100
//   archive.dim-providers.dim-provider... (none)  repeated; none = every query provider
//   archive.default-storages.default-storage... (none) repeated
//   archive.enable-watch-directory        (false)
//   archive.watch-directory, archive.main-directory, archive.node-name (empty)
//   archive.use-iio-registry, archive.encrypt-users-file, archive.call-shutdown (false)
//   dicom-services.aetitle                (DICOOGLE-STORAGE)
//   dicom-services.device-description     (empty)
//   dicom-services.allowed-local-interfaces, dicom-services.allowed-hostnames (any)
//   dicom-services.storage[@autostart]    (true)
//   dicom-services.storage[@port]         (6666)  0 = any free port
//   dicom-services.storage.save-ae-titles (true)
//   dicom-services.query-retrieve[@autostart] (true)
//   dicom-services.query-retrieve[@port]  (1045)  0 = any free port
//   dicom-services.query-retrieve.{rsp-delay (0), dimse-rsp-timeout (60), idle-timeout (60),
//     accept-timeout (60), connection-timeout (60), max-client-assocs (20),
//     max-pdu-length-receive (16364), max-pdu-length-send (16364)}
//   plugins.plugin[@name=<set>]           one element per plugin set, holding
//                                         <setting key="k">value</setting> children (any SDK
//                                         key, so no key has to be a valid XML element name)
// Lists Dicoogle keeps here (allowed-aetitles, default-ts, sop-classes, move-destinations, ...)
// are preserved and reachable by key; their defaults belong to the DICOM services.
//
// set() and setMany() validate the keys above (ports 0-65535, booleans, ranges, AE title) and
// throw sdk::Error(InvalidArgument) before changing anything, so a bad API call cannot leave a
// file that refuses to load at the next start.
//
// Thread-safety: every method may be called concurrently (one internal mutex). Saving is atomic:
// the file is written to a temporary sibling, fsynced, renamed over the original, and the
// directory fsynced. If saving fails the in-memory state is rolled back and
// sdk::Error(Unavailable) is thrown.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/sdk/settings_section.hpp"

namespace tessera::core {

class ServerSettings {
public:
    /// Loads `file`, creating it (and its directory) with every default when missing, and adding
    /// any missing defaults to an existing one (then saving). Throws Error(InvalidArgument) with
    /// the file name and reason for malformed XML, a root other than <config>, or an invalid
    /// value of a known key (fail fast at start-up); Error(Unavailable) if it cannot be written.
    static std::unique_ptr<ServerSettings> open(const std::filesystem::path& file);
    ~ServerSettings();
    ServerSettings(const ServerSettings&) = delete;
    ServerSettings& operator=(const ServerSettings&) = delete;

    const std::filesystem::path& file() const;

    /// nullopt when the element or attribute does not exist (an empty element is ""). A malformed
    /// key throws Error(InvalidArgument).
    std::optional<std::string> get(const std::string& key) const;
    /// Missing or empty → fallback.
    std::string getString(const std::string& key, const std::string& fallback) const;
    /// Missing or empty → fallback; present but not an integer → Error(InvalidArgument).
    long long getInt(const std::string& key, long long fallback) const;
    /// true/false, yes/no, on/off, 1/0 (any case). Missing or empty → fallback; anything else →
    /// Error(InvalidArgument).
    bool getBool(const std::string& key, bool fallback) const;
    /// Creates missing elements on the way and saves immediately.
    void set(const std::string& key, const std::string& value);
    /// All or nothing, one save.
    void setMany(const std::vector<std::pair<std::string, std::string>>& values);
    /// Removes what each of `removals` names (an element with everything inside it, or an
    /// attribute; a missing one is no error), then sets `values` as setMany() does: all or
    /// nothing, one save. Rewriting a list (sop-classes, move-destinations) is a removal of its
    /// wrapper followed by the new items.
    void update(const std::vector<std::string>& removals,
                const std::vector<std::pair<std::string, std::string>>& values);

    // Typed accessors used by the server. Missing or empty → the default; an invalid value →
    // Error(InvalidArgument) naming the key.
    std::string httpAddress() const;                  // web-server[@hostname], "127.0.0.1"
    std::uint16_t httpPort() const;                   // web-server[@port], 8080
    std::uint16_t storagePort() const;                // dicom-services.storage[@port], 6666
    std::uint16_t queryPort() const;                  // dicom-services.query-retrieve[@port], 1045
    std::string aeTitle() const;                      // dicom-services.aetitle, "DICOOGLE-STORAGE"
    std::chrono::seconds tokenIdleTimeout() const;    // 3600 s; 0 = never
    unsigned passwordHashIterations() const;          // 210000
    std::size_t maxBodyBytes() const;                 // 3325000
    std::vector<std::string> allowedOrigins() const;  // web-server.allowed-origins, comma separated
    std::vector<std::string> dimProviders() const;    // archive.dim-providers.dim-provider...
    bool allowUnauthorized() const;                   // web-server.allow-unauthorized, false

    /// A plugin set's own section (created on first use), persisted in this file. The reference
    /// stays valid as long as this object. Keys outside `[A-Za-z0-9_.-]+` are refused with
    /// Error(InvalidArgument) by set() and absent for get().
    sdk::SettingsSection& pluginSection(const std::string& setName);

private:
    struct Impl;
    class PluginSection;
    explicit ServerSettings(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::core
