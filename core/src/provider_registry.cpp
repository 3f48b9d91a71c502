#include "tessera/core/provider_registry.hpp"

#include <algorithm>
#include <utility>

#include "tessera/sdk/error.hpp"

namespace tessera::core {

namespace {

std::string lowerAscii(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool validName(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
    });
}

}  // namespace

std::string_view toString(ProviderKind kind) {
    switch (kind) {
        case ProviderKind::Index: return "index";
        case ProviderKind::Query: return "query";
        case ProviderKind::Storage: return "storage";
        case ProviderKind::WebService: return "servlet";
    }
    return "unknown";
}

void ProviderRegistry::add(ProviderKind kind, std::string setName, sdk::Provider* provider) {
    if (provider == nullptr)
        throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                         "Plugin set '" + setName + "' offered a null " + std::string(toString(kind)) + " provider");
    // Provider is a virtual base of every kind, so only dynamic_cast can go back down.
    switch (kind) {
        case ProviderKind::Index:
            if (auto* typed = dynamic_cast<sdk::IndexProvider*>(provider)) return add(std::move(setName), typed);
            break;
        case ProviderKind::Query:
            if (auto* typed = dynamic_cast<sdk::QueryProvider*>(provider)) return add(std::move(setName), typed);
            break;
        case ProviderKind::Storage:
            if (auto* typed = dynamic_cast<sdk::StorageProvider*>(provider)) return add(std::move(setName), typed);
            break;
        case ProviderKind::WebService:
            if (auto* typed = dynamic_cast<sdk::WebServiceProvider*>(provider)) return add(std::move(setName), typed);
            break;
    }
    throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Provider '" + provider->name() + "' of plugin set '" + setName +
                                                          "' is not a " + std::string(toString(kind)) + " provider");
}

namespace {

template <typename Typed>
ProviderEntry makeEntry(ProviderKind kind, std::string& setName, Typed* provider) {
    if (provider == nullptr)
        throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                         "Plugin set '" + setName + "' offered a null " + std::string(toString(kind)) + " provider");
    std::string name = provider->name();  // plugin code: called before taking the lock
    if (!validName(name))
        throw sdk::Error(sdk::ErrorCode::InvalidArgument, "Plugin set '" + setName + "' offered a " +
                                                              std::string(toString(kind)) + " provider with the invalid name '" +
                                                              name + "' (allowed: letters, digits, '_', '.', '-')");
    return ProviderEntry{std::move(name), kind, std::move(setName), provider};
}

}  // namespace

void ProviderRegistry::add(std::string setName, sdk::IndexProvider* provider) {
    Record record;
    record.entry = makeEntry(ProviderKind::Index, setName, provider);
    record.index = provider;
    insert(std::move(record));
}

void ProviderRegistry::add(std::string setName, sdk::QueryProvider* provider) {
    Record record;
    record.entry = makeEntry(ProviderKind::Query, setName, provider);
    record.query = provider;
    insert(std::move(record));
}

void ProviderRegistry::add(std::string setName, sdk::StorageProvider* provider) {
    Record record;
    record.entry = makeEntry(ProviderKind::Storage, setName, provider);
    record.storage = provider;
    insert(std::move(record));
}

void ProviderRegistry::add(std::string setName, sdk::WebServiceProvider* provider) {
    Record record;
    record.entry = makeEntry(ProviderKind::WebService, setName, provider);
    record.webService = provider;
    insert(std::move(record));
}

void ProviderRegistry::insert(Record record) {
    record.key = lowerAscii(record.entry.name);
    std::unique_lock lock(mutex_);
    if (const Record* existing = find(record.entry.kind, record.key))
        throw sdk::Error(sdk::ErrorCode::Conflict,
                         "The " + std::string(toString(record.entry.kind)) + " provider name '" + record.entry.name +
                             "' of plugin set '" + record.entry.setName + "' is already taken by plugin set '" +
                             existing->entry.setName + "'");
    records_.push_back(std::move(record));
}

void ProviderRegistry::removeSet(const std::string& setName) {
    std::unique_lock lock(mutex_);
    std::erase_if(records_, [&](const Record& record) { return record.entry.setName == setName; });
}

const ProviderRegistry::Record* ProviderRegistry::find(ProviderKind kind, std::string_view name) const {
    const std::string key = lowerAscii(name);
    for (const Record& record : records_)
        if (record.entry.kind == kind && record.key == key) return &record;
    return nullptr;
}

sdk::IndexProvider* ProviderRegistry::index(std::string_view name) const {
    std::shared_lock lock(mutex_);
    const Record* record = find(ProviderKind::Index, name);
    return record ? record->index : nullptr;
}

sdk::QueryProvider* ProviderRegistry::query(std::string_view name) const {
    std::shared_lock lock(mutex_);
    const Record* record = find(ProviderKind::Query, name);
    return record ? record->query : nullptr;
}

sdk::StorageProvider* ProviderRegistry::storage(std::string_view name) const {
    std::shared_lock lock(mutex_);
    const Record* record = find(ProviderKind::Storage, name);
    return record ? record->storage : nullptr;
}

sdk::WebServiceProvider* ProviderRegistry::webService(std::string_view name) const {
    std::shared_lock lock(mutex_);
    const Record* record = find(ProviderKind::WebService, name);
    return record ? record->webService : nullptr;
}

std::vector<sdk::StorageProvider*> ProviderRegistry::storages() const {
    std::shared_lock lock(mutex_);
    std::vector<sdk::StorageProvider*> out;
    for (const Record& record : records_)
        if (record.storage != nullptr) out.push_back(record.storage);
    return out;
}

sdk::StorageProvider* ProviderRegistry::storageForUri(const sdk::Uri& uri) const {
    for (sdk::StorageProvider* storage : storages())
        if (storage->isEnabled() && storage->handles(uri)) return storage;
    return nullptr;
}

sdk::StorageProvider* ProviderRegistry::storageForScheme(std::string_view scheme) const {
    const std::string wanted = lowerAscii(scheme);
    for (sdk::StorageProvider* storage : storages())
        if (storage->isEnabled() && lowerAscii(storage->scheme()) == wanted) return storage;
    return nullptr;
}

std::vector<ProviderEntry> ProviderRegistry::list(ProviderKind kind) const {
    std::shared_lock lock(mutex_);
    std::vector<ProviderEntry> out;
    for (const Record& record : records_)
        if (record.entry.kind == kind) out.push_back(record.entry);
    return out;
}

std::vector<ProviderEntry> ProviderRegistry::list() const {
    std::shared_lock lock(mutex_);
    std::vector<ProviderEntry> out;
    out.reserve(records_.size());
    for (const Record& record : records_) out.push_back(record.entry);
    return out;
}

}  // namespace tessera::core
