#include "tessera/plugins/sqlite/sqlite_searcher.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tessera/plugins/sqlite/field_catalogue.hpp"
#include "tessera/plugins/sqlite/record_builder.hpp"
#include "tessera/plugins/sqlite/sql_query_compiler.hpp"
#include "tessera/plugins/sqlite/sqlite_database.hpp"
#include "tessera/plugins/sqlite/sqlite_schema.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

using sdk::Error;
using sdk::ErrorCode;

std::int64_t clampToInt64(std::size_t value) {
    return static_cast<std::int64_t>(std::min<std::size_t>(value, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

/// Ends the read transaction whatever happens.
class ReadTransaction {
public:
    explicit ReadTransaction(Connection& db) : db_(db) { db_.execute("BEGIN"); }
    ~ReadTransaction() {
        try {
            db_.execute("COMMIT");
        } catch (...) {
            try {
                db_.execute("ROLLBACK");
            } catch (...) {
            }
        }
    }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

private:
    Connection& db_;
};

}  // namespace

struct SqliteSearcher::Impl {
    std::filesystem::path path;
    std::size_t maxPooled = 8;

    std::mutex poolMutex;
    std::vector<std::unique_ptr<Connection>> pool;

    // Entries are never renumbered or removed, so whatever is cached stays true; a miss is
    // looked up in the query's own snapshot.
    FieldCatalogue catalogue;

    std::unique_ptr<Connection> acquire() {
        {
            std::lock_guard lock(poolMutex);
            if (!pool.empty()) {
                auto db = std::move(pool.back());
                pool.pop_back();
                return db;
            }
        }
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) throw Error(ErrorCode::Unavailable, "The sqlite index does not exist yet");
        auto db = std::make_unique<Connection>(path, OpenMode::ReadOnly);
        db->execute("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY");
        // An index of another layout would be misread: refuse it.
        std::optional<std::string> layout;
        try {
            auto& select = db->cached("SELECT value FROM meta WHERE key = 'layout'");
            if (select.step()) layout = std::string(select.columnText(0));
            select.reset();
        } catch (const Error&) {
            throw Error(ErrorCode::Unavailable, "The sqlite index is not initialised");
        }
        if (layout != kLayoutVersion) throw Error(ErrorCode::Unavailable, "The sqlite index has another layout than this plugin reads; re-index");
        return db;
    }

    void release(std::unique_ptr<Connection> db) {
        std::lock_guard lock(poolMutex);
        if (pool.size() < maxPooled) pool.push_back(std::move(db));
    }

    std::optional<FieldInfo> field(Connection& db, std::string_view keyword) {
        if (auto known = catalogue.find(keyword)) return known;
        auto& select = db.cached("SELECT id, kind FROM fields WHERE keyword = ?");
        select.bind(1, keyword);
        std::optional<FieldInfo> found;
        if (select.step()) {
            if (auto kind = kindFromCode(select.columnText(1))) {
                const auto id = static_cast<std::uint32_t>(select.columnInt(0));
                catalogue.remember(FieldEntry{id, std::string(keyword), *kind});
                found = FieldInfo{id, *kind};
            }
        }
        select.reset();
        return found;
    }

    std::optional<std::string> keyword(Connection& db, std::uint32_t id) {
        if (auto known = catalogue.keywordOf(id)) return known;
        auto& select = db.cached("SELECT keyword, kind FROM fields WHERE id = ?");
        select.bind(1, static_cast<std::int64_t>(id));
        std::optional<std::string> found;
        if (select.step()) {
            if (auto kind = kindFromCode(select.columnText(1))) {
                found = std::string(select.columnText(0));
                catalogue.remember(FieldEntry{id, *found, *kind});
            }
        }
        select.reset();
        return found;
    }

    sdk::QueryResponse run(Connection& db, const sdk::QueryRequest& request);
};

sdk::QueryResponse SqliteSearcher::Impl::run(Connection& db, const sdk::QueryRequest& request) {
    ReadTransaction transaction(db);
    const SqlQueryCompiler compiler([&](std::string_view k) { return field(db, k); });
    const CompiledSql compiled = compiler.compile(request.query);

    sdk::QueryResponse response;
    struct Hit {
        std::int64_t id;
        std::string uri;
    };
    std::vector<Hit> page;
    if (compiled.predicate != "0") {
        auto& select = db.cachedQuery("SELECT i.id, i.uri FROM instances i WHERE " + compiled.predicate +
                                      " ORDER BY i.id LIMIT ? OFFSET ?");
        select.bindAll(compiled.params);
        const int next = static_cast<int>(compiled.params.size()) + 1;
        select.bind(next, request.limit ? clampToInt64(*request.limit) : std::int64_t{-1});
        select.bind(next + 1, clampToInt64(request.offset));
        while (select.step()) page.push_back(Hit{select.columnInt(0), std::string(select.columnText(1))});
        select.reset();
        // A first page that is not full is the whole answer; otherwise count.
        if (request.offset == 0 && (!request.limit || page.size() < *request.limit)) {
            response.total = page.size();
        } else {
            auto& count = db.cachedQuery("SELECT count(*) FROM instances i WHERE " + compiled.predicate);
            count.bindAll(compiled.params);
            if (count.step()) response.total = static_cast<std::size_t>(count.columnInt(0));
            count.reset();
        }
    }

    const bool everything = request.fields.size() == 1 && request.fields.front() == "*";
    // Requested keywords by field id, resolved once per query.
    std::vector<const std::string*> wantedById;
    std::vector<const std::string*> dimDefaults;
    bool wantUri = false;
    if (!everything) {
        for (const auto& name : request.fields) {
            if (name == "uri") wantUri = true;
            if (isDimField(name)) dimDefaults.push_back(&name);
            if (auto info = field(db, name)) {
                if (wantedById.size() <= info->id) wantedById.resize(info->id + 1, nullptr);
                if (wantedById[info->id] == nullptr) wantedById[info->id] = &name;
            }
        }
    }
    std::vector<std::optional<std::string>> everyName;
    auto nameOf = [&](std::uint32_t id) -> const std::string* {
        if (everything) {
            if (everyName.size() <= id) everyName.resize(id + 1);
            if (!everyName[id]) everyName[id] = keyword(db, id).value_or(std::string());
            return everyName[id]->empty() ? nullptr : &*everyName[id];
        }
        return id < wantedById.size() ? wantedById[id] : nullptr;
    };
    const bool readRecords = everything || !wantedById.empty();

    response.results.reserve(page.size());
    for (auto& hit : page) {
        sdk::SearchResult result;
        result.uri = sdk::Uri::parse(hit.uri);
        if (readRecords) {
            auto& select = db.cached("SELECT data FROM records WHERE id = ?");
            select.bind(1, hit.id);
            if (!select.step()) throw Error(ErrorCode::Corrupted, "A record of the sqlite index is missing");
            RecordReader reader(select.columnText(0));
            std::uint32_t id = 0;
            std::string_view vr, value;
            while (reader.next(id, vr, value)) {
                // First occurrence wins: the top-level attribute or the first sequence item.
                if (const std::string* name = nameOf(id)) result.fields.try_emplace(*name, value);
            }
            const bool valid = reader.valid();
            select.reset();
            if (!valid) throw Error(ErrorCode::Corrupted, "A record of the sqlite index is damaged");
        }
        for (const std::string* name : dimDefaults) result.fields.try_emplace(*name);
        if (wantUri) result.fields.try_emplace("uri", hit.uri);
        response.results.push_back(std::move(result));
    }
    return response;
}

SqliteSearcher::SqliteSearcher(const std::filesystem::path& file, std::size_t maxPooled) : impl_(std::make_unique<Impl>()) {
    impl_->path = file;
    impl_->maxPooled = maxPooled;
}

SqliteSearcher::~SqliteSearcher() = default;

sdk::QueryResponse SqliteSearcher::search(const sdk::QueryRequest& request) {
    std::unique_ptr<Connection> db = impl_->acquire();
    try {
        auto response = impl_->run(*db, request);
        impl_->release(std::move(db));
        return response;
    } catch (const Error& e) {
        if (e.code() == ErrorCode::InvalidArgument) impl_->release(std::move(db));
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorCode::Internal, std::string("The sqlite index failed: ") + e.what());
    }
}

}  // namespace tessera::plugins::sqlite
