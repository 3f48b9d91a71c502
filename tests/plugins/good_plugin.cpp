// The working test plugin: one provider of each kind, small but real. The index keeps every
// attribute of what it is given in memory, the query provider answers from that same store, the
// storage keeps bytes under the `mem:` scheme, and the web service reports the set's settings
// and looks providers up through the host.
//
// Life-cycle events (configure, shutdown, destruction) are appended to events.log in the set's
// data directory and shutdown is also logged through the host, so tests can observe them.

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "tessera/sdk/plugin_export.hpp"
#include "tessera/sdk/sdk.hpp"

namespace {

namespace sdk = tessera::sdk;

using Record = std::map<std::string, std::string>;

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// `*` any run, `?` one character, case-insensitive.
bool globMatch(const std::string& pattern, std::size_t p, const std::string& text, std::size_t t) {
    while (p < pattern.size()) {
        if (pattern[p] == '*') {
            for (std::size_t k = t; k <= text.size(); ++k)
                if (globMatch(pattern, p + 1, text, k)) return true;
            return false;
        }
        if (t >= text.size()) return false;
        if (pattern[p] != '?' && std::tolower(static_cast<unsigned char>(pattern[p])) !=
                                     std::tolower(static_cast<unsigned char>(text[t])))
            return false;
        ++p;
        ++t;
    }
    return t == text.size();
}

bool valueMatches(const Record& record, const std::string& field, const auto& test) {
    if (!field.empty()) {
        auto it = record.find(field);
        return it != record.end() && test(it->second);
    }
    return std::any_of(record.begin(), record.end(), [&](const auto& kv) { return test(kv.second); });
}

bool matches(const sdk::QueryNode& node, const Record& record) {
    return std::visit(
        [&](const auto& q) -> bool {
            using Q = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<Q, sdk::MatchAllQuery>) {
                return true;
            } else if constexpr (std::is_same_v<Q, sdk::TermQuery>) {
                return valueMatches(record, q.field, [&](const std::string& v) { return equalsIgnoreCase(v, q.value); });
            } else if constexpr (std::is_same_v<Q, sdk::WildcardQuery>) {
                return valueMatches(record, q.field, [&](const std::string& v) { return globMatch(q.pattern, 0, v, 0); });
            } else if constexpr (std::is_same_v<Q, sdk::BooleanQuery>) {
                bool anyMust = false, anyShould = false, shouldMatched = false;
                for (const auto& clause : q.clauses) {
                    const bool m = matches(clause.node, record);
                    switch (clause.occur) {
                        case sdk::Occur::Must:
                            anyMust = true;
                            if (!m) return false;
                            break;
                        case sdk::Occur::MustNot:
                            if (m) return false;
                            break;
                        case sdk::Occur::Should:
                            anyShould = true;
                            shouldMatched = shouldMatched || m;
                            break;
                    }
                }
                return anyMust || !anyShould || shouldMatched;
            } else {
                throw sdk::Error(sdk::ErrorCode::InvalidArgument, "test-memory answers no phrase or range queries");
            }
        },
        node);
}

// What the index wrote and the query provider reads.
struct MemoryStore {
    mutable std::shared_mutex mutex;
    std::map<std::string, Record> records;  // by URI text
};

class MemoryIndex final : public sdk::IndexProvider {
public:
    explicit MemoryIndex(MemoryStore& store) : store_(store) {}
    std::string name() const override { return "test-memory"; }

    sdk::IndexReport index(std::span<const sdk::IndexItem> batch) override {
        sdk::IndexReport report;
        for (const auto& item : batch) {
            Record record;
            item.object->forEachAttribute([&](const sdk::DicomAttribute& a) { record[a.keyword] = a.value; });
            std::unique_lock lock(store_.mutex);
            store_.records[item.uri.str()] = std::move(record);
            ++report.indexed;
        }
        return report;
    }

    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris) override {
        sdk::UnindexReport report;
        std::unique_lock lock(store_.mutex);
        for (const auto& uri : uris) {
            if (store_.records.erase(uri.str()) > 0)
                ++report.removed;
            else
                ++report.notFound;
        }
        return report;
    }

private:
    MemoryStore& store_;
};

class MemoryQuery final : public sdk::QueryProvider {
public:
    explicit MemoryQuery(MemoryStore& store) : store_(store) {}
    std::string name() const override { return "test-memory"; }

    sdk::QueryResponse query(const sdk::QueryRequest& request) override {
        sdk::QueryResponse response;
        std::shared_lock lock(store_.mutex);
        for (const auto& [uri, record] : store_.records) {
            if (!matches(request.query, record)) continue;
            ++response.total;
            if (response.total <= request.offset) continue;
            if (request.limit && response.results.size() >= *request.limit) continue;
            sdk::SearchResult result;
            result.uri = sdk::Uri::parse(uri);
            for (const auto& field : request.fields)
                if (auto it = record.find(field); it != record.end()) result.fields[field] = it->second;
            response.results.push_back(std::move(result));
        }
        return response;
    }

private:
    MemoryStore& store_;
};

class MemoryStorage final : public sdk::StorageProvider {
public:
    std::string name() const override { return "test-memory"; }
    std::string scheme() const override { return "mem"; }

    void enumerate(const sdk::Uri& root, const std::function<bool(const sdk::StorageItem&)>& visit) override {
        std::vector<sdk::StorageItem> items;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [uri, bytes] : items_)
                if (uri.rfind(root.str(), 0) == 0) items.push_back({sdk::Uri::parse(uri), bytes.size()});
        }
        if (items.empty()) throw sdk::Error(sdk::ErrorCode::NotFound, "Nothing stored under " + root.str());
        for (const auto& item : items)
            if (!visit(item)) return;
    }

    std::unique_ptr<std::istream> open(const sdk::Uri& uri) override {
        std::lock_guard lock(mutex_);
        auto it = items_.find(uri.str());
        if (it == items_.end()) throw sdk::Error(sdk::ErrorCode::NotFound, "Not stored: " + uri.str());
        return std::make_unique<std::istringstream>(std::string(it->second.begin(), it->second.end()));
    }

    sdk::Uri store(const sdk::DicomObjectView& object, std::span<const std::uint8_t> part10) override {
        const auto uid = object.get("SOPInstanceUID");
        if (!uid || uid->empty()) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "No SOPInstanceUID");
        auto uri = sdk::Uri::parse("mem:/" + *uid);
        std::lock_guard lock(mutex_);
        items_[uri.str()] = std::vector<std::uint8_t>(part10.begin(), part10.end());
        return uri;
    }

    void remove(const sdk::Uri& uri) override {
        std::lock_guard lock(mutex_);
        items_.erase(uri.str());
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::vector<std::uint8_t>> items_;
};

class InfoService final : public sdk::WebServiceProvider {
public:
    InfoService(sdk::HostServices& host, const std::string& greeting) : host_(host), greeting_(greeting) {}
    std::string name() const override { return "test-good-web"; }

    std::vector<sdk::WebRoute> routes() override {
        sdk::WebRoute info{"GET", "/info", sdk::AccessPolicy::Public, "The set's greeting setting", {}};
        info.handler = [this](const sdk::HttpRequest&) {
            return sdk::HttpResponse::json("{\"greeting\":\"" + greeting_ + "\"}");
        };
        // Which providers the host lets this plugin see: `?index=NAME&query=NAME&scheme=S`.
        sdk::WebRoute lookup{"GET", "/lookup", sdk::AccessPolicy::Public, "Provider lookups through the host", {}};
        lookup.handler = [this](const sdk::HttpRequest& request) {
            auto found = [](bool yes) { return yes ? "true" : "false"; };
            std::string body = "{\"index\":";
            body += found(host_.indexProvider(request.param("index").value_or("")) != nullptr);
            body += ",\"query\":";
            body += found(host_.queryProvider(request.param("query").value_or("")) != nullptr);
            body += ",\"storage\":";
            body += found(host_.storageProviderForScheme(request.param("scheme").value_or("")) != nullptr);
            body += "}";
            return sdk::HttpResponse::json(body);
        };
        return {info, lookup};
    }

private:
    sdk::HostServices& host_;
    const std::string& greeting_;
};

class GoodSet final : public sdk::PluginSet {
public:
    explicit GoodSet(sdk::HostServices& host)
        : host_(host), index_(store_), query_(store_), web_(host, greeting_), dataDir_(host.dataDirectory()) {}

    ~GoodSet() override { event("destroyed"); }

    std::string name() const override { return "test-good"; }

    void configure(sdk::SettingsSection& settings) override {
        greeting_ = settings.getOrInit("greeting", "Hello");
        event("configured " + greeting_);
    }

    std::vector<sdk::IndexProvider*> indexProviders() override { return {&index_}; }
    std::vector<sdk::QueryProvider*> queryProviders() override { return {&query_}; }
    std::vector<sdk::StorageProvider*> storageProviders() override { return {&storage_}; }
    std::vector<sdk::WebServiceProvider*> webServiceProviders() override { return {&web_}; }

    void shutdown() override {
        host_.log(sdk::LogLevel::Information, "shutdown");
        event("shutdown");
    }

private:
    void event(const std::string& what) { std::ofstream(dataDir_ / "events.log", std::ios::app) << what << "\n"; }

    sdk::HostServices& host_;
    std::string greeting_ = "Hello";
    MemoryStore store_;
    MemoryIndex index_;
    MemoryQuery query_;
    MemoryStorage storage_;
    InfoService web_;
    std::filesystem::path dataDir_;
};

}  // namespace

TESSERA_PLUGIN(GoodSet, "test-good", "1.2.3")
