#include "tessera/plugins/xapian/shard_layout.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

using sdk::Error;
using sdk::ErrorCode;

void log(const XapianLogger& logger, sdk::LogLevel level, const std::string& message) {
    if (logger) logger(level, message);
}

std::size_t readShardCount(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) throw Error(ErrorCode::Corrupted, "Cannot read " + file.string());
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.pop_back();
    std::size_t count = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || count == 0 || count > kMaxShards)
        throw Error(ErrorCode::Corrupted, "The xapian shard count file " + file.string() + " holds '" + value +
                                              "', not a count from 1 to " + std::to_string(kMaxShards));
    return count;
}

// Written to a temporary name and renamed, so that a crash leaves either no count or a whole one.
void writeShardCount(const std::filesystem::path& file, std::size_t count) {
    const auto temporary = file.parent_path() / (file.filename().string() + ".tmp");
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << count << '\n';
        out.flush();
        if (!out) throw Error(ErrorCode::Unavailable, "Cannot write " + temporary.string());
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot write " + file.string() + ": " + ec.message());
}

}  // namespace


std::size_t shardOf(std::string_view uri, std::size_t shardCount) noexcept {
    return shardCount <= 1 ? 0 : static_cast<std::size_t>(fnv1a64(uri) % shardCount);
}

std::size_t defaultShardCount() noexcept {
    const unsigned threads = std::thread::hardware_concurrency();
    return threads <= 1 ? 1 : std::min<std::size_t>(threads, 4);
}

ShardLayout resolveShardLayout(const std::filesystem::path& root, std::size_t requested, const XapianLogger& logger) {
    if (requested > kMaxShards)
        throw Error(ErrorCode::InvalidArgument, "xapian: at most " + std::to_string(kMaxShards) + " shards");
    const std::size_t wanted = requested == 0 ? defaultShardCount() : requested;
    const auto countFile = root / kShardCountFile;
    ShardLayout layout;
    std::error_code ec;
    if (std::filesystem::exists(countFile, ec)) {
        const std::size_t stored = readShardCount(countFile);
        if (requested != 0 && stored != requested)
            log(logger, sdk::LogLevel::Warning,
                "xapian: the index at " + root.string() + " has " + std::to_string(stored) +
                    " shards; the setting asks for " + std::to_string(requested) +
                    ", which only applies to a new index (re-index into an empty directory to change it)");
        for (std::size_t i = 0; i < stored; ++i) layout.directories.push_back(root / ("shard-" + std::to_string(i)));
        return layout;
    }
    if (std::filesystem::exists(root / "iamglass", ec)) {
        // An index written before shards existed: kept as it is, one shard, no rebuild.
        if (wanted != 1)
            log(logger, sdk::LogLevel::Information,
                "xapian: the index at " + root.string() +
                    " is unsharded and stays one shard (re-index into an empty directory to shard it)");
        layout.directories.push_back(root);
        layout.unsharded = true;
        return layout;
    }
    if (wanted == 1) {
        // One shard is the unsharded layout itself: nothing to record, readable by older builds.
        layout.directories.push_back(root);
        layout.unsharded = true;
        return layout;
    }
    std::filesystem::create_directories(root, ec);
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot create the index directory: " + ec.message());
    // The count first: shard directories never exist without it.
    writeShardCount(countFile, wanted);
    for (std::size_t i = 0; i < wanted; ++i) layout.directories.push_back(root / ("shard-" + std::to_string(i)));
    return layout;
}

}  // namespace tessera::plugins::xapian
