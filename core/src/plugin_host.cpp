#include "tessera/core/plugin_host.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include <boost/dll/shared_library.hpp>

#include "plugin_host_services.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/version.hpp"

namespace tessera::core {

namespace fs = std::filesystem;

namespace {

// Why a set could not be admitted. Thrown only inside the host, caught in the same call, after
// every object that came from the plugin (exception included) is gone.
struct LoadFailure {
    std::string causeClass;
    std::string message;
};

// Text from a plugin's record: bounded, because the record of a broken library is not trusted.
std::string recordText(const char* text) {
    constexpr std::size_t kMaxRecordText = 256;
    if (text == nullptr) return {};
    return std::string(text, strnlen(text, kMaxRecordText));
}

// One log line, whatever a plugin or dlerror() put into the message.
std::string oneLine(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    return text;
}

bool validSetName(std::string_view name) {
    if (name.empty() || name == "." || name == ".." || name.size() > 128) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
    });
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

// Boost.DLL wraps dlerror() as "...load() failed (dlerror system message: <text>): <errc>"; the
// dlerror text is what a person needs.
std::string loadErrorText(const std::exception& error) {
    std::string text = error.what();
    const std::string marker = "dlerror system message: ";
    const auto start = text.find(marker);
    if (start == std::string::npos) return text;
    const auto from = start + marker.size();
    const auto end = text.rfind("):");
    return text.substr(from, end == std::string::npos || end < from ? std::string::npos : end - from);
}

}  // namespace

struct LoadedSet {
    std::string name;
    std::string version;
    std::string file;
    // Declared first so that it is destroyed last; shutdown() also releases the parts in order.
    std::shared_ptr<boost::dll::shared_library> library;
    std::unique_ptr<PluginHostServices> services;
    std::unique_ptr<sdk::PluginSet> set;
};

class PluginHost::Impl {
public:
    explicit Impl(PluginHostOptions options) : options_(std::move(options)) {}

    void log(sdk::LogLevel level, const std::string& line) const {
        if (options_.log) options_.log(level, oneLine(line));
    }

    void loadDirectory(const fs::path& dir);
    void loadLibrary(const fs::path& file);
    void addSet(std::unique_ptr<sdk::PluginSet> set, std::string version);
    void addSet(std::string setName, const SetFactory& factory, std::string version);
    std::vector<PluginSetInfo> sets() const;
    std::vector<DeadPlugin> dead() const;
    void shutdown();

    ProviderRegistry registry_;

private:
    // Factory → name check → configure → registration. On failure throws LoadFailure, having
    // released the set (while `library` still holds its code).
    void admit(const std::string& setName, const SetFactory& factory, const std::string& version,
               const std::string& file, std::shared_ptr<boost::dll::shared_library> library);
    void registerProviders(const std::string& setName, sdk::PluginSet& set);
    sdk::SettingsSection& settingsFor(const std::string& setName);
    void recordDead(DeadPlugin dead);

    PluginHostOptions options_;
    // Before loaded_: a set's services refer to its section, so sections must outlive sets.
    std::map<std::string, std::unique_ptr<MemorySettingsSection>> memorySettings_;
    mutable std::mutex mutex_;  // guards loaded_ and dead_ against concurrent readers
    std::vector<LoadedSet> loaded_;
    std::vector<DeadPlugin> dead_;
};

void PluginHost::Impl::recordDead(DeadPlugin dead) {
    dead.message = oneLine(std::move(dead.message));
    if (!dead.message.empty() && dead.message.back() != '.') dead.message += '.';
    const std::string what = dead.file.empty() ? "Plugin set '" + dead.name + "'" : "Plugin library " + dead.file;
    log(sdk::LogLevel::Error, what + " is dead (" + dead.causeClass + "): " + dead.message);
    std::lock_guard lock(mutex_);
    dead_.push_back(std::move(dead));
}

void PluginHost::Impl::loadDirectory(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        log(sdk::LogLevel::Warning, "Plugin directory " + dir.string() + " is missing or not a directory; no plugins loaded from it");
        return;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeError;
        if (it->path().extension() == ".so" && it->is_regular_file(typeError)) files.push_back(it->path());
    }
    if (ec) {
        log(sdk::LogLevel::Warning, "Plugin directory " + dir.string() + " could not be read (" + ec.message() +
                                        "); no plugins loaded from it");
        return;
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
    for (const fs::path& file : files) loadLibrary(file);
}

void PluginHost::Impl::loadLibrary(const fs::path& file) {
    std::error_code ec;
    const fs::path path = fs::absolute(file, ec).lexically_normal();
    const std::string fileText = path.string();
    std::string name = path.filename().string();
    // Owns the code of everything below; it goes last, after any set or exception from it.
    auto library = std::make_shared<boost::dll::shared_library>();
    try {
        if (!fs::exists(path, ec))
            throw LoadFailure{"LoadError", "The file does not exist."};
        if (!fs::is_regular_file(path, ec))
            throw LoadFailure{"LoadError", "It is not a regular file."};
        try {
            // rtld_now: unresolved symbols fail here, not later inside a request.
            library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
        } catch (const std::exception& error) {
            throw LoadFailure{"LoadError", "It is not a loadable shared library: " + loadErrorText(error) + "."};
        }

        if (!library->has(sdk::kPluginRecordSymbol))
            throw LoadFailure{"NotAPlugin", "It exports no " + std::string(sdk::kPluginRecordSymbol) +
                                                ", so it was not built with TESSERA_PLUGIN."};
        const auto& record = library->get<const TesseraPluginRecord>(sdk::kPluginRecordSymbol);
        if (const std::string recordName = recordText(record.pluginName); !recordName.empty()) name = recordName;
        const std::string sdkVersion = recordText(record.sdkVersion);

        // Nothing of the plugin runs before these two checks pass.
        if (record.abiVersion != sdk::kSdkAbiVersion)
            throw LoadFailure{"AbiMismatch", "It was built for plugin ABI " + std::to_string(record.abiVersion) +
                                                 " (SDK " + (sdkVersion.empty() ? "?" : sdkVersion) +
                                                 ") but this server needs ABI " + std::to_string(sdk::kSdkAbiVersion) +
                                                 " (SDK " + sdk::kSdkVersion + "); rebuild it against this SDK."};
        const std::string stdlibTag = recordText(record.stdlibTag);
        if (stdlibTag != sdk::kStdlibTag)
            throw LoadFailure{"AbiMismatch", "It was built with the C++ standard library '" + stdlibTag +
                                                 "' but this server uses '" + sdk::kStdlibTag +
                                                 "'; rebuild it with the server's compiler."};
        if (!validSetName(name))
            throw LoadFailure{"InvalidName", "Its plugin name '" + name +
                                                 "' is not made of letters, digits, '_', '.' and '-'."};
        if (!library->has(sdk::kPluginFactorySymbol))
            throw LoadFailure{"NotAPlugin", "It has a plugin record but exports no " +
                                                std::string(sdk::kPluginFactorySymbol) + " factory."};

        auto& factory = library->get_alias<sdk::PluginFactory>(sdk::kPluginFactorySymbol);
        admit(name, [&factory](sdk::HostServices& host) { return factory(host); }, recordText(record.pluginVersion),
              fileText, library);
    } catch (const LoadFailure& failure) {
        recordDead(DeadPlugin{name, failure.causeClass, failure.message, fileText});
    } catch (const std::exception& error) {
        // The host's own failure while handling this library (memory, file system): still only
        // this library is lost.
        recordDead(DeadPlugin{name, "LoadError", std::string("Loading it failed: ") + error.what(), fileText});
    }
}

void PluginHost::Impl::addSet(std::unique_ptr<sdk::PluginSet> set, std::string version) {
    if (!set) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "addSet: the plugin set is null");
    std::string name;
    try {
        name = set->name();
    } catch (const std::exception& error) {
        recordDead(DeadPlugin{"(unnamed)", "FactoryError", std::string("Its name() threw: ") + error.what(), {}});
        return;
    }
    addSet(name, [&set](sdk::HostServices&) { return std::move(set); }, std::move(version));
}

void PluginHost::Impl::addSet(std::string setName, const SetFactory& factory, std::string version) {
    try {
        if (!validSetName(setName))
            throw LoadFailure{"InvalidName", "Its name '" + setName + "' is not made of letters, digits, '_', '.' and '-'."};
        admit(setName, factory, version, {}, nullptr);
    } catch (const LoadFailure& failure) {
        recordDead(DeadPlugin{setName, failure.causeClass, failure.message, {}});
    }
}

sdk::SettingsSection& PluginHost::Impl::settingsFor(const std::string& setName) {
    if (options_.settingsFor) return options_.settingsFor(setName);
    auto& slot = memorySettings_[setName];
    if (!slot) slot = std::make_unique<MemorySettingsSection>();
    return *slot;
}

void PluginHost::Impl::admit(const std::string& setName, const SetFactory& factory, const std::string& version,
                             const std::string& file, std::shared_ptr<boost::dll::shared_library> library) {
    {
        std::lock_guard lock(mutex_);
        for (const LoadedSet& loaded : loaded_)
            if (equalsIgnoreCase(loaded.name, setName))
                throw LoadFailure{"DuplicateSet", "A plugin set named '" + loaded.name + "' is already loaded" +
                                                      (loaded.file.empty() ? "." : " from " + loaded.file + ".")};
    }

    sdk::SettingsSection* settings = nullptr;
    try {
        settings = &settingsFor(setName);
    } catch (const std::exception& error) {
        throw LoadFailure{"SettingsError", std::string("Its settings section could not be opened: ") + error.what()};
    }

    fs::path dataDirectory;
    if (!options_.dataRoot.empty()) {
        dataDirectory = options_.dataRoot / setName;
        std::error_code ec;
        fs::create_directories(dataDirectory, ec);
        if (ec)
            throw LoadFailure{"DataDirError", "Its data directory " + dataDirectory.string() +
                                                  " could not be created: " + ec.message() + "."};
    }

    // Declared before the set so that the set, which may use its services, is destroyed first.
    auto services = std::make_unique<PluginHostServices>(setName, options_, registry_, *settings, dataDirectory);
    std::unique_ptr<sdk::PluginSet> set;
    try {
        set = factory(*services);
    } catch (const std::exception& error) {
        throw LoadFailure{"FactoryError", std::string("Its factory threw: ") + error.what()};
    } catch (...) {
        throw LoadFailure{"FactoryError", "Its factory threw a non-standard exception."};
    }
    if (!set) throw LoadFailure{"FactoryError", "Its factory returned no plugin set."};

    std::string reportedName;
    try {
        reportedName = set->name();
    } catch (const std::exception& error) {
        throw LoadFailure{"FactoryError", std::string("Its name() threw: ") + error.what()};
    }
    if (reportedName != setName)
        throw LoadFailure{"NameMismatch", "Its record names the plugin '" + setName + "' but the set calls itself '" +
                                              reportedName + "'."};

    try {
        set->configure(*settings);
    } catch (const std::exception& error) {
        throw LoadFailure{"ConfigureError", std::string("Its configure() threw: ") + error.what()};
    } catch (...) {
        throw LoadFailure{"ConfigureError", "Its configure() threw a non-standard exception."};
    }

    try {
        registerProviders(setName, *set);
    } catch (const LoadFailure&) {
        registry_.removeSet(setName);  // none of a dead set's providers may stay reachable
        try {
            set->shutdown();
        } catch (const std::exception& error) {
            log(sdk::LogLevel::Warning, "Plugin set '" + setName + "' failed to shut down: " + error.what());
        } catch (...) {
            log(sdk::LogLevel::Warning, "Plugin set '" + setName + "' failed to shut down");
        }
        throw;
    }

    const auto entries = registry_.list();
    const auto providerCount =
        std::count_if(entries.begin(), entries.end(), [&](const ProviderEntry& e) { return e.setName == setName; });
    log(sdk::LogLevel::Information, "Loaded plugin set '" + setName + "'" + (version.empty() ? "" : " " + version) +
                                        (file.empty() ? "" : " from " + file) + " with " +
                                        std::to_string(providerCount) + " provider(s)");
    std::lock_guard lock(mutex_);
    loaded_.push_back(LoadedSet{setName, version, file, std::move(library), std::move(services), std::move(set)});
}

void PluginHost::Impl::registerProviders(const std::string& setName, sdk::PluginSet& set) {
    try {
        for (auto* provider : set.indexProviders()) registry_.add(setName, provider);
        for (auto* provider : set.queryProviders()) registry_.add(setName, provider);
        for (auto* provider : set.storageProviders()) registry_.add(setName, provider);
        for (auto* provider : set.webServiceProviders()) registry_.add(setName, provider);
    } catch (const sdk::Error& error) {
        throw LoadFailure{error.code() == sdk::ErrorCode::Conflict ? "DuplicateProvider" : "ProviderError",
                          std::string(error.what()) + "."};
    } catch (const std::exception& error) {
        throw LoadFailure{"ProviderError", std::string("Listing its providers threw: ") + error.what()};
    } catch (...) {
        throw LoadFailure{"ProviderError", "Listing its providers threw a non-standard exception."};
    }
}

std::vector<PluginSetInfo> PluginHost::Impl::sets() const {
    std::lock_guard lock(mutex_);
    std::vector<PluginSetInfo> out;
    out.reserve(loaded_.size());
    for (const LoadedSet& loaded : loaded_) out.push_back(PluginSetInfo{loaded.name, loaded.version, loaded.file});
    return out;
}

std::vector<DeadPlugin> PluginHost::Impl::dead() const {
    std::lock_guard lock(mutex_);
    return dead_;
}

void PluginHost::Impl::shutdown() {
    std::vector<LoadedSet> sets;
    {
        std::lock_guard lock(mutex_);
        sets.swap(loaded_);
    }
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) {
        try {
            it->set->shutdown();
        } catch (const std::exception& error) {
            log(sdk::LogLevel::Error, "Plugin set '" + it->name + "' failed to shut down: " + error.what());
        } catch (...) {
            log(sdk::LogLevel::Error, "Plugin set '" + it->name + "' failed to shut down");
        }
        // Sets shut down earlier (loaded later) no longer see this one's providers.
        registry_.removeSet(it->name);
    }
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) it->set.reset();
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) it->services.reset();
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) it->library.reset();
}

PluginHost::PluginHost(PluginHostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

PluginHost::~PluginHost() { shutdown(); }

void PluginHost::loadDirectory(const fs::path& dir) { impl_->loadDirectory(dir); }

void PluginHost::loadLibrary(const fs::path& file) { impl_->loadLibrary(file); }

void PluginHost::addSet(std::unique_ptr<sdk::PluginSet> set, std::string version) {
    impl_->addSet(std::move(set), std::move(version));
}

void PluginHost::addSet(std::string setName, SetFactory factory, std::string version) {
    if (!factory) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "addSet: the factory is empty");
    impl_->addSet(std::move(setName), factory, std::move(version));
}

const ProviderRegistry& PluginHost::registry() const { return impl_->registry_; }

ProviderRegistry& PluginHost::registry() { return impl_->registry_; }

std::vector<PluginSetInfo> PluginHost::sets() const { return impl_->sets(); }

std::vector<DeadPlugin> PluginHost::dead() const { return impl_->dead(); }

void PluginHost::shutdown() { impl_->shutdown(); }

}  // namespace tessera::core
