#pragma once
// Small helpers the in-process benches share: CPU time, index size on disk, and the first files
// of a corpus manifest (bench/corpus.sh writes it: a header line, then the path relative to the
// corpus directory in the first tab-separated column).

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace tessera::bench {

/// CPU seconds this process used (all threads). On a shared machine wall time varies with the
/// neighbours; CPU time shows the work itself.
inline double processCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto toSeconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return toSeconds(usage.ru_utime) + toSeconds(usage.ru_stime);
}

/// Bytes of the regular files under `dir`, recursively.
inline std::uintmax_t directoryBytes(const std::filesystem::path& dir) {
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) total += entry.file_size();
    return total;
}

/// The first `n` files a corpus manifest lists, as paths under `corpus`, in manifest order;
/// nullopt when the manifest cannot be read.
inline std::optional<std::vector<std::filesystem::path>> manifestFiles(const std::filesystem::path& corpus,
                                                                       const std::filesystem::path& manifest,
                                                                       std::size_t n) {
    std::ifstream in(manifest);
    if (!in) return std::nullopt;
    std::vector<std::filesystem::path> files;
    std::string line;
    std::getline(in, line);  // header
    while (files.size() < n && std::getline(in, line)) files.push_back(corpus / line.substr(0, line.find('\t')));
    return files;
}

}  // namespace tessera::bench
