#include "tessera/plugins/sqlite/sqlite_provider.hpp"

#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

[[noreturn]] void notOpen() { throw sdk::Error(sdk::ErrorCode::Unavailable, "The sqlite index is not open"); }

}  // namespace

SqliteProvider::SqliteProvider(sdk::HostServices* host) : host_(host) {}

SqliteProvider::~SqliteProvider() = default;

void SqliteProvider::open(const std::filesystem::path& file, SqliteIndexOptions options) {
    close();
    SqliteLogger logger;
    if (host_ != nullptr) logger = [host = host_](sdk::LogLevel level, std::string_view message) { host->log(level, message); };
    // The writer first: it creates the schema the searcher reads.
    index_ = std::make_unique<SqliteIndex>(file, options, std::move(logger));
    searcher_ = std::make_unique<SqliteSearcher>(file);
}

void SqliteProvider::close() {
    searcher_.reset();
    index_.reset();
}

sdk::IndexReport SqliteProvider::index(std::span<const sdk::IndexItem> batch) {
    if (!index_) notOpen();
    return index_->index(batch);
}

sdk::UnindexReport SqliteProvider::unindex(std::span<const sdk::Uri> uris) {
    if (!index_) notOpen();
    return index_->unindex(uris);
}

void SqliteProvider::commit() {
    if (!index_) notOpen();
    index_->commit();
}

sdk::QueryResponse SqliteProvider::query(const sdk::QueryRequest& request) {
    if (!searcher_) notOpen();
    return searcher_->search(request);
}

}  // namespace tessera::plugins::sqlite
