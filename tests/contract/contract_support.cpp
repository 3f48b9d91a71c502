#include "contract_support.hpp"

#include <algorithm>
#include <iostream>
#include <map>

#include <catch2/catch.hpp>

#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/memory_settings_section.hpp"
#include "tessera/core/query/query_parser.hpp"

namespace tessera::contract {

namespace fs = std::filesystem;
using test::Manifest;
using test::ManifestRow;
using test::RowSet;

ContractOptions& options() {
    static ContractOptions instance;
    return instance;
}

const Manifest& manifest() {
    static const Manifest instance(options().samplesDir / "MANIFEST.tsv");
    return instance;
}

std::string sampleUri(const std::string& relative) {
    return "file:" + (options().samplesDir / relative).string();
}

std::string fileOfUri(const std::string& uri) {
    const std::string prefix = "file:" + options().samplesDir.string() + "/";
    if (uri.rfind(prefix, 0) == 0) return uri.substr(prefix.size());
    return "<not a sample URI> " + uri;
}

// ---- plugins --------------------------------------------------------------------------------

LoadedPlugins::LoadedPlugins() {
    auto sections = std::make_shared<std::map<std::string, core::MemorySettingsSection>>();
    core::PluginHostOptions hostOptions;
    hostOptions.dataRoot = dir_.path() / "plugin-data";
    hostOptions.settingsFor = [sections](const std::string& set) -> sdk::SettingsSection& { return (*sections)[set]; };
    hostOptions.log = [](sdk::LogLevel level, const std::string& line) {
        // Plugins may log from their own threads, where Catch's macros are not safe.
        if (level == sdk::LogLevel::Error || level == sdk::LogLevel::Warning) std::cerr << line << '\n';
    };
    hostOptions.parseDicom = [](std::span<const std::uint8_t> bytes) -> std::unique_ptr<sdk::DicomObjectView> {
        auto result = core::readDicomBytes(bytes);
        if (result.status != core::DicomReadStatus::Ok) throw sdk::Error(sdk::ErrorCode::Corrupted, result.reason);
        return std::move(result.object);
    };
    host_ = std::make_unique<core::PluginHost>(std::move(hostOptions));
    for (const auto& dir : options().pluginDirs) host_->loadDirectory(dir);
    for (const auto& dead : host_->dead()) FAIL_CHECK("plugin " << dead.name << " did not load: " << dead.message);
}

LoadedPlugins::~LoadedPlugins() { host_->shutdown(); }

std::vector<std::pair<std::string, sdk::QueryProvider*>> LoadedPlugins::queryProviders() {
    std::vector<std::pair<std::string, sdk::QueryProvider*>> chosen;
    const auto& wanted = options().providers;
    if (wanted.empty()) {
        for (const auto& entry : host_->registry().list(core::ProviderKind::Query))
            chosen.emplace_back(entry.name, host_->registry().query(entry.name));
    } else {
        for (const auto& name : wanted) {
            auto* provider = host_->registry().query(name);
            INFO("query provider " << name << " is not in the plugin directories");
            REQUIRE(provider != nullptr);
            chosen.emplace_back(provider->name(), provider);
        }
    }
    REQUIRE_FALSE(chosen.empty());
    return chosen;
}

std::vector<std::string> LoadedPlugins::setsUnderTest() {
    std::vector<std::string> sets;
    for (const auto& entry : host_->registry().list(core::ProviderKind::Query)) {
        const auto& wanted = options().providers;
        const bool chosen = wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [&](const std::string& name) {
                                return test::asciiLower(name) == test::asciiLower(entry.name);
                            });
        if (chosen && std::find(sets.begin(), sets.end(), entry.setName) == sets.end()) sets.push_back(entry.setName);
    }
    return sets;
}

std::vector<std::pair<std::string, sdk::IndexProvider*>> LoadedPlugins::indexProviders() {
    const auto sets = setsUnderTest();
    std::vector<std::pair<std::string, sdk::IndexProvider*>> chosen;
    for (const auto& entry : host_->registry().list(core::ProviderKind::Index))
        if (std::find(sets.begin(), sets.end(), entry.setName) != sets.end())
            chosen.emplace_back(entry.name, host_->registry().index(entry.name));
    return chosen;
}

std::vector<sdk::IndexProvider*> LoadedPlugins::indexProvidersBeside(const std::string& queryName) {
    std::string setName;
    for (const auto& entry : host_->registry().list(core::ProviderKind::Query))
        if (test::asciiLower(entry.name) == test::asciiLower(queryName)) setName = entry.setName;
    std::vector<sdk::IndexProvider*> chosen;
    for (const auto& entry : host_->registry().list(core::ProviderKind::Index))
        if (entry.setName == setName) chosen.push_back(host_->registry().index(entry.name));
    return chosen;
}

// ---- samples --------------------------------------------------------------------------------

ParsedSamples parseSamples(const std::vector<std::string>& files, std::vector<std::string>* rejected) {
    ParsedSamples out;
    for (const auto& file : files) {
        auto read = core::readDicomFile(options().samplesDir / file);
        if (read.status != core::DicomReadStatus::Ok) {
            if (rejected) rejected->push_back(file);
            continue;
        }
        out.items.push_back({sdk::Uri::parse(sampleUri(file)), read.object.get()});
        out.views.push_back(std::move(read.object));
        out.files.push_back(file);
    }
    return out;
}

void indexAll(sdk::IndexProvider& index, const ParsedSamples& samples) {
    constexpr std::size_t kBatch = 64;
    sdk::IndexReport total;
    for (std::size_t start = 0; start < samples.items.size(); start += kBatch) {
        const auto count = std::min(kBatch, samples.items.size() - start);
        const auto report = index.index(std::span<const sdk::IndexItem>(samples.items).subspan(start, count));
        total.indexed += report.indexed;
        total.errors += report.errors;
    }
    index.commit();
    INFO("index provider " << index.name());
    CHECK(total.errors == 0);
    REQUIRE(total.indexed == samples.items.size());
}

const RowSet& indexedRows() {
    static const RowSet rows = Manifest::select(manifest().inGroups({"core", "variant", "malformed"}), [](const ManifestRow& row) {
        if (row.group() != "malformed") return true;
        const auto& outcomes = test::malformedSampleOutcomes();
        auto it = outcomes.find(row.file());
        return it != outcomes.end() && it->second == test::SampleReadOutcome::Ok;
    });
    return rows;
}

// ---- queries --------------------------------------------------------------------------------

Answer runQuery(sdk::QueryProvider& provider, const std::string& text, std::vector<std::string> fields, std::size_t offset,
                std::optional<std::size_t> limit) {
    sdk::QueryRequest request;
    request.text = text;
    request.query = core::parseQuery(text);
    request.fields = std::move(fields);
    request.offset = offset;
    request.limit = limit;
    const auto response = provider.query(request);
    Answer answer;
    answer.total = response.total;
    for (const auto& result : response.results) {
        answer.uris.push_back(result.uri.str());
        answer.files.push_back(fileOfUri(result.uri.str()));
    }
    std::sort(answer.files.begin(), answer.files.end());
    return answer;
}

}  // namespace tessera::contract
