#include "tessera/core/server_settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/DOMWriter.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Text.h>
#include <Poco/Exception.h>
#include <Poco/SAX/XMLReader.h>
#include <Poco/XML/XMLWriter.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "tessera/core/password_hasher.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using Poco::AutoPtr;
using Poco::XML::Document;
using Poco::XML::Element;
using Poco::XML::Node;
using sdk::Error;
using sdk::ErrorCode;

// ---- keys ---------------------------------------------------------------------------------

struct Segment {
    std::string name;
    std::size_t index = 0;
};

struct Key {
    std::vector<Segment> path;
    std::optional<std::string> attribute;
};

// XML names without '.' (our separator) or ':' (namespaces, which Dicoogle never uses).
bool validXmlName(std::string_view name) {
    if (name.empty()) return false;
    const auto first = static_cast<unsigned char>(name.front());
    if (!std::isalpha(first) && first != '_') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) || u == '_' || u == '-';
    });
}

[[noreturn]] void badKey(const std::string& key, const char* why) {
    throw Error(ErrorCode::InvalidArgument, "malformed settings key '" + key + "': " + why);
}

Key parseKey(const std::string& text) {
    Key key;
    std::size_t pos = 0;
    while (true) {
        const auto end = text.find_first_of(".[", pos);
        Segment segment;
        segment.name = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        if (!validXmlName(segment.name)) badKey(text, "element names are letters, digits, '_' and '-'");
        pos = end;
        bool haveIndex = false;
        while (pos != std::string::npos && text[pos] == '[') {
            const auto close = text.find(']', pos);
            if (close == std::string::npos) badKey(text, "missing ']'");
            const std::string inner = text.substr(pos + 1, close - pos - 1);
            pos = close + 1 == text.size() ? std::string::npos : close + 1;
            if (!inner.empty() && inner.front() == '@') {
                if (!validXmlName(inner.substr(1))) badKey(text, "bad attribute name");
                if (pos != std::string::npos) badKey(text, "an attribute must come last");
                key.attribute = inner.substr(1);
            } else {
                if (haveIndex || inner.empty() ||
                    !std::all_of(inner.begin(), inner.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                    inner.size() > 6) {
                    badKey(text, "bad index");
                }
                segment.index = std::stoul(inner);
                haveIndex = true;
            }
        }
        key.path.push_back(std::move(segment));
        if (pos == std::string::npos) break;
        if (text[pos] != '.') badKey(text, "expected '.'");
        ++pos;
    }
    return key;
}

// One spelling per key ("a[0].b" is "a.b"), to look up validation rules.
std::string canonical(const Key& key) {
    std::string text;
    for (const auto& segment : key.path) {
        if (!text.empty()) text += '.';
        text += segment.name;
        // Appended piecewise: GCC 12 warns falsely (-Wrestrict) about "[" + std::string.
        if (segment.index != 0) {
            text += '[';
            text += std::to_string(segment.index);
            text += ']';
        }
    }
    if (key.attribute) {
        text += "[@";
        text += *key.attribute;
        text += ']';
    }
    return text;
}

// ---- values -------------------------------------------------------------------------------

std::string trim(std::string_view text) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return std::string(text);
}

std::optional<long long> parseInt(const std::string& text) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<bool> parseBool(const std::string& text) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
    if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
    return std::nullopt;
}

enum class Kind { Bool, Int, AeTitle };

struct Rule {
    const char* key;
    Kind kind;
    long long min = 0;
    long long max = 0;
};

constexpr long long kMaxPort = 65535;
constexpr long long kTenYears = 10LL * 365 * 24 * 3600;

const Rule kRules[] = {
    {"web-server[@autostart]", Kind::Bool},
    {"web-server[@port]", Kind::Int, 0, kMaxPort},
    {"web-server.allow-unauthorized", Kind::Bool},
    {"web-server.token-idle-timeout", Kind::Int, 0, kTenYears},
    {"web-server.max-body-bytes", Kind::Int, 1, 1LL << 40},
    {"security.password-hash-iterations", Kind::Int, 1, kMaxPasswordHashIterations},
    {"archive.save-thumbnails", Kind::Bool},
    {"archive.thumbnail-size", Kind::Int, 1, 8192},
    {"archive.indexer-effort", Kind::Int, 0, 100},
    {"archive.enable-watch-directory", Kind::Bool},
    {"archive.use-iio-registry", Kind::Bool},
    {"archive.encrypt-users-file", Kind::Bool},
    {"archive.call-shutdown", Kind::Bool},
    {"dicom-services.aetitle", Kind::AeTitle},
    {"dicom-services.storage[@autostart]", Kind::Bool},
    {"dicom-services.storage[@port]", Kind::Int, 0, kMaxPort},
    {"dicom-services.storage.save-ae-titles", Kind::Bool},
    {"dicom-services.query-retrieve[@autostart]", Kind::Bool},
    {"dicom-services.query-retrieve[@port]", Kind::Int, 0, kMaxPort},
    {"dicom-services.query-retrieve.rsp-delay", Kind::Int, 0, 3600},
    {"dicom-services.query-retrieve.dimse-rsp-timeout", Kind::Int, 0, 86400},
    {"dicom-services.query-retrieve.idle-timeout", Kind::Int, 0, 86400},
    {"dicom-services.query-retrieve.accept-timeout", Kind::Int, 0, 86400},
    {"dicom-services.query-retrieve.connection-timeout", Kind::Int, 0, 86400},
    {"dicom-services.query-retrieve.max-client-assocs", Kind::Int, 1, 10000},
    {"dicom-services.query-retrieve.max-pdu-length-receive", Kind::Int, 0, 4294967295LL},
    {"dicom-services.query-retrieve.max-pdu-length-send", Kind::Int, 0, 4294967295LL},
};

const Rule* ruleFor(const std::string& canonicalKey) {
    for (const auto& rule : kRules) {
        if (canonicalKey == rule.key) return &rule;
    }
    return nullptr;
}

// Empty means "use the default" everywhere, so it is always acceptable.
void validate(const Rule& rule, const std::string& value) {
    if (value.empty()) return;
    const std::string where = std::string(rule.key) + " = '" + value + "'";
    switch (rule.kind) {
        case Kind::Bool:
            if (!parseBool(value)) throw Error(ErrorCode::InvalidArgument, where + " is not true or false");
            return;
        case Kind::Int: {
            const auto number = parseInt(value);
            if (!number || *number < rule.min || *number > rule.max) {
                throw Error(ErrorCode::InvalidArgument, where + " is not an integer from " +
                                                            std::to_string(rule.min) + " to " +
                                                            std::to_string(rule.max));
            }
            return;
        }
        case Kind::AeTitle: {
            // PS3.5 AE: at most 16 characters, no backslash or control characters, not only spaces.
            const bool bad = value.size() > 16 || value.find('\\') != std::string::npos ||
                             std::any_of(value.begin(), value.end(), [](char c) {
                                 return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
                             });
            if (bad) throw Error(ErrorCode::InvalidArgument, where + " is not a valid AE title (1-16 characters)");
            return;
        }
    }
}

// Dicoogle's defaults (behaviour §9) plus Tessera's keys. An empty value with no attribute means
// "make sure the element exists", which is how list wrappers and optional text show up in a
// fresh file for operators to fill in.
struct Default {
    const char* key;
    const char* value;
    const char* alias = nullptr;  // an older element name that counts as present
};

const Default kDefaults[] = {
    {"web-server[@autostart]", "true"},
    {"web-server[@port]", "8080"},
    {"web-server[@hostname]", "127.0.0.1"},
    {"web-server.allowed-origins", ""},
    {"web-server.allow-unauthorized", "false"},
    {"web-server.token-idle-timeout", "3600"},
    {"web-server.max-body-bytes", "3325000"},
    {"archive.save-thumbnails", "false"},
    {"archive.thumbnail-size", "64"},
    {"archive.indexer-effort", "100"},
    {"archive.dim-providers", ""},
    {"archive.default-storages", ""},
    {"archive.enable-watch-directory", "false"},
    {"archive.watch-directory", ""},
    {"archive.main-directory", ""},
    {"archive.node-name", ""},
    {"archive.use-iio-registry", "false", "archive.support-wsi"},
    {"archive.encrypt-users-file", "false"},
    {"archive.call-shutdown", "false"},
    {"dicom-services.aetitle", "DICOOGLE-STORAGE"},
    {"dicom-services.device-description", ""},
    {"dicom-services.allowed-local-interfaces", "any"},
    {"dicom-services.allowed-hostnames", "any"},
    {"dicom-services.storage[@autostart]", "true"},
    {"dicom-services.storage[@port]", "6666"},
    {"dicom-services.storage.save-ae-titles", "true"},
    {"dicom-services.query-retrieve[@autostart]", "true"},
    {"dicom-services.query-retrieve[@port]", "1045"},
    {"dicom-services.query-retrieve.rsp-delay", "0"},
    {"dicom-services.query-retrieve.dimse-rsp-timeout", "60"},
    {"dicom-services.query-retrieve.idle-timeout", "60"},
    {"dicom-services.query-retrieve.accept-timeout", "60"},
    {"dicom-services.query-retrieve.connection-timeout", "60"},
    {"dicom-services.query-retrieve.max-client-assocs", "20"},
    {"dicom-services.query-retrieve.max-pdu-length-receive", "16364"},
    {"dicom-services.query-retrieve.max-pdu-length-send", "16364"},
    {"security.password-hash-iterations", "210000"},
    {"plugins", ""},
};

// ---- DOM ----------------------------------------------------------------------------------

Element* childElement(Element* parent, const std::string& name, std::size_t index) {
    std::size_t seen = 0;
    for (Node* node = parent->firstChild(); node; node = node->nextSibling()) {
        if (node->nodeType() == Node::ELEMENT_NODE && node->nodeName() == name) {
            if (seen++ == index) return static_cast<Element*>(node);
        }
    }
    return nullptr;
}

std::size_t countChildren(Element* parent, const std::string& name) {
    std::size_t count = 0;
    for (Node* node = parent->firstChild(); node; node = node->nextSibling()) {
        if (node->nodeType() == Node::ELEMENT_NODE && node->nodeName() == name) ++count;
    }
    return count;
}

Element* appendElement(Element* parent, const std::string& name) {
    AutoPtr<Element> element = parent->ownerDocument()->createElement(name);
    parent->appendChild(element);
    return element.get();
}

// Only the next repeated element can be created: "x[1000000]" must not make a million of them.
Element* walk(Element* root, const Key& key, bool create, const std::string& keyText) {
    Element* element = root;
    for (const auto& segment : key.path) {
        Element* next = childElement(element, segment.name, segment.index);
        if (!next) {
            if (!create) return nullptr;
            if (countChildren(element, segment.name) != segment.index) {
                throw Error(ErrorCode::InvalidArgument,
                            "settings key '" + keyText + "': index past the end of the list");
            }
            next = appendElement(element, segment.name);
        }
        element = next;
    }
    return element;
}

bool isText(const Node* node) {
    return node->nodeType() == Node::TEXT_NODE || node->nodeType() == Node::CDATA_SECTION_NODE;
}

// Replaces the element's own text, leaving child elements (and comments) alone.
void setText(Element* element, const std::string& value) {
    bool written = false;
    for (Node* node = element->firstChild(); node; node = node->nextSibling()) {
        if (!isText(node)) continue;
        node->setNodeValue(written ? std::string() : value);
        written = true;
    }
    if (!written && !value.empty()) {
        AutoPtr<Poco::XML::Text> text = element->ownerDocument()->createTextNode(value);
        element->appendChild(text);
    }
}

AutoPtr<Document> parseXml(const std::string& xml) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::DOMParser::FEATURE_FILTER_WHITESPACE, true);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    return parser.parseString(xml);
}

std::string serialize(const Document* document) {
    Poco::XML::DOMWriter writer;
    writer.setOptions(Poco::XML::XMLWriter::WRITE_XML_DECLARATION | Poco::XML::XMLWriter::PRETTY_PRINT);
    writer.setNewLine("\n");
    writer.setIndent("  ");
    std::ostringstream out;
    writer.writeNode(out, document);
    out << '\n';
    return out.str();
}

[[noreturn]] void saveFailed(const char* step, int error) {
    // No path in the message: it may reach an HTTP client through a settings endpoint.
    throw Error(ErrorCode::Unavailable,
                std::string("could not save the configuration file (") + step + "): " + std::strerror(error));
}

void writeAtomically(const std::filesystem::path& file, const std::string& content) {
    const std::filesystem::path directory = file.has_parent_path() ? file.parent_path() : ".";
    std::string tempName = file.string() + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tempName.data());
    if (fd < 0) saveFailed("create", errno);

    struct stat existing {};
    const mode_t mode = ::stat(file.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
    const char* data = content.data();
    std::size_t left = content.size();
    int error = 0;
    const char* step = "write";
    while (left > 0 && error == 0) {
        const ssize_t written = ::write(fd, data, left);
        if (written < 0) {
            if (errno != EINTR) error = errno;
            continue;
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    if (error == 0 && ::fchmod(fd, mode) != 0) { error = errno; step = "chmod"; }
    if (error == 0 && ::fsync(fd) != 0) { error = errno; step = "fsync"; }
    if (::close(fd) != 0 && error == 0) { error = errno; step = "close"; }
    if (error == 0 && ::rename(tempName.c_str(), file.c_str()) != 0) { error = errno; step = "rename"; }
    if (error != 0) {
        ::unlink(tempName.c_str());
        saveFailed(step, error);
    }
    // The rename is durable only once the directory entry is.
    const int dirFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

bool validSettingKey(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) || u == '_' || u == '.' || u == '-';
    });
}

}  // namespace

// ---- ServerSettings ------------------------------------------------------------------------

struct ServerSettings::Impl {
    std::filesystem::path file;
    mutable std::mutex mutex;
    AutoPtr<Document> document;
    std::string savedXml;  // what is on disk: the state to return to when a save fails
    std::map<std::string, std::unique_ptr<PluginSection>> sections;

    Element* root() const { return document->documentElement(); }

    std::optional<std::string> read(const std::string& keyText) const {
        const Key key = parseKey(keyText);
        Element* element = walk(root(), key, false, keyText);
        if (!element) return std::nullopt;
        if (key.attribute) {
            if (!element->hasAttribute(*key.attribute)) return std::nullopt;
            return trim(element->getAttribute(*key.attribute));
        }
        return trim(element->innerText());
    }

    void write(const std::string& keyText, const std::string& value) {
        const Key key = parseKey(keyText);
        Element* element = walk(root(), key, true, keyText);
        if (key.attribute) {
            element->setAttribute(*key.attribute, value);
        } else {
            setText(element, value);
        }
    }

    // Saves the document; on failure puts the in-memory state back to what is on disk.
    void commit() {
        const std::string xml = serialize(document);
        try {
            writeAtomically(file, xml);
        } catch (...) {
            document = parseXml(savedXml);
            throw;
        }
        savedXml = xml;
    }

    Element* pluginElement(const std::string& setName, bool create) {
        Element* plugins = childElement(root(), "plugins", 0);
        if (!plugins) {
            if (!create) return nullptr;
            plugins = appendElement(root(), "plugins");
        }
        for (Node* node = plugins->firstChild(); node; node = node->nextSibling()) {
            if (node->nodeType() != Node::ELEMENT_NODE || node->nodeName() != "plugin") continue;
            auto* element = static_cast<Element*>(node);
            if (element->getAttribute("name") == setName) return element;
        }
        if (!create) return nullptr;
        Element* element = appendElement(plugins, "plugin");
        element->setAttribute("name", setName);
        return element;
    }

    template <typename Visit>
    void forEachSetting(Element* plugin, Visit&& visit) const {
        for (Node* node = plugin->firstChild(); node; node = node->nextSibling()) {
            if (node->nodeType() != Node::ELEMENT_NODE || node->nodeName() != "setting") continue;
            auto* element = static_cast<Element*>(node);
            if (element->hasAttribute("key")) visit(element);
        }
    }
};

class ServerSettings::PluginSection final : public sdk::SettingsSection {
public:
    PluginSection(ServerSettings::Impl& impl, std::string setName) : impl_(impl), setName_(std::move(setName)) {}

    std::optional<std::string> get(std::string_view key) const override {
        std::lock_guard lock(impl_.mutex);
        Element* plugin = impl_.pluginElement(setName_, false);
        if (!plugin) return std::nullopt;
        std::optional<std::string> value;
        impl_.forEachSetting(plugin, [&](Element* setting) {
            // Plugin values are returned exactly as set: a plugin may care about spaces.
            if (!value && setting->getAttribute("key") == key) value = setting->innerText();
        });
        return value;
    }

    void set(std::string_view key, std::string_view value) override {
        if (!validSettingKey(key)) {
            throw Error(ErrorCode::InvalidArgument,
                        "plugin setting key '" + std::string(key) + "' must be made of [A-Za-z0-9_.-]");
        }
        std::lock_guard lock(impl_.mutex);
        Element* plugin = impl_.pluginElement(setName_, true);
        Element* target = nullptr;
        impl_.forEachSetting(plugin, [&](Element* setting) {
            if (!target && setting->getAttribute("key") == key) target = setting;
        });
        if (!target) {
            target = appendElement(plugin, "setting");
            target->setAttribute("key", std::string(key));
        }
        setText(target, std::string(value));
        impl_.commit();
    }

    std::vector<std::string> keys() const override {
        std::lock_guard lock(impl_.mutex);
        std::vector<std::string> result;
        Element* plugin = impl_.pluginElement(setName_, false);
        if (!plugin) return result;
        impl_.forEachSetting(plugin, [&](Element* setting) {
            std::string key = setting->getAttribute("key");
            if (std::find(result.begin(), result.end(), key) == result.end()) result.push_back(std::move(key));
        });
        return result;
    }

private:
    ServerSettings::Impl& impl_;
    std::string setName_;
};

ServerSettings::ServerSettings(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServerSettings::~ServerSettings() = default;

std::unique_ptr<ServerSettings> ServerSettings::open(const std::filesystem::path& file) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    const std::string name = file.string();

    std::error_code ec;
    const bool exists = std::filesystem::exists(file, ec);
    if (exists) {
        if (!std::filesystem::is_regular_file(file, ec)) {
            throw Error(ErrorCode::InvalidArgument, name + ": not a regular file");
        }
        std::ifstream in(file, std::ios::binary);
        if (!in) throw Error(ErrorCode::Unavailable, "cannot read configuration file " + name);
        std::ostringstream content;
        content << in.rdbuf();
        impl->savedXml = content.str();
        try {
            impl->document = parseXml(impl->savedXml);
        } catch (const Poco::Exception& e) {
            throw Error(ErrorCode::InvalidArgument, name + ": malformed XML: " + e.message());
        }
        const Element* root = impl->root();
        if (!root || root->nodeName() != "config") {
            throw Error(ErrorCode::InvalidArgument, name + ": the root element must be <config>");
        }
    } else {
        if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
        if (ec) throw Error(ErrorCode::Unavailable, "cannot create the directory of " + name + ": " + ec.message());
        impl->document = new Document;
        AutoPtr<Element> root = impl->document->createElement("config");
        impl->document->appendChild(root);
    }

    bool added = !exists;
    for (const auto& entry : kDefaults) {
        if (impl->read(entry.key) || (entry.alias && impl->read(entry.alias))) continue;
        impl->write(entry.key, entry.value);
        added = true;
    }

    try {
        for (const auto& rule : kRules) {
            if (const auto value = impl->read(rule.key)) validate(rule, *value);
        }
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, name + ": " + e.what());
    }

    if (added) {
        try {
            writeAtomically(file, serialize(impl->document));
        } catch (const Error& e) {
            throw Error(ErrorCode::Unavailable, name + ": " + e.what());
        }
        impl->savedXml = serialize(impl->document);
    }
    return std::unique_ptr<ServerSettings>(new ServerSettings(std::move(impl)));
}

const std::filesystem::path& ServerSettings::file() const { return impl_->file; }

std::optional<std::string> ServerSettings::get(const std::string& key) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->read(key);
}

std::string ServerSettings::getString(const std::string& key, const std::string& fallback) const {
    const auto value = get(key);
    return value && !value->empty() ? *value : fallback;
}

long long ServerSettings::getInt(const std::string& key, long long fallback) const {
    const auto value = get(key);
    if (!value || value->empty()) return fallback;
    const auto number = parseInt(*value);
    if (!number) throw Error(ErrorCode::InvalidArgument, key + " = '" + *value + "' is not an integer");
    if (const Rule* rule = ruleFor(canonical(parseKey(key)))) validate(*rule, *value);
    return *number;
}

bool ServerSettings::getBool(const std::string& key, bool fallback) const {
    const auto value = get(key);
    if (!value || value->empty()) return fallback;
    const auto flag = parseBool(*value);
    if (!flag) throw Error(ErrorCode::InvalidArgument, key + " = '" + *value + "' is not true or false");
    return *flag;
}

void ServerSettings::set(const std::string& key, const std::string& value) { setMany({{key, value}}); }

void ServerSettings::setMany(const std::vector<std::pair<std::string, std::string>>& values) { update({}, values); }

void ServerSettings::update(const std::vector<std::string>& removals,
                            const std::vector<std::pair<std::string, std::string>>& values) {
    // Validate everything first: a bad pair must not leave the others half applied.
    for (const auto& key : removals) parseKey(key);
    for (const auto& [key, value] : values) {
        if (const Rule* rule = ruleFor(canonical(parseKey(key)))) validate(*rule, trim(value));
    }
    std::lock_guard lock(impl_->mutex);
    try {
        for (const auto& keyText : removals) {
            const Key key = parseKey(keyText);
            Element* element = walk(impl_->root(), key, false, keyText);
            if (!element) continue;
            if (key.attribute) {
                element->removeAttribute(*key.attribute);
            } else if (element != impl_->root()) {
                element->parentNode()->removeChild(element);
            }
        }
        for (const auto& [key, value] : values) impl_->write(key, value);
    } catch (...) {
        impl_->document = parseXml(impl_->savedXml);
        throw;
    }
    impl_->commit();
}

std::string ServerSettings::httpAddress() const { return getString("web-server[@hostname]", "127.0.0.1"); }

std::uint16_t ServerSettings::httpPort() const {
    return static_cast<std::uint16_t>(getInt("web-server[@port]", 8080));
}

std::uint16_t ServerSettings::storagePort() const {
    return static_cast<std::uint16_t>(getInt("dicom-services.storage[@port]", 6666));
}

std::uint16_t ServerSettings::queryPort() const {
    return static_cast<std::uint16_t>(getInt("dicom-services.query-retrieve[@port]", 1045));
}

std::string ServerSettings::aeTitle() const {
    const std::string title = getString("dicom-services.aetitle", "DICOOGLE-STORAGE");
    validate(*ruleFor("dicom-services.aetitle"), title);
    return title;
}

std::chrono::seconds ServerSettings::tokenIdleTimeout() const {
    return std::chrono::seconds(getInt("web-server.token-idle-timeout", 3600));
}

unsigned ServerSettings::passwordHashIterations() const {
    return static_cast<unsigned>(getInt("security.password-hash-iterations", 210000));
}

std::size_t ServerSettings::maxBodyBytes() const {
    return static_cast<std::size_t>(getInt("web-server.max-body-bytes", 3325000));
}

std::vector<std::string> ServerSettings::allowedOrigins() const {
    const std::string text = getString("web-server.allowed-origins", "");
    std::vector<std::string> origins;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string origin = trim(std::string_view(text).substr(start, end - start));
        if (!origin.empty()) origins.push_back(std::move(origin));
        start = end + 1;
    }
    return origins;
}

std::vector<std::string> ServerSettings::dimProviders() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<std::string> providers;
    Element* list = walk(impl_->root(), parseKey("archive.dim-providers"), false, "archive.dim-providers");
    if (!list) return providers;
    for (Node* node = list->firstChild(); node; node = node->nextSibling()) {
        if (node->nodeType() != Node::ELEMENT_NODE || node->nodeName() != "dim-provider") continue;
        std::string name = trim(node->innerText());
        if (!name.empty()) providers.push_back(std::move(name));
    }
    return providers;
}

bool ServerSettings::allowUnauthorized() const { return getBool("web-server.allow-unauthorized", false); }

sdk::SettingsSection& ServerSettings::pluginSection(const std::string& setName) {
    if (setName.empty() || std::any_of(setName.begin(), setName.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
        })) {
        throw Error(ErrorCode::InvalidArgument, "plugin set names must be non-empty, without control characters");
    }
    std::lock_guard lock(impl_->mutex);
    auto& section = impl_->sections[setName];
    if (!section) {
        if (!impl_->pluginElement(setName, false)) {
            impl_->pluginElement(setName, true);
            try {
                impl_->commit();
            } catch (...) {
                impl_->sections.erase(setName);
                throw;
            }
        }
        section = std::make_unique<PluginSection>(*impl_, setName);
    }
    return *section;
}

}  // namespace tessera::core
