#include "tessera/plugins/sqlite/sqlite_index.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/plugins/sqlite/field_catalogue.hpp"
#include "tessera/plugins/sqlite/record_builder.hpp"
#include "tessera/plugins/sqlite/sqlite_database.hpp"
#include "tessera/plugins/sqlite/sqlite_schema.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// An exclusive advisory lock on `<index>.lock`, held while the writer lives: SQLite would let
/// two writers take turns, but two catalogues assigning field ids would clash.
class WriterLock {
public:
    explicit WriterLock(const std::filesystem::path& file) {
        const std::string lockPath = file.string() + ".lock";
        fd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw Error(ErrorCode::Unavailable, "Cannot create the sqlite index lock file");
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw Error(ErrorCode::Unavailable, "The sqlite index is in use by another writer");
        }
    }
    ~WriterLock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the lock
    }
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

private:
    int fd_ = -1;
};

/// The statements of one hierarchy level, generated from kDimColumns (fixed identifiers).
struct LevelSql {
    std::vector<std::size_t> columns;  // indexes into kDimColumns
    std::size_t keyColumn = 0;
    std::string parent;  // "" for patients
    std::string select;  // -> id, parent
    std::string insert;  // parent?, columns... -> RETURNING id
    std::string update;  // ?1 parent?, columns..., last = id
    std::string prune;   // id -> RETURNING parent
};

LevelSql levelSql(Level level, std::string_view table, std::string_view parent, std::string_view child,
                  std::string_view childParent, std::size_t keyColumn) {
    LevelSql sql;
    sql.keyColumn = keyColumn;
    sql.parent = std::string(parent);
    std::vector<std::string> names;
    if (!parent.empty()) names.emplace_back(parent);
    for (std::size_t i = 0; i < kDimColumns.size(); ++i) {
        if (kDimColumns[i].level != level) continue;
        sql.columns.push_back(i);
        names.emplace_back(kDimColumns[i].column);
        if (kDimColumns[i].lowerCaseIndex) names.push_back(std::string(kDimColumns[i].column) + "_lc");
    }
    sql.select = "SELECT id, " + (parent.empty() ? std::string("0") : std::string(parent)) + " FROM " +
                 std::string(table) + " WHERE " + std::string(kDimColumns[keyColumn].column) + " = ?";
    std::string list, marks, sets, differs;
    for (std::size_t n = 0; n < names.size(); ++n) {
        std::string param(1, '?');  // not "?" + ...: GCC 12 warns falsely (-Wrestrict) on that
        param += std::to_string(n + 1);
        if (n > 0) {
            list += ", ";
            marks += ", ";
            sets += ", ";
            differs += " OR ";
        }
        list += names[n];
        marks += param;
        sets += names[n] + " = " + param;
        differs += names[n] + " IS NOT " + param;
    }
    sql.insert = "INSERT INTO " + std::string(table) + "(" + list + ") VALUES(" + marks + ") RETURNING id";
    // Rewritten only when something changed: most instances repeat their study's values.
    sql.update = "UPDATE " + std::string(table) + " SET " + sets + " WHERE id = ?" + std::to_string(names.size() + 1) +
                 " AND (" + differs + ")";
    sql.prune = "DELETE FROM " + std::string(table) + " WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM " +
                std::string(child) + " WHERE " + std::string(childParent) + " = ?1) RETURNING " +
                (parent.empty() ? std::string("0") : std::string(parent));
    return sql;
}

struct ExistingInstance {
    std::int64_t id = 0;
    std::int64_t series = 0;
};

}  // namespace

struct SqliteIndex::Impl {
    std::filesystem::path path;
    SqliteIndexOptions options;
    SqliteLogger logger;
    std::unique_ptr<WriterLock> lock;

    FieldCatalogue catalogue;

    mutable std::mutex writerMutex;  // guards everything below
    std::unique_ptr<Connection> db;
    bool inTransaction = false;
    std::size_t sinceCommit = 0;
    std::vector<FieldEntry> fieldsInTransaction;  // to queue again if the transaction is lost
    LevelSql patients, studies, series;

    void log(sdk::LogLevel level, std::string_view message) const {
        if (logger) logger(level, message);
    }

    void beginLocked();
    void commitLocked();
    void rollbackLocked();
    void persistFieldsLocked();
    void countWriteLocked();

    std::optional<ExistingInstance> findInstance(const std::string& uri);
    void deleteRows(std::int64_t doc, const RecordRows& rows);
    void insertRows(std::int64_t doc, const RecordRows& rows);
    void deleteRecordRows(std::int64_t doc);
    std::int64_t upsertLevel(const LevelSql& level, std::int64_t parent, const BuiltRecord& record);
    std::int64_t upsertHierarchy(const BuiltRecord& record);
    void pruneSeries(std::int64_t id);
    void writeRecord(const BuiltRecord& record);
    bool removeRecord(const std::string& uri);

    template <typename F>
    void inSavepoint(F&& f) {
        db->execute("SAVEPOINT record");
        try {
            f();
        } catch (...) {
            try {
                db->execute("ROLLBACK TO record");
                db->execute("RELEASE record");
            } catch (...) {
            }
            throw;
        }
        db->execute("RELEASE record");
    }
};

void SqliteIndex::Impl::beginLocked() {
    if (inTransaction) return;
    db->execute("BEGIN IMMEDIATE");
    inTransaction = true;
}

void SqliteIndex::Impl::persistFieldsLocked() {
    std::vector<FieldEntry> entries = catalogue.takePending();
    if (entries.empty()) return;
    try {
        beginLocked();
        auto& insert = db->cached("INSERT OR IGNORE INTO fields(id, keyword, kind) VALUES(?, ?, ?)");
        for (const auto& e : entries) {
            insert.bind(1, static_cast<std::int64_t>(e.id)).bind(2, e.keyword).bind(3, std::string(1, static_cast<char>(e.kind)));
            insert.run();
        }
    } catch (...) {
        catalogue.restorePending(std::move(entries));
        throw;
    }
    for (auto& e : entries) fieldsInTransaction.push_back(std::move(e));
}

void SqliteIndex::Impl::commitLocked() {
    if (!inTransaction) return;
    try {
        db->execute("COMMIT");
    } catch (...) {
        rollbackLocked();
        throw;
    }
    inTransaction = false;
    sinceCommit = 0;
    fieldsInTransaction.clear();
}

void SqliteIndex::Impl::rollbackLocked() {
    try {
        db->execute("ROLLBACK");
    } catch (...) {
        // SQLite may have rolled back by itself already.
    }
    inTransaction = false;
    sinceCommit = 0;
    // Records being built may already use these ids: keep them, write them again.
    catalogue.restorePending(std::move(fieldsInTransaction));
    fieldsInTransaction.clear();
}

void SqliteIndex::Impl::countWriteLocked() {
    if (options.commitEvery != 0 && ++sinceCommit >= options.commitEvery) commitLocked();
}

std::optional<ExistingInstance> SqliteIndex::Impl::findInstance(const std::string& uri) {
    auto& select = db->cached("SELECT id, series FROM instances WHERE uri = ?");
    select.bind(1, uri);
    std::optional<ExistingInstance> found;
    if (select.step()) found = ExistingInstance{select.columnInt(0), select.columnInt(1)};
    select.reset();
    return found;
}

void SqliteIndex::Impl::insertRows(std::int64_t doc, const RecordRows& rows) {
    auto& value = db->cached("INSERT OR IGNORE INTO value_index(field, value, doc) VALUES(?, ?, ?)");
    for (const auto& [field, text] : rows.values) {
        value.bind(1, static_cast<std::int64_t>(field)).bind(2, text).bind(3, doc);
        value.run();
    }
    auto& word = db->cached("INSERT OR IGNORE INTO word_index(field, word, doc) VALUES(?, ?, ?)");
    for (const auto& [field, text] : rows.words) {
        word.bind(1, static_cast<std::int64_t>(field)).bind(2, text).bind(3, doc);
        word.run();
    }
    auto& key = db->cached("INSERT OR IGNORE INTO key_index(field, key, doc) VALUES(?, ?, ?)");
    for (const auto& [field, k] : rows.keys) {
        key.bind(1, static_cast<std::int64_t>(field)).bind(3, doc);
        if (const double* number = std::get_if<double>(&k)) key.bind(2, *number);
        else key.bind(2, std::string_view(std::get<std::string>(k)));
        key.run();
    }
    auto& text = db->cached("INSERT OR IGNORE INTO text_index(word, doc) VALUES(?, ?)");
    for (const auto& w : rows.textWords) {
        text.bind(1, w).bind(2, doc);
        text.run();
    }
    auto& phrase = db->cached("INSERT INTO phrase_index(doc, field, seq, free, words) VALUES(?, ?, ?, ?, ?)");
    std::int64_t seq = 0;
    for (const auto& p : rows.phrases) {
        phrase.bind(1, doc)
            .bind(2, static_cast<std::int64_t>(p.field))
            .bind(3, seq++)
            .bind(4, static_cast<std::int64_t>(p.freeText ? 1 : 0))
            .bind(5, p.words);
        phrase.run();
    }
}

void SqliteIndex::Impl::deleteRows(std::int64_t doc, const RecordRows& rows) {
    auto& value = db->cached("DELETE FROM value_index WHERE field = ? AND value = ? AND doc = ?");
    for (const auto& [field, text] : rows.values) {
        value.bind(1, static_cast<std::int64_t>(field)).bind(2, text).bind(3, doc);
        value.run();
    }
    auto& word = db->cached("DELETE FROM word_index WHERE field = ? AND word = ? AND doc = ?");
    for (const auto& [field, text] : rows.words) {
        word.bind(1, static_cast<std::int64_t>(field)).bind(2, text).bind(3, doc);
        word.run();
    }
    auto& key = db->cached("DELETE FROM key_index WHERE field = ? AND key = ? AND doc = ?");
    for (const auto& [field, k] : rows.keys) {
        key.bind(1, static_cast<std::int64_t>(field)).bind(3, doc);
        if (const double* number = std::get_if<double>(&k)) key.bind(2, *number);
        else key.bind(2, std::string_view(std::get<std::string>(k)));
        key.run();
    }
    auto& text = db->cached("DELETE FROM text_index WHERE word = ? AND doc = ?");
    for (const auto& w : rows.textWords) {
        text.bind(1, w).bind(2, doc);
        text.run();
    }
    auto& phrase = db->cached("DELETE FROM phrase_index WHERE doc = ?");
    phrase.bind(1, doc);
    phrase.run();
}

void SqliteIndex::Impl::deleteRecordRows(std::int64_t doc) {
    auto& select = db->cached("SELECT data FROM records WHERE id = ?");
    select.bind(1, doc);
    RecordRows rows;
    bool damaged = false;
    try {
        if (select.step()) rows = rowsOfStoredRecord(select.columnText(0), catalogue);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Corrupted) throw;
        damaged = true;
    }
    select.reset();
    if (!damaged) {
        deleteRows(doc, rows);
        return;
    }
    // The rows cannot be recomputed: find them the slow way, by scanning, rather than leave
    // stale rows that would match queries.
    log(sdk::LogLevel::Warning, "A damaged record in the sqlite index is removed by a full scan");
    for (const char* sql : {"DELETE FROM value_index WHERE doc = ?", "DELETE FROM word_index WHERE doc = ?",
                            "DELETE FROM key_index WHERE doc = ?", "DELETE FROM text_index WHERE doc = ?",
                            "DELETE FROM phrase_index WHERE doc = ?"}) {
        auto& remove = db->cached(sql);
        remove.bind(1, doc);
        remove.run();
    }
}

std::int64_t SqliteIndex::Impl::upsertLevel(const LevelSql& level, std::int64_t parent, const BuiltRecord& record) {
    const std::string key = record.dim[level.keyColumn].value_or(std::string());
    auto bindColumns = [&](Statement& statement) {
        int n = 1;
        if (!level.parent.empty()) statement.bind(n++, parent);
        for (std::size_t c : level.columns) {
            const auto& value = record.dim[c];
            // The key is never NULL: objects without one share the "" row of their level.
            if (c == level.keyColumn) statement.bind(n++, key);
            else if (value) statement.bind(n++, *value);
            else statement.bindNull(n++);
            if (kDimColumns[c].lowerCaseIndex) {
                if (value) statement.bind(n++, xapian::lowerCase(*value));
                else statement.bindNull(n++);
            }
        }
        return n;
    };
    auto& select = db->cached(level.select);
    select.bind(1, key);
    std::optional<std::pair<std::int64_t, std::int64_t>> existing;
    if (select.step()) existing = std::make_pair(select.columnInt(0), select.columnInt(1));
    select.reset();
    if (!existing) {
        auto& insert = db->cached(level.insert);
        bindColumns(insert);
        if (!insert.step()) throw Error(ErrorCode::Internal, "Inserting into the hierarchy returned no id");
        const std::int64_t id = insert.columnInt(0);
        insert.reset();
        return id;
    }
    auto& update = db->cached(level.update);
    const int idParam = bindColumns(update);
    update.bind(idParam, existing->first);
    update.run();
    // The level moved to another parent (conflicting data): the old parent may be empty now.
    if (!level.parent.empty() && existing->second != parent) {
        if (&level == &series) {
            auto& prune = db->cached(studies.prune);
            prune.bind(1, existing->second);
            std::optional<std::int64_t> patient;
            if (prune.step()) patient = prune.columnInt(0);
            prune.reset();
            if (patient) {
                auto& prunePatient = db->cached(patients.prune);
                prunePatient.bind(1, *patient);
                prunePatient.run();
            }
        } else {
            auto& prunePatient = db->cached(patients.prune);
            prunePatient.bind(1, existing->second);
            prunePatient.run();
        }
    }
    return existing->first;
}

std::int64_t SqliteIndex::Impl::upsertHierarchy(const BuiltRecord& record) {
    const std::int64_t patient = upsertLevel(patients, 0, record);
    const std::int64_t study = upsertLevel(studies, patient, record);
    return upsertLevel(series, study, record);
}

void SqliteIndex::Impl::pruneSeries(std::int64_t id) {
    std::optional<std::int64_t> study, patient;
    auto& pruneSeries = db->cached(series.prune);
    pruneSeries.bind(1, id);
    if (pruneSeries.step()) study = pruneSeries.columnInt(0);
    pruneSeries.reset();
    if (!study) return;
    auto& pruneStudy = db->cached(studies.prune);
    pruneStudy.bind(1, *study);
    if (pruneStudy.step()) patient = pruneStudy.columnInt(0);
    pruneStudy.reset();
    if (!patient) return;
    auto& prunePatient = db->cached(patients.prune);
    prunePatient.bind(1, *patient);
    prunePatient.run();
}

void SqliteIndex::Impl::writeRecord(const BuiltRecord& record) {
    const auto existing = findInstance(record.uri);
    if (existing) deleteRecordRows(existing->id);
    const std::int64_t seriesId = upsertHierarchy(record);
    const std::size_t sop = dimColumnIndex("SOPInstanceUID");
    const std::size_t number = dimColumnIndex("InstanceNumber");
    auto bindOptional = [](Statement& s, int n, const std::optional<std::string>& v) {
        if (v) s.bind(n, *v);
        else s.bindNull(n);
    };
    std::int64_t doc = 0;
    if (existing) {
        // Updated in place: the record keeps its id, hence its place in the result order.
        doc = existing->id;
        auto& update = db->cached("UPDATE instances SET series = ?, sop_instance_uid = ?, instance_number = ? WHERE id = ?");
        update.bind(1, seriesId);
        bindOptional(update, 2, record.dim[sop]);
        bindOptional(update, 3, record.dim[number]);
        update.bind(4, doc);
        update.run();
        auto& data = db->cached("UPDATE records SET data = ? WHERE id = ?");
        data.bindBlob(1, record.data).bind(2, doc);
        data.run();
    } else {
        auto& insert = db->cached("INSERT INTO instances(uri, series, sop_instance_uid, instance_number) VALUES(?, ?, ?, ?)");
        insert.bind(1, record.uri).bind(2, seriesId);
        bindOptional(insert, 3, record.dim[sop]);
        bindOptional(insert, 4, record.dim[number]);
        insert.run();
        doc = db->lastInsertRowid();
        auto& data = db->cached("INSERT INTO records(id, data) VALUES(?, ?)");
        data.bind(1, doc).bindBlob(2, record.data);
        data.run();
    }
    insertRows(doc, record.rows);
    if (existing && existing->series != seriesId) pruneSeries(existing->series);
}

bool SqliteIndex::Impl::removeRecord(const std::string& uri) {
    const auto existing = findInstance(uri);
    if (!existing) return false;
    deleteRecordRows(existing->id);
    auto& data = db->cached("DELETE FROM records WHERE id = ?");
    data.bind(1, existing->id);
    data.run();
    auto& instance = db->cached("DELETE FROM instances WHERE id = ?");
    instance.bind(1, existing->id);
    instance.run();
    pruneSeries(existing->series);
    return true;
}

SqliteIndex::SqliteIndex(const std::filesystem::path& file, SqliteIndexOptions options, SqliteLogger logger)
    : impl_(std::make_unique<Impl>()) {
    impl_->path = file;
    impl_->options = options;
    impl_->logger = std::move(logger);
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot create the index directory: " + ec.message());
    impl_->lock = std::make_unique<WriterLock>(file);
    impl_->db = std::make_unique<Connection>(file, OpenMode::ReadWriteCreate);
    Connection& db = *impl_->db;
    {
        // WAL: readers see the last commit and never wait for the writer.
        auto& mode = db.cached("PRAGMA journal_mode = WAL");
        const bool wal = mode.step() && mode.columnText(0) == "wal";
        mode.reset();
        if (!wal) throw Error(ErrorCode::Unavailable, "The sqlite index cannot use write-ahead logging");
    }
    // FULL: a commit is durable once commit() returns (the host calls it at the end of a task).
    db.execute("PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536");
    db.execute("BEGIN IMMEDIATE");
    try {
        db.execute(schemaSql());
        auto& layout = db.cached("SELECT value FROM meta WHERE key = 'layout'");
        std::optional<std::string> found;
        if (layout.step()) found = std::string(layout.columnText(0));
        layout.reset();
        if (!found) {
            auto& count = db.cached("SELECT (SELECT count(*) FROM instances) + (SELECT count(*) FROM fields)");
            const bool empty = count.step() && count.columnInt(0) == 0;
            count.reset();
            if (!empty) throw Error(ErrorCode::Unavailable, "The sqlite index has no layout marker: delete it and re-index");
            auto& mark = db.cached("INSERT INTO meta(key, value) VALUES('layout', ?)");
            mark.bind(1, kLayoutVersion);
            mark.run();
        } else if (*found != kLayoutVersion) {
            throw Error(ErrorCode::Unavailable, "The sqlite index was written in layout " + *found + ", this plugin reads layout " +
                                                    std::string(kLayoutVersion) + ": delete it (setting 'path') and re-index");
        }
        auto& fields = db.cached("SELECT id, keyword, kind FROM fields");
        while (fields.step()) {
            const auto kind = kindFromCode(fields.columnText(2));
            if (!kind) continue;
            impl_->catalogue.remember(
                FieldEntry{static_cast<std::uint32_t>(fields.columnInt(0)), std::string(fields.columnText(1)), *kind});
        }
        fields.reset();
        db.execute("COMMIT");
    } catch (...) {
        try {
            db.execute("ROLLBACK");
        } catch (...) {
        }
        throw;
    }
    impl_->patients = levelSql(Level::Patient, "patients", "", "studies", "patient", kPatientKeyColumn);
    impl_->studies = levelSql(Level::Study, "studies", "patient", "series", "study", kStudyKeyColumn);
    impl_->series = levelSql(Level::Series, "series", "study", "instances", "series", kSeriesKeyColumn);
}

SqliteIndex::~SqliteIndex() {
    try {
        std::lock_guard lock(impl_->writerMutex);
        impl_->commitLocked();
        // Fold the log back into the database so the file alone is the whole index.
        impl_->db->execute("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        impl_->log(sdk::LogLevel::Error, std::string("Closing the sqlite index failed: ") + e.what());
    } catch (...) {
        impl_->log(sdk::LogLevel::Error, "Closing the sqlite index failed");
    }
}

sdk::IndexReport SqliteIndex::index(std::span<const sdk::IndexItem> batch) {
    sdk::IndexReport report;
    // Building rows (case folding, word splitting) needs no lock: build first, then write.
    std::vector<BuiltRecord> built;
    built.reserve(batch.size());
    for (const auto& item : batch) {
        try {
            built.push_back(buildRecord(item, impl_->catalogue));
        } catch (const std::exception& e) {
            ++report.errors;
            impl_->log(sdk::LogLevel::Warning, "Not indexed: " + item.uri.str() + ": " + e.what());
        }
    }
    std::lock_guard lock(impl_->writerMutex);
    try {
        impl_->beginLocked();
        impl_->persistFieldsLocked();
    } catch (const Error& e) {
        throw Error(ErrorCode::Unavailable, std::string("Writing the sqlite index failed: ") + e.what());
    }
    for (const auto& record : built) {
        try {
            impl_->beginLocked();  // an automatic commit may have closed the transaction
            impl_->persistFieldsLocked();
            impl_->inSavepoint([&] { impl_->writeRecord(record); });
            ++report.indexed;
            impl_->countWriteLocked();
        } catch (const std::exception& e) {
            ++report.errors;
            impl_->log(sdk::LogLevel::Error, "Writing to the sqlite index failed: " + record.uri + ": " + e.what());
        }
    }
    return report;
}

sdk::UnindexReport SqliteIndex::unindex(std::span<const sdk::Uri> uris) {
    sdk::UnindexReport report;
    std::lock_guard lock(impl_->writerMutex);
    for (const auto& uri : uris) {
        try {
            impl_->beginLocked();
            bool removed = false;
            impl_->inSavepoint([&] { removed = impl_->removeRecord(uri.str()); });
            if (!removed) {
                ++report.notFound;
                continue;
            }
            ++report.removed;
            impl_->countWriteLocked();
        } catch (const std::exception& e) {
            ++report.failed;
            impl_->log(sdk::LogLevel::Error, "Removing from the sqlite index failed: " + uri.str() + ": " + e.what());
        }
    }
    return report;
}

void SqliteIndex::commit() {
    std::lock_guard lock(impl_->writerMutex);
    try {
        impl_->persistFieldsLocked();  // fields of records that all failed are written too
        impl_->commitLocked();
    } catch (const Error& e) {
        throw Error(ErrorCode::Unavailable, std::string("Committing the sqlite index failed: ") + e.what());
    }
}

std::size_t SqliteIndex::documentCount() const {
    std::lock_guard lock(impl_->writerMutex);
    auto& count = impl_->db->cached("SELECT count(*) FROM instances");
    const std::size_t n = count.step() ? static_cast<std::size_t>(count.columnInt(0)) : 0;
    count.reset();
    return n;
}

const std::filesystem::path& SqliteIndex::path() const noexcept { return impl_->path; }

}  // namespace tessera::plugins::sqlite
