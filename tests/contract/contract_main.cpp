// Catch2's main, plus the options that say which plugins to run the contract against
// (contract_support.hpp). Command-line options win over the environment, which wins over the
// build's defaults.
#define CATCH_CONFIG_RUNNER
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "contract_support.hpp"
#include "tessera/core/logging.hpp"

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, separator);)
        if (!part.empty()) parts.push_back(part);
    return parts;
}

std::string fromEnv(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

int main(int argc, char* argv[]) {
    Catch::Session session;
    std::string pluginDirs = fromEnv("TESSERA_CONTRACT_PLUGIN_DIR");
    std::string providers = fromEnv("TESSERA_CONTRACT_PROVIDERS");
    std::string samples = fromEnv("TESSERA_CONTRACT_SAMPLES_DIR");
    using namespace Catch::clara;
    session.cli(session.cli() |
                Opt(pluginDirs, "dir[:dir...]")["--plugin-dir"]("plugin directories to load (default: the build's plugins)") |
                Opt(providers, "name[,name...]")["--provider"]("query providers to test (default: every one loaded)") |
                Opt(samples, "dir")["--samples"]("the sample corpus with its MANIFEST.tsv"));
    if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;

    auto& options = tessera::contract::options();
    for (const auto& dir : split(pluginDirs.empty() ? TESSERA_CONTRACT_DEFAULT_PLUGIN_DIR : pluginDirs, ':'))
        options.pluginDirs.emplace_back(dir);
    options.providers = split(providers, ',');
    std::error_code error;
    options.samplesDir = std::filesystem::canonical(samples.empty() ? TESSERA_SAMPLES_DIR : samples, error);
    if (error || !std::filesystem::exists(options.samplesDir / "MANIFEST.tsv")) {
        std::cerr << "contract: no MANIFEST.tsv in the samples directory '" << samples << "'\n";
        return 2;
    }
    // Core's logging set-up also quiets DCMTK's line per file read up to PixelData.
    tessera::core::configureLogging(tessera::core::LoggingOptions{}, nullptr);
    return session.run();
}
