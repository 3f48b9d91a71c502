#include "tessera/plugins/xapian/xapian_provider.hpp"

#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

[[noreturn]] void notOpen() { throw sdk::Error(sdk::ErrorCode::Unavailable, "The xapian index is not open"); }

}  // namespace

XapianProvider::XapianProvider(sdk::HostServices* host) : host_(host) {}

XapianProvider::~XapianProvider() = default;

void XapianProvider::open(const std::filesystem::path& path, XapianIndexOptions options) {
    close();
    XapianLogger logger;
    if (host_ != nullptr) logger = [host = host_](sdk::LogLevel level, std::string_view message) { host->log(level, message); };
    // The writer first: it creates the database the searcher reads.
    index_ = std::make_unique<XapianIndex>(path, options, std::move(logger));
    searcher_ = std::make_unique<XapianSearcher>(path);
}

void XapianProvider::close() {
    searcher_.reset();
    index_.reset();
}

sdk::IndexReport XapianProvider::index(std::span<const sdk::IndexItem> batch) {
    if (!index_) notOpen();
    return index_->index(batch);
}

sdk::UnindexReport XapianProvider::unindex(std::span<const sdk::Uri> uris) {
    if (!index_) notOpen();
    return index_->unindex(uris);
}

void XapianProvider::commit() {
    if (!index_) notOpen();
    index_->commit();
}

sdk::QueryResponse XapianProvider::query(const sdk::QueryRequest& request) {
    if (!searcher_) notOpen();
    return searcher_->search(request);
}

}  // namespace tessera::plugins::xapian
