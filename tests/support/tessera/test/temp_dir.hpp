#pragma once
// A fresh directory under the system temp directory, removed with everything in it when the
// object goes. Canonical, so tests can compare it with paths the code under test resolved.

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace tessera::test {

class TempDir {
public:
    explicit TempDir(std::string_view prefix = "tessera-test-") {
        static std::atomic<unsigned> counter{0};
        std::random_device random;
        path_ = std::filesystem::temp_directory_path() /
                (std::string(prefix) + std::to_string(random()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
        path_ = std::filesystem::canonical(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace tessera::test
