#include "tessera/core/provider_registry.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tessera/sdk/error.hpp"

namespace sdk = tessera::sdk;
using tessera::core::ProviderKind;
using tessera::core::ProviderRegistry;

namespace {

// Small real providers: the registry only needs names, flags and (for storage) handles().
class NamedIndex final : public sdk::IndexProvider {
public:
    explicit NamedIndex(std::string name) : name_(std::move(name)) {}
    std::string name() const override { return name_; }
    sdk::IndexReport index(std::span<const sdk::IndexItem> batch) override { return {batch.size(), 0}; }
    sdk::UnindexReport unindex(std::span<const sdk::Uri> uris) override { return {uris.size(), 0, 0}; }

private:
    std::string name_;
};

class NamedQuery final : public sdk::QueryProvider {
public:
    explicit NamedQuery(std::string name) : name_(std::move(name)) {}
    std::string name() const override { return name_; }
    sdk::QueryResponse query(const sdk::QueryRequest&) override { return {}; }

private:
    std::string name_;
};

// Serves one scheme; with a prefix, only URIs whose text starts with it.
class SchemeStorage final : public sdk::StorageProvider {
public:
    SchemeStorage(std::string name, std::string scheme, std::string prefix = {})
        : name_(std::move(name)), scheme_(std::move(scheme)), prefix_(std::move(prefix)) {}
    std::string name() const override { return name_; }
    std::string scheme() const override { return scheme_; }
    bool handles(const sdk::Uri& uri) const override {
        return uri.scheme() == scheme_ && uri.str().rfind(prefix_, 0) == 0;
    }
    void enumerate(const sdk::Uri&, const std::function<bool(const sdk::StorageItem&)>&) override {}
    std::unique_ptr<std::istream> open(const sdk::Uri& uri) override {
        throw sdk::Error(sdk::ErrorCode::NotFound, uri.str());
    }
    sdk::Uri store(const sdk::DicomObjectView&, std::span<const std::uint8_t>) override { return {}; }
    void remove(const sdk::Uri&) override {}

private:
    std::string name_, scheme_, prefix_;
};

class NamedWeb final : public sdk::WebServiceProvider {
public:
    explicit NamedWeb(std::string name) : name_(std::move(name)) {}
    std::string name() const override { return name_; }
    std::vector<sdk::WebRoute> routes() override { return {}; }

private:
    std::string name_;
};

// One object that is both an index and a query provider, as engines like Lucene are.
class IndexAndQuery final : public sdk::IndexProvider, public sdk::QueryProvider {
public:
    std::string name() const override { return "engine"; }
    sdk::IndexReport index(std::span<const sdk::IndexItem>) override { return {}; }
    sdk::UnindexReport unindex(std::span<const sdk::Uri>) override { return {}; }
    sdk::QueryResponse query(const sdk::QueryRequest&) override { return {}; }
};

sdk::ErrorCode codeOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const sdk::Error& error) {
        return error.code();
    }
    FAIL("no sdk::Error was thrown");
    return sdk::ErrorCode::Internal;
}

}  // namespace

TEST_CASE("ProviderKind names are the ones /plugins shows", "[registry]") {
    CHECK(tessera::core::toString(ProviderKind::Index) == "index");
    CHECK(tessera::core::toString(ProviderKind::Query) == "query");
    CHECK(tessera::core::toString(ProviderKind::Storage) == "storage");
    CHECK(tessera::core::toString(ProviderKind::WebService) == "servlet");
}

TEST_CASE("Providers are found by kind and case-insensitive name", "[registry]") {
    ProviderRegistry registry;
    NamedIndex index("Lucene");
    NamedQuery query("lucene");
    SchemeStorage storage("files", "file");
    NamedWeb web("hello");
    registry.add("set-a", &index);
    registry.add("set-a", &query);  // same name, other kind: allowed
    registry.add("set-b", &storage);
    registry.add("set-b", &web);

    CHECK(registry.index("lucene") == &index);
    CHECK(registry.index("LUCENE") == &index);
    CHECK(registry.query("Lucene") == &query);
    CHECK(registry.storage("FILES") == &storage);
    CHECK(registry.webService("Hello") == &web);

    CHECK(registry.index("files") == nullptr);  // a storage, not an index
    CHECK(registry.query("nope") == nullptr);
    CHECK(registry.webService("") == nullptr);

    // Disabled providers are still listed and found: enabling is the caller's decision.
    index.disable();
    CHECK(registry.index("lucene") == &index);
}

TEST_CASE("A provider name is unique per kind, whatever its case", "[registry]") {
    ProviderRegistry registry;
    NamedIndex first("xapian");
    NamedIndex second("XAPIAN");
    registry.add("set-a", &first);
    try {
        registry.add("set-b", &second);
        FAIL("the duplicate was accepted");
    } catch (const sdk::Error& error) {
        CHECK(error.code() == sdk::ErrorCode::Conflict);
        const std::string message = error.what();
        CHECK(message.find("XAPIAN") != std::string::npos);
        CHECK(message.find("set-a") != std::string::npos);  // who already has it
        CHECK(message.find("set-b") != std::string::npos);
    }
    CHECK(registry.index("xapian") == &first);
    CHECK(registry.list().size() == 1);
}

TEST_CASE("Bad registrations are refused", "[registry]") {
    ProviderRegistry registry;
    NamedIndex badName("has space");
    NamedIndex slash("../etc");
    NamedIndex empty("");
    NamedQuery query("q");

    CHECK(codeOf([&] { registry.add("s", &badName); }) == sdk::ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { registry.add("s", &slash); }) == sdk::ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { registry.add("s", &empty); }) == sdk::ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { registry.add("s", static_cast<sdk::IndexProvider*>(nullptr)); }) ==
          sdk::ErrorCode::InvalidArgument);
    CHECK(codeOf([&] { registry.add(ProviderKind::Index, "s", nullptr); }) == sdk::ErrorCode::InvalidArgument);
    // A query provider offered as an index.
    CHECK(codeOf([&] { registry.add(ProviderKind::Index, "s", static_cast<sdk::Provider*>(&query)); }) ==
          sdk::ErrorCode::InvalidArgument);
    CHECK(registry.list().empty());
}

TEST_CASE("The kind-generic add reaches the typed getters", "[registry]") {
    ProviderRegistry registry;
    IndexAndQuery engine;
    SchemeStorage storage("files", "file");
    NamedWeb web("hello");
    registry.add(ProviderKind::Index, "engine-set", static_cast<sdk::IndexProvider*>(&engine));
    registry.add(ProviderKind::Query, "engine-set", static_cast<sdk::QueryProvider*>(&engine));
    registry.add(ProviderKind::Storage, "engine-set", &storage);
    registry.add(ProviderKind::WebService, "engine-set", &web);

    CHECK(registry.index("engine") == static_cast<sdk::IndexProvider*>(&engine));
    CHECK(registry.query("engine") == static_cast<sdk::QueryProvider*>(&engine));
    CHECK(registry.storage("files") == &storage);
    CHECK(registry.webService("hello") == &web);
    CHECK(codeOf([&] { registry.add(ProviderKind::Query, "other", static_cast<sdk::QueryProvider*>(&engine)); }) ==
          sdk::ErrorCode::Conflict);
}

TEST_CASE("Listing keeps registration order and removeSet drops one set", "[registry]") {
    ProviderRegistry registry;
    NamedIndex a("a"), c("c");
    NamedQuery b("b");
    NamedWeb w("w");
    registry.add("one", &a);
    registry.add("two", &b);
    registry.add("one", &c);
    registry.add("two", &w);

    auto all = registry.list();
    REQUIRE(all.size() == 4);
    CHECK(all[0].name == "a");
    CHECK(all[0].kind == ProviderKind::Index);
    CHECK(all[0].setName == "one");
    CHECK(all[0].provider == static_cast<sdk::Provider*>(&a));
    CHECK(all[1].name == "b");
    CHECK(all[1].kind == ProviderKind::Query);
    CHECK(all[2].name == "c");
    CHECK(all[3].name == "w");
    CHECK(all[3].kind == ProviderKind::WebService);

    auto indexes = registry.list(ProviderKind::Index);
    REQUIRE(indexes.size() == 2);
    CHECK(indexes[0].name == "a");
    CHECK(indexes[1].name == "c");
    CHECK(registry.list(ProviderKind::Storage).empty());

    registry.removeSet("one");
    CHECK(registry.index("a") == nullptr);
    CHECK(registry.index("c") == nullptr);
    CHECK(registry.query("b") == &b);
    CHECK(registry.list().size() == 2);
    registry.removeSet("no-such-set");
    CHECK(registry.list().size() == 2);

    // The name is free again.
    NamedIndex again("A");
    registry.add("three", &again);
    CHECK(registry.index("a") == &again);
}

TEST_CASE("storageForUri picks the first enabled storage that handles the URI", "[registry]") {
    ProviderRegistry registry;
    SchemeStorage archive("archive", "file", "file:/archive/");
    SchemeStorage anyFile("any-file", "file");
    SchemeStorage s3("s3", "s3");
    registry.add("set", &archive);
    registry.add("set", &anyFile);
    registry.add("set", &s3);

    CHECK(registry.storageForUri(sdk::Uri::parse("file:/archive/a.dcm")) == &archive);
    CHECK(registry.storageForUri(sdk::Uri::parse("file:/elsewhere/a.dcm")) == &anyFile);
    CHECK(registry.storageForUri(sdk::Uri::parse("S3://bucket/x")) == &s3);
    CHECK(registry.storageForUri(sdk::Uri::parse("http://host/x")) == nullptr);

    archive.disable();
    CHECK(registry.storageForUri(sdk::Uri::parse("file:/archive/a.dcm")) == &anyFile);
    anyFile.disable();
    CHECK(registry.storageForUri(sdk::Uri::parse("file:/archive/a.dcm")) == nullptr);

    CHECK(registry.storageForScheme("S3") == &s3);
    CHECK(registry.storageForScheme("file") == nullptr);  // both disabled
    archive.enable();
    CHECK(registry.storageForScheme("file") == &archive);
}

TEST_CASE("Lookups run concurrently with registration", "[registry]") {
    ProviderRegistry registry;
    NamedIndex stable("stable");
    registry.add("stable-set", &stable);

    std::atomic<bool> stop{false};
    std::atomic<int> misses{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i)
        readers.emplace_back([&] {
            while (!stop.load()) {
                if (registry.index("STABLE") != &stable) ++misses;
                (void)registry.list();
            }
        });
    std::vector<std::unique_ptr<NamedQuery>> churn;
    for (int i = 0; i < 200; ++i) {
        std::string name = "q";
        name += std::to_string(i);  // not "q" + to_string(): GCC 12 -Wrestrict false positive
        churn.push_back(std::make_unique<NamedQuery>(name));
        registry.add("churn", churn.back().get());
        if (i % 10 == 9) registry.removeSet("churn");
    }
    stop = true;
    for (auto& reader : readers) reader.join();
    CHECK(misses.load() == 0);
    CHECK(registry.list(ProviderKind::Query).empty());
}
