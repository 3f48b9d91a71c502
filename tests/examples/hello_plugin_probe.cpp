// Loads the out-of-tree example plugin through the real PluginHost and calls its route.
// Usage: tessera_example_probe <plugin dir>. Exit status 0 when everything holds; otherwise
// every failed check is printed.

#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/plugin_host.hpp"

namespace fs = std::filesystem;
namespace sdk = tessera::sdk;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    if (!ok) {
        ++failures;
        std::cerr << "FAILED: " << what << "\n";
    }
}


std::string greet(tessera::core::PluginHost& host, std::vector<std::pair<std::string, std::string>> params) {
    auto* web = host.registry().webService("hello");
    if (web == nullptr) return "<no web service 'hello'>";
    for (auto& route : web->routes()) {
        if (route.method != "GET" || route.path != "/greeting") continue;
        if (route.policy != sdk::AccessPolicy::Public) return "<route is not public>";
        sdk::HttpRequest request;
        request.method = "GET";
        request.path = "/greeting";
        request.params = std::move(params);
        const auto response = route.handler(request);
        if (response.status != 200 || response.contentType != "application/json") return "<bad response>";
        return response.body;
    }
    return "<no route GET /greeting>";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: tessera_example_probe <plugin dir>\n";
        return 2;
    }
    const fs::path dir = argv[1];

    std::vector<fs::path> modules;
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".so") modules.push_back(entry.path());
    check(modules.size() == 1, "exactly one .so in " + dir.string());

    std::string dataName = "tessera-example-probe-";
    dataName += std::to_string(::getpid());
    const fs::path data = fs::temp_directory_path() / dataName;
    std::map<std::string, tessera::core::MemorySettingsSection> settings;
    {
        tessera::core::PluginHostOptions options;
        options.dataRoot = data;
        options.settingsFor = [&settings](const std::string& set) -> sdk::SettingsSection& { return settings[set]; };
        options.log = [](sdk::LogLevel, const std::string& line) { std::cout << line << "\n"; };
        tessera::core::PluginHost host(options);
        host.loadDirectory(dir);

        check(host.dead().empty(), "no dead plugins");
        const auto sets = host.sets();
        check(sets.size() == 1 && sets[0].name == "hello" && sets[0].version == "1.0.0", "set hello 1.0.0 loaded");
        check(greet(host, {}) == R"({"greeting":"Hello, world!"})", "default greeting");
        check(greet(host, {{"name", "Ada"}}) == R"({"greeting":"Hello, Ada!"})", "greeting Ada");
        check(greet(host, {{"name", "A\"B"}}) == R"({"greeting":"Hello, A\"B!"})", "a quote is escaped");
        check(settings["hello"].get("greeting") == "Hello", "the default greeting is written to its settings");
    }
    {
        settings["hello"].set("greeting", "Bonjour");
        tessera::core::PluginHostOptions options;
        options.dataRoot = data;
        options.settingsFor = [&settings](const std::string& set) -> sdk::SettingsSection& { return settings[set]; };
        tessera::core::PluginHost host(options);
        host.loadDirectory(dir);
        check(greet(host, {{"name", "Ada"}}) == R"({"greeting":"Bonjour, Ada!"})", "the greeting setting is used");
    }
    std::error_code ec;
    fs::remove_all(data, ec);

    if (failures == 0) std::cout << "hello plugin: all checks passed\n";
    return failures == 0 ? 0 : 1;
}
