// The loadable `file` plugin set: one StorageProvider, configured from the set's settings.
#include <memory>
#include <string>
#include <vector>

#include "tessera/plugins/file/file_storage.hpp"
#include "tessera/sdk/plugin_export.hpp"

namespace tessera::plugins::file {
namespace {

class FilePluginSet final : public sdk::PluginSet {
public:
    explicit FilePluginSet(sdk::HostServices& host) : host_(host) {}

    std::string name() const override { return "file"; }

    void configure(sdk::SettingsSection& settings) override {
        storage_ = FileStorage::fromSettings(settings, host_.dataDirectory());
        std::string roots;
        for (const auto& root : storage_->roots()) roots += (roots.empty() ? "" : ", ") + root.string();
        host_.log(sdk::LogLevel::Information, "Storing under " + storage_->storeRoot().string() + "; serving " + roots);
    }

    // Empty until configure(): the roots come from the settings, and the host reads the lists
    // only after configuring.
    std::vector<sdk::StorageProvider*> storageProviders() override {
        if (!storage_) return {};
        return {storage_.get()};
    }

private:
    sdk::HostServices& host_;
    std::unique_ptr<FileStorage> storage_;
};

}  // namespace
}  // namespace tessera::plugins::file

TESSERA_PLUGIN(tessera::plugins::file::FilePluginSet, "file", TESSERA_VERSION)
