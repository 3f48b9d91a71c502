#include "tessera/plugins/file/file_storage.hpp"

#include <catch2/catch.hpp>

#include "tessera/core/memory_settings_section.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tessera/sdk/deferred_durability_storage.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/sdk/plugin_export.hpp"
#include "tessera/test/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using tessera::plugins::file::FileStorage;
using tessera::sdk::Error;
using tessera::sdk::ErrorCode;
using tessera::sdk::StorageItem;
using tessera::sdk::Uri;

// A fresh directory under the system temp dir, removed with everything in it.
using tessera::test::TempDir;

// The store only reads UIDs from the view, so a map is a faithful stand-in here.
class MapView : public tessera::sdk::DicomObjectView {
public:
    explicit MapView(std::map<std::string, std::string, std::less<>> values) : values_(std::move(values)) {}
    std::optional<std::string> get(std::string_view keyword) const override {
        const auto it = values_.find(keyword);
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    void forEachAttribute(const std::function<void(const tessera::sdk::DicomAttribute&)>& visit) const override {
        for (const auto& [keyword, value] : values_) visit({0, keyword, "UI", value});
    }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

MapView instance(const std::string& study, const std::string& series, const std::string& sop) {
    return MapView({{"StudyInstanceUID", study}, {"SeriesInstanceUID", series}, {"SOPInstanceUID", sop}});
}

std::vector<std::uint8_t> bytesOf(const std::string& text) {
    return {text.begin(), text.end()};
}

std::string readAll(std::istream& in) {
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.is_open());
    return readAll(in);
}

void writeFile(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    REQUIRE(out.good());
}

// "none" when the call did not throw, else the code's name; Catch prints both sides readably.
template <class Call>
std::string errorOf(Call&& call) {
    try {
        call();
    } catch (const Error& error) {
        return std::string(tessera::sdk::toString(error.code()));
    }
    return "none";
}

std::string fileUri(const fs::path& path) {
    return "file:" + path.string();
}

std::vector<std::string> enumerateAll(FileStorage& storage, const Uri& root) {
    std::vector<std::string> uris;
    storage.enumerate(root, [&](const StorageItem& item) {
        uris.push_back(item.uri.str());
        return true;
    });
    std::sort(uris.begin(), uris.end());
    return uris;
}

std::vector<fs::path> filesUnder(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) files.push_back(entry.path());
    return files;
}

bool hasTempFile(const fs::path& dir) {
    const auto files = filesUnder(dir);
    return std::any_of(files.begin(), files.end(),
                       [](const fs::path& p) { return p.filename().string().find(".tmp-") != std::string::npos; });
}

}  // namespace

TEST_CASE("store writes the exact bytes at the Study/Series/SOP layout and open() reads them back", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path() / "archive");
    const auto bytes = bytesOf(std::string("DICM\0\x01\x02 binary \xff payload", 24));

    const auto uri = storage.store(instance("1.2.3", "1.2.3.4", "1.2.3.4.5"), bytes);

    const auto expected = temp.path() / "archive" / "1.2.3" / "1.2.3.4" / "1.2.3.4.5.dcm";
    CHECK(uri.str() == fileUri(expected));
    REQUIRE(fs::is_regular_file(expected));
    CHECK(readFile(expected) == std::string(bytes.begin(), bytes.end()));
    auto stream = storage.open(uri);
    CHECK(readAll(*stream) == std::string(bytes.begin(), bytes.end()));
    CHECK_FALSE(hasTempFile(temp.path()));
    CHECK(storage.name() == "file");
    CHECK(storage.scheme() == "file");
    CHECK(storage.handles(Uri::parse("FILE:/x")));
    CHECK_FALSE(storage.handles(Uri::parse("s3://bucket/x")));
}

TEST_CASE("a real sample round-trips byte for byte under its manifest UIDs", "[file_storage]") {
    const fs::path samples(TESSERA_SAMPLES_DIR);
    std::ifstream manifest(samples / "MANIFEST.tsv");
    REQUIRE(manifest.is_open());
    const auto splitTabs = [](const std::string& line) {
        std::vector<std::string> cells;
        std::size_t start = 0;
        for (auto tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
            cells.push_back(line.substr(start, tab - start));
            start = tab + 1;
        }
        cells.push_back(line.substr(start));
        return cells;
    };
    std::string line;
    std::getline(manifest, line);
    const auto header = splitTabs(line);
    const auto column = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    std::map<std::string, std::string, std::less<>> uids;
    while (std::getline(manifest, line)) {
        const auto cells = splitTabs(line);
        if (cells.size() != header.size() || cells[column("file")] != "images/CT_small.dcm") continue;
        for (const char* key : {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"})
            uids[key] = cells[column(key)];
    }
    REQUIRE(uids.size() == 3);
    const auto original = readFile(samples / "images" / "CT_small.dcm");

    TempDir temp;
    FileStorage storage(temp.path());
    const auto uri = storage.store(MapView(uids), std::vector<std::uint8_t>(original.begin(), original.end()));

    CHECK(uri.str() == fileUri(temp.path() / uids["StudyInstanceUID"] / uids["SeriesInstanceUID"] /
                               (uids["SOPInstanceUID"] + ".dcm")));
    CHECK(readAll(*storage.open(uri)) == original);
    CHECK(enumerateAll(storage, Uri::parse(fileUri(temp.path()))) == std::vector<std::string>{uri.str()});
}

TEST_CASE("storing the same SOP Instance UID again replaces the file", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    const auto view = instance("1.2", "1.2.3", "1.2.3.4");
    const auto first = storage.store(view, bytesOf("first version, longer than the second"));
    const auto second = storage.store(view, bytesOf("second"));

    CHECK(first == second);
    CHECK(readAll(*storage.open(second)) == "second");
    CHECK(filesUnder(temp.path() / "1.2" / "1.2.3").size() == 1);
}

TEST_CASE("store refuses missing or malformed UIDs and empty data, writing nothing", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    const auto bytes = bytesOf("data");

    CHECK(errorOf([&] {
              storage.store(MapView({{"StudyInstanceUID", "1"}, {"SeriesInstanceUID", "2"}}), bytes);
          }) == "invalid-argument");
    CHECK(errorOf([&] {
              storage.store(MapView({{"SeriesInstanceUID", "2"}, {"SOPInstanceUID", "3"}}), bytes);
          }) == "invalid-argument");
    CHECK(errorOf([&] { storage.store(instance("1", "", "3"), bytes); }) == "invalid-argument");
    for (const std::string& bad : std::vector<std::string>{"..", ".", "1..2", ".1", "1.", "1.2.a", "1/2", "1.2 ",
                                                           "../../etc", "1%2e2", std::string(65, '1')}) {
        CAPTURE(bad);
        CHECK(errorOf([&] { storage.store(instance(bad, "1.2", "1.2.3"), bytes); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.store(instance("1.2", bad, "1.2.3"), bytes); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.store(instance("1.2", "1.2.3", bad), bytes); }) == "invalid-argument");
    }
    CHECK(errorOf([&] { storage.store(instance("1", "2", "3"), {}); }) == "invalid-argument");
    CHECK(filesUnder(temp.path()).empty());

    // 64 characters is the DICOM maximum and still fine.
    const std::string longest = "1." + std::string(62, '9');
    CHECK(errorOf([&] { storage.store(instance("1", "2", longest), bytes); }) == "none");
}

TEST_CASE("a store root with spaces gives percent-encoded URIs that round-trip", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path() / "my archive");
    const auto uri = storage.store(instance("1.2", "1.3", "1.4"), bytesOf("spaced"));

    CHECK(uri.str().find("my%20archive/1.2/1.3/1.4.dcm") != std::string::npos);
    CHECK(uri.str().find(' ') == std::string::npos);
    CHECK(readAll(*storage.open(uri)) == "spaced");
    CHECK(FileStorage::toUri("/a b/c#d?e%f").str() == "file:/a%20b/c%23d%3Fe%25f");
    CHECK(*FileStorage::toUri("/a b/c#d?e%f").decodedPath() == "/a b/c#d?e%f");
}

TEST_CASE("file:/p, file:///p and file://localhost/p name the same file, other hosts are refused", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    writeFile(temp.path() / "a.dcm", "A");
    const auto path = temp.path().string();

    CHECK(readAll(*storage.open(Uri::parse("file:" + path + "/a.dcm"))) == "A");
    CHECK(readAll(*storage.open(Uri::parse("file://" + path + "/a.dcm"))) == "A");
    CHECK(readAll(*storage.open(Uri::parse("file://localhost" + path + "/a.dcm"))) == "A");
    CHECK(readAll(*storage.open(Uri::parse("file://LOCALHOST" + path + "/a.dcm"))) == "A");
    CHECK(errorOf([&] { storage.open(Uri::parse("file://elsewhere" + path + "/a.dcm")); }) == "forbidden");
}

TEST_CASE("enumerate walks a nested tree, yields a single file, stops early and reports a missing root",
          "[file_storage]") {
    TempDir temp;
    const auto root = temp.path() / "data";
    FileStorage storage(temp.path() / "store", {root});
    writeFile(root / "top.dcm", "1");
    writeFile(root / "a" / "b" / "deep.dcm", "22");
    writeFile(root / "a" / "b" / "c" / "deeper.dcm", "333");
    writeFile(root / "a" / "with space.dcm", "4444");
    writeFile(root / "a" / "x.dcm.tmp-0123456789abcdef", "half-written");  // the store's temp shape
    writeFile(root / "a" / "notes.tmp-keep", "a user's own file");
    fs::create_directories(root / "empty" / "dir");

    SECTION("every regular file of the tree, with sizes, skipping the store's temporary files") {
        std::map<std::string, std::uint64_t> seen;
        storage.enumerate(Uri::parse(fileUri(root)), [&](const StorageItem& item) {
            seen[item.uri.str()] = item.size;
            return true;
        });
        const std::map<std::string, std::uint64_t> expected{
            {fileUri(root / "top.dcm"), 1},
            {fileUri(root / "a" / "b" / "deep.dcm"), 2},
            {fileUri(root / "a" / "b" / "c" / "deeper.dcm"), 3},
            {fileUri(root / "a") + "/with%20space.dcm", 4},
            {fileUri(root / "a" / "notes.tmp-keep"), 17},
        };
        CHECK(seen == expected);
        // Every URI listed opens.
        for (const auto& [uri, size] : seen) CHECK(readAll(*storage.open(Uri::parse(uri))).size() == size);
    }
    SECTION("a file URI yields itself") {
        CHECK(enumerateAll(storage, Uri::parse(fileUri(root / "a" / "b" / "deep.dcm"))) ==
              std::vector<std::string>{fileUri(root / "a" / "b" / "deep.dcm")});
    }
    SECTION("visit returning false stops the walk") {
        int calls = 0;
        storage.enumerate(Uri::parse(fileUri(root)), [&](const StorageItem&) {
            ++calls;
            return false;
        });
        CHECK(calls == 1);
    }
    SECTION("an empty directory yields nothing") {
        CHECK(enumerateAll(storage, Uri::parse(fileUri(root / "empty"))).empty());
    }
    SECTION("a missing root is NotFound") {
        CHECK(errorOf([&] { enumerateAll(storage, Uri::parse(fileUri(root / "missing"))); }) == "not-found");
    }
    SECTION("a path outside the roots is Forbidden even when missing") {
        CHECK(errorOf([&] { enumerateAll(storage, Uri::parse(fileUri(temp.path() / "missing"))); }) == "forbidden");
        CHECK(errorOf([&] { enumerateAll(storage, Uri::parse(fileUri(temp.path()))); }) == "forbidden");
    }
}

TEST_CASE("open of a missing file is NotFound, of a directory InvalidArgument", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    CHECK(errorOf([&] { storage.open(Uri::parse(fileUri(temp.path() / "missing.dcm"))); }) == "not-found");
    CHECK(errorOf([&] { storage.open(Uri::parse(fileUri(temp.path() / "no" / "such" / "dir.dcm"))); }) == "not-found");
    CHECK(errorOf([&] { storage.open(Uri::parse(fileUri(temp.path()))); }) == "invalid-argument");
}

TEST_CASE("URIs that leave the roots are refused", "[file_storage]") {
    TempDir temp;
    const auto root = temp.path() / "root";
    const auto outside = temp.path() / "outside";
    writeFile(root / "inside.dcm", "inside");
    writeFile(outside / "secret.dcm", "secret");
    writeFile(temp.path() / "root2" / "x.dcm", "prefix confusion");
    writeFile(temp.path() / "data2" / "x.dcm", "prefix confusion");
    FileStorage storage(root, {temp.path() / "data"});
    const auto base = fileUri(root);

    const auto refused = [&](const std::string& text) {
        const auto uri = Uri::parse(text);
        CAPTURE(text);
        CHECK(errorOf([&] { storage.open(uri); }) == "forbidden");
        CHECK(errorOf([&] { enumerateAll(storage, uri); }) == "forbidden");
        CHECK(errorOf([&] { storage.remove(uri); }) == "forbidden");
    };

    SECTION("dot-dot, plain or escaped") {
        refused(base + "/../outside/secret.dcm");
        refused(base + "/%2e%2e/outside/secret.dcm");
        refused(base + "/%2E%2E%2Foutside%2Fsecret.dcm");
        refused(base + "/.%2e/outside/secret.dcm");
        refused(base + "%2F..%2Foutside/secret.dcm");
        // Even a `..` that would land back inside the root.
        refused(base + "/sub/../inside.dcm");
        refused("file:///" + root.string() + "/../outside/secret.dcm");
    }
    SECTION("an escaped NUL") {
        refused(base + "/inside.dcm%00.png");
        refused(base + "/%00");
    }
    SECTION("absolute paths elsewhere") {
        refused("file:///etc/passwd");
        refused("file:/etc/passwd");
        refused("file://localhost/etc/passwd");
        refused("file:/");
        refused(fileUri(outside / "secret.dcm"));
    }
    SECTION("a sibling whose name merely starts like a root") {
        refused(fileUri(temp.path() / "root2" / "x.dcm"));
        refused(fileUri(temp.path() / "data2" / "x.dcm"));
        refused(fileUri(temp.path() / "root2"));
    }
    SECTION("relative paths") {
        refused("file:inside.dcm");
        refused("file:root/inside.dcm");
        refused("file:");
        refused("file://localhost");
    }
    SECTION("symbolic links inside the root that point outside") {
        fs::create_symlink(outside / "secret.dcm", root / "link-to-file.dcm");
        fs::create_directory_symlink(outside, root / "link-to-dir");
        refused(base + "/link-to-file.dcm");
        refused(base + "/link-to-dir");
        refused(base + "/link-to-dir/secret.dcm");
        // Walking the root neither follows the directory link nor lists the file link.
        CHECK(enumerateAll(storage, Uri::parse(base)) == std::vector<std::string>{base + "/inside.dcm"});
        CHECK(fs::is_symlink(root / "link-to-file.dcm"));
    }
    SECTION("other schemes and malformed escapes are InvalidArgument") {
        CHECK(errorOf([&] { storage.open(Uri::parse("http://localhost" + root.string() + "/inside.dcm")); }) ==
              "invalid-argument");
        CHECK(errorOf([&] { enumerateAll(storage, Uri::parse("s3://bucket/key")); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.remove(Uri::parse("files:" + root.string())); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.open(Uri()); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.open(Uri::parse(base + "/inside%2.dcm")); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.open(Uri::parse(base + "/inside%zz.dcm")); }) == "invalid-argument");
    }

    // Nothing outside was touched by the refused removals.
    CHECK(readFile(outside / "secret.dcm") == "secret");
    CHECK(readFile(temp.path() / "root2" / "x.dcm") == "prefix confusion");
    CHECK(readFile(root / "inside.dcm") == "inside");
}

TEST_CASE("a symbolic link inside the roots that stays inside is served", "[file_storage]") {
    TempDir temp;
    const auto root = temp.path() / "root";
    writeFile(root / "real" / "a.dcm", "A");
    fs::create_symlink(root / "real" / "a.dcm", root / "alias.dcm");
    FileStorage storage(root);

    CHECK(readAll(*storage.open(Uri::parse(fileUri(root / "alias.dcm")))) == "A");
    CHECK(enumerateAll(storage, Uri::parse(fileUri(root))) ==
          std::vector<std::string>{fileUri(root / "alias.dcm"), fileUri(root / "real" / "a.dcm")});

    // Removing the alias removes the link, not its target.
    storage.remove(Uri::parse(fileUri(root / "alias.dcm")));
    CHECK_FALSE(fs::is_symlink(root / "alias.dcm"));
    CHECK(readFile(root / "real" / "a.dcm") == "A");
}

TEST_CASE("a root reached through a symbolic link is canonicalised", "[file_storage]") {
    TempDir temp;
    writeFile(temp.path() / "real" / "a.dcm", "A");
    fs::create_directory_symlink(temp.path() / "real", temp.path() / "via-link");
    FileStorage storage(temp.path() / "store", {temp.path() / "via-link/"});

    CHECK(storage.roots().back() == temp.path() / "real");
    CHECK(readAll(*storage.open(Uri::parse(fileUri(temp.path() / "via-link" / "a.dcm")))) == "A");
    CHECK(readAll(*storage.open(Uri::parse(fileUri(temp.path() / "real" / "a.dcm")))) == "A");
}

TEST_CASE("remove deletes the file and prunes emptied series and study directories", "[file_storage]") {
    TempDir temp;
    const auto root = temp.path() / "store";
    FileStorage storage(root);
    const auto a = storage.store(instance("1.1", "1.1.1", "1.1.1.1"), bytesOf("a"));
    const auto b = storage.store(instance("1.1", "1.1.1", "1.1.1.2"), bytesOf("b"));
    const auto c = storage.store(instance("1.1", "1.1.2", "1.1.2.1"), bytesOf("c"));

    storage.remove(a);
    CHECK_FALSE(fs::exists(root / "1.1" / "1.1.1" / "1.1.1.1.dcm"));
    CHECK(fs::exists(root / "1.1" / "1.1.1" / "1.1.1.2.dcm"));
    CHECK(errorOf([&] { storage.open(a); }) == "not-found");

    storage.remove(b);
    CHECK_FALSE(fs::exists(root / "1.1" / "1.1.1"));  // series emptied
    CHECK(fs::exists(root / "1.1"));                  // the study still has a series

    storage.remove(c);
    CHECK_FALSE(fs::exists(root / "1.1"));
    CHECK(fs::is_directory(root));  // never the root itself
    CHECK(fs::is_empty(root));

    SECTION("removing what does not exist is fine") {
        CHECK(errorOf([&] { storage.remove(a); }) == "none");
        CHECK(errorOf([&] { storage.remove(Uri::parse(fileUri(root / "no" / "such" / "x.dcm"))); }) == "none");
    }
    SECTION("directories and roots are not removed") {
        fs::create_directories(root / "dir");
        CHECK(errorOf([&] { storage.remove(Uri::parse(fileUri(root / "dir"))); }) == "invalid-argument");
        CHECK(errorOf([&] { storage.remove(Uri::parse(fileUri(root))); }) == "invalid-argument");
        CHECK(fs::is_directory(root / "dir"));
    }
}

TEST_CASE("remove in a read root deletes the file but prunes nothing", "[file_storage]") {
    TempDir temp;
    const auto data = temp.path() / "data";
    writeFile(data / "sub" / "x.dcm", "x");
    FileStorage storage(temp.path() / "store", {data});

    storage.remove(Uri::parse(fileUri(data / "sub" / "x.dcm")));
    CHECK_FALSE(fs::exists(data / "sub" / "x.dcm"));
    CHECK(fs::is_directory(data / "sub"));
}

TEST_CASE("a failed store leaves no temporary file behind", "[file_storage]") {
    TempDir temp;
    const auto root = temp.path() / "store";
    FileStorage storage(root);
    const auto bytes = bytesOf("payload");

    SECTION("a directory where the file should go") {
        fs::create_directories(root / "1.2" / "1.2.3" / "1.2.3.4.dcm");
        CHECK(errorOf([&] { storage.store(instance("1.2", "1.2.3", "1.2.3.4"), bytes); }) == "conflict");
        CHECK(filesUnder(root / "1.2" / "1.2.3") == std::vector<fs::path>{root / "1.2" / "1.2.3" / "1.2.3.4.dcm"});
    }
    SECTION("a file where the series directory should go") {
        writeFile(root / "1.2" / "1.2.3", "in the way");
        CHECK(errorOf([&] { storage.store(instance("1.2", "1.2.3", "1.2.3.4"), bytes); }) == "conflict");
    }
    SECTION("a symbolic link planted as the study directory") {
        fs::create_directories(temp.path() / "outside");
        fs::create_directory_symlink(temp.path() / "outside", root / "1.2");
        CHECK(errorOf([&] { storage.store(instance("1.2", "1.2.3", "1.2.3.4"), bytes); }) == "forbidden");
        CHECK(fs::is_empty(temp.path() / "outside"));
    }
    CHECK_FALSE(hasTempFile(temp.path()));
}

TEST_CASE("concurrent stores of different instances from 8 threads all land", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    constexpr int kThreads = 8;
    constexpr int kPerThread = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const auto sop = "1.2." + std::to_string(t) + "." + std::to_string(i);
                try {
                    // Two studies shared by all threads, so that directory creation races too.
                    storage.store(instance("1." + std::to_string(i % 2), "1.9." + std::to_string(i % 3), sop),
                                  bytesOf("content of " + sop));
                } catch (...) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();

    CHECK(failures == 0);
    const auto uris = enumerateAll(storage, Uri::parse(fileUri(temp.path())));
    CHECK(uris.size() == kThreads * kPerThread);
    for (const auto& uri : uris) {
        const auto sop = uri.substr(uri.rfind('/') + 1, uri.size() - uri.rfind('/') - 1 - 4);
        CHECK(readAll(*storage.open(Uri::parse(uri))) == "content of " + sop);
    }
    CHECK_FALSE(hasTempFile(temp.path()));
}

TEST_CASE("concurrent stores of the same instance end with one complete file", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    constexpr int kThreads = 8;
    constexpr std::size_t kSize = 256 * 1024;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::vector<std::uint8_t> payload(kSize, static_cast<std::uint8_t>('a' + t));
            for (int round = 0; round < 5; ++round) {
                try {
                    storage.store(instance("1.2", "1.2.3", "1.2.3.4"), payload);
                } catch (...) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();

    CHECK(failures == 0);
    const auto content = readFile(temp.path() / "1.2" / "1.2.3" / "1.2.3.4.dcm");
    REQUIRE(content.size() == kSize);
    CHECK(content.find_first_not_of(content.front()) == std::string::npos);  // one writer's bytes only
    CHECK(filesUnder(temp.path() / "1.2" / "1.2.3").size() == 1);
}

TEST_CASE("stores racing removes that prune the same series still succeed", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                try {
                    const auto uri = storage.store(instance("1.5", "1.5.5", "1.5.5." + std::to_string(t)),
                                                   bytesOf(std::to_string(i)));
                    if (readAll(*storage.open(uri)) != std::to_string(i)) ++failures;
                    storage.remove(uri);
                } catch (...) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    CHECK(fs::is_empty(temp.path()));
}

TEST_CASE("roots are read from settings, with defaults written back", "[file_storage]") {
    TempDir temp;
    tessera::core::MemorySettingsSection settings;

    SECTION("defaults") {
        const auto storage = FileStorage::fromSettings(settings, temp.path());
        CHECK(storage->storeRoot() == temp.path() / "storage");
        CHECK(storage->roots() == std::vector<fs::path>{temp.path() / "storage"});
        CHECK(settings.keys() == std::vector<std::string>{"roots", "store-root"});
        CHECK(settings.get("store-root") == (temp.path() / "storage").string());
        CHECK(settings.get("roots") == "");
    }
    SECTION("explicit roots, as paths or file: URIs, blanks skipped") {
        fs::create_directories(temp.path() / "my data");
        settings.set("store-root", (temp.path() / "archive").string());
        settings.set("roots", " " + (temp.path() / "a").string() + " ;; " + fileUri(temp.path()) + "/my%20data ;");
        const auto storage = FileStorage::fromSettings(settings, temp.path() / "unused");
        CHECK(storage->roots() ==
              std::vector<fs::path>{temp.path() / "archive", temp.path() / "a", temp.path() / "my data"});
        CHECK(fs::is_directory(temp.path() / "archive"));
        CHECK_FALSE(fs::exists(temp.path() / "unused"));
    }
    SECTION("relative or foreign roots are configuration errors") {
        settings.set("roots", "relative/dir");
        CHECK(errorOf([&] { FileStorage::fromSettings(settings, temp.path()); }) == "invalid-argument");
        settings.set("roots", "s3://bucket");
        CHECK(errorOf([&] { FileStorage::fromSettings(settings, temp.path()); }) == "invalid-argument");
        settings.set("roots", "");
        settings.set("store-root", "store");
        CHECK(errorOf([&] { FileStorage::fromSettings(settings, temp.path()); }) == "invalid-argument");
        writeFile(temp.path() / "a-file", "not a directory");
        settings.set("store-root", (temp.path() / "a-file").string());
        CHECK(errorOf([&] { FileStorage::fromSettings(settings, temp.path()); }) == "invalid-argument");
    }
}

namespace {

class TestHost : public tessera::sdk::HostServices {
public:

    explicit TestHost(fs::path dataDirectory) : dataDirectory_(std::move(dataDirectory)) {}
    void log(tessera::sdk::LogLevel, std::string_view message) override { logLines.emplace_back(message); }
    tessera::sdk::SettingsSection& settings() override { return settings_; }
    fs::path dataDirectory() const override { return dataDirectory_; }
    tessera::sdk::IndexProvider* indexProvider(std::string_view) override { return nullptr; }
    tessera::sdk::QueryProvider* queryProvider(std::string_view) override { return nullptr; }
    tessera::sdk::StorageProvider* storageProviderForScheme(std::string_view) override { return nullptr; }
    std::unique_ptr<tessera::sdk::DicomObjectView> parseDicom(std::span<const std::uint8_t>) override {
        throw Error(ErrorCode::Unsupported, "no DICOM parser in this test host");
    }

    std::vector<std::string> logLines;

private:
    tessera::core::MemorySettingsSection settings_;
    fs::path dataDirectory_;
};

}  // namespace

TEST_CASE("the tessera-file module loads and serves storage as the host would use it", "[file_storage][module]") {
    const fs::path modulePath = fs::path(TESSERA_PLUGIN_MODULE_DIR) / "tessera-file.so";
    REQUIRE(fs::exists(modulePath));
    TempDir temp;
    TestHost host(temp.path());

    boost::dll::shared_library library(modulePath);
    const auto& record = library.get<const TesseraPluginRecord>(tessera::sdk::kPluginRecordSymbol);
    CHECK(record.abiVersion == tessera::sdk::kSdkAbiVersion);
    CHECK(std::string(record.stdlibTag) == TESSERA_SDK_STDLIB_TAG);
    CHECK(std::string(record.pluginName) == "file");
    {
        auto factory = library.get_alias<tessera::sdk::PluginFactory>(tessera::sdk::kPluginFactorySymbol);
        auto set = factory(host);
        REQUIRE(set);
        CHECK(set->name() == "file");
        CHECK(set->storageProviders().empty());  // nothing before configure()
        set->configure(host.settings());
        CHECK(host.settings().get("store-root") == (temp.path() / "storage").string());
        CHECK(host.logLines.size() == 1);

        const auto providers = set->storageProviders();
        REQUIRE(providers.size() == 1);
        auto* storage = providers.front();
        CHECK(storage->name() == "file");
        CHECK(storage->scheme() == "file");
        CHECK(set->indexProviders().empty());
        CHECK(set->queryProviders().empty());

        const auto uri = storage->store(instance("1.2", "1.2.3", "1.2.3.4"), bytesOf("via module"));
        CHECK(uri.str() == fileUri(temp.path() / "storage" / "1.2" / "1.2.3" / "1.2.3.4.dcm"));
        CHECK(readAll(*storage->open(uri)) == "via module");
        // The optional deferred-durability interface is found across the module boundary, as
        // the storage SCP's intake finds it.
        auto* deferred = dynamic_cast<tessera::sdk::DeferredDurabilityStorage*>(storage);
        REQUIRE(deferred != nullptr);
        const auto later = deferred->storeUnsynced(instance("1.2", "1.2.3", "1.2.3.5"), bytesOf("unsynced"));
        CHECK(readAll(*storage->open(later)) == "unsynced");
        deferred->syncStored(std::vector<Uri>{later});
        // Errors thrown inside the module are caught here by type.
        CHECK(errorOf([&] { storage->open(Uri::parse("file:/etc/passwd")); }) == "forbidden");
        CHECK(errorOf([&] { storage->open(Uri::parse(fileUri(temp.path() / "storage" / "x.dcm"))); }) == "not-found");
        set->shutdown();
    }
}

TEST_CASE("localPath gives the checked file behind a URI, with open()'s refusals", "[file_storage]") {
    TempDir temp;
    FileStorage storage(temp.path() / "store");
    const auto stored = storage.store(MapView({{"StudyInstanceUID", "1.2"}, {"SeriesInstanceUID", "1.2.3"},
                                               {"SOPInstanceUID", "1.2.3.4"}}),
                                      bytesOf("DICM"));
    const auto path = storage.localPath(stored);
    REQUIRE(path);
    CHECK(*path == fs::canonical(temp.path() / "store" / "1.2" / "1.2.3" / "1.2.3.4.dcm"));
    CHECK(errorOf([&] { storage.localPath(Uri::parse("file:/etc/passwd")); }) == "forbidden");
    CHECK(errorOf([&] { storage.localPath(FileStorage::toUri(temp.path() / "store" / "missing.dcm")); }) == "not-found");
}

TEST_CASE("localPath answers link-free paths directly and resolves or refuses the rest as before", "[file_storage]") {
    // A path with no symbolic link on the way is checked with one kernel path walk; anything
    // with a link takes the full canonical resolution. Both must give the same answers.
    TempDir temp;
    const auto root = temp.path() / "root";
    const auto outside = temp.path() / "outside";
    writeFile(root / "a" / "b" / "plain.dcm", "plain");
    writeFile(outside / "secret.dcm", "secret");
    fs::create_directories(root / "a" / "dir.dcm");
    fs::create_symlink(root / "a" / "b" / "plain.dcm", root / "alias.dcm");
    fs::create_directory_symlink(root / "a", root / "a-link");
    fs::create_symlink(outside / "secret.dcm", root / "escape.dcm");
    fs::create_directory_symlink(outside, root / "escape-dir");
    FileStorage storage(root);
    const auto canonicalRoot = storage.roots().front();

    CHECK(storage.localPath(Uri::parse(fileUri(root / "a" / "b" / "plain.dcm"))) ==
          canonicalRoot / "a" / "b" / "plain.dcm");
    // Escaped, doubled slashes and `.` segments normalise to the same file.
    CHECK(storage.localPath(Uri::parse(fileUri(root) + "/a/./b//pl%61in.dcm")) == canonicalRoot / "a" / "b" / "plain.dcm");
    // Links that stay inside resolve to their canonical target.
    CHECK(storage.localPath(Uri::parse(fileUri(root / "alias.dcm"))) == canonicalRoot / "a" / "b" / "plain.dcm");
    CHECK(storage.localPath(Uri::parse(fileUri(root / "a-link" / "b" / "plain.dcm"))) ==
          canonicalRoot / "a" / "b" / "plain.dcm");
    // Links that leave, `..` and `%2e%2e` are refused.
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root / "escape.dcm"))); }) == "forbidden");
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root / "escape-dir" / "secret.dcm"))); }) == "forbidden");
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root) + "/a/%2e%2e/../outside/secret.dcm")); }) ==
          "forbidden");
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root) + "/a/../a/b/plain.dcm")); }) == "forbidden");
    // A directory, a missing file and a missing directory.
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root / "a" / "dir.dcm"))); }) == "invalid-argument");
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root / "a" / "missing.dcm"))); }) == "not-found");
    CHECK(errorOf([&] { storage.localPath(Uri::parse(fileUri(root / "no" / "such.dcm"))); }) == "not-found");
}

TEST_CASE("storeUnsynced writes the same bytes at the same URI as store, replaces, and syncStored flushes them",
          "[file_storage][deferred]") {
    TempDir temp;
    FileStorage durable(temp.path() / "durable");
    FileStorage deferred(temp.path() / "deferred");
    // A real sample, and binary bytes with every byte value.
    std::vector<std::vector<std::uint8_t>> payloads;
    {
        std::ifstream in(fs::path(TESSERA_SAMPLES_DIR) / "images" / "CT_small.dcm", std::ios::binary);
        REQUIRE(in.is_open());
        payloads.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        std::vector<std::uint8_t> all(4096);
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i * 7);
        payloads.push_back(std::move(all));
    }
    std::vector<Uri> uris;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const auto view = instance("1.2", "1.2.3", "1.2.3." + std::to_string(i + 1));
        const auto a = durable.store(view, payloads[i]);
        const auto b = deferred.storeUnsynced(view, payloads[i]);
        CHECK(b.str() == fileUri(temp.path() / "deferred" / "1.2" / "1.2.3" / ("1.2.3." + std::to_string(i + 1) + ".dcm")));
        CHECK(readAll(*deferred.open(b)) == readAll(*durable.open(a)));
        CHECK(readAll(*deferred.open(b)) == std::string(payloads[i].begin(), payloads[i].end()));
        uris.push_back(b);
    }
    // Same instance again: replaced, one file.
    const auto again = deferred.storeUnsynced(instance("1.2", "1.2.3", "1.2.3.1"), bytesOf("second copy"));
    CHECK(again.str() == uris.front().str());
    CHECK(readAll(*deferred.open(again)) == "second copy");
    CHECK(filesUnder(temp.path() / "deferred" / "1.2" / "1.2.3").size() == payloads.size());
    CHECK_FALSE(hasTempFile(temp.path()));
    deferred.syncStored(uris);
    deferred.syncStored({});  // nothing to do
    // Same refusals as store().
    CHECK(errorOf([&] { deferred.storeUnsynced(instance("1.2", "x", "1.2.3.9"), bytesOf("x")); }) == "invalid-argument");
    CHECK(errorOf([&] { deferred.storeUnsynced(instance("1.2", "1.2.3", "1.2.3.9"), {}); }) == "invalid-argument");
}

TEST_CASE("syncStored reports a store root that is gone", "[file_storage][deferred]") {
    TempDir temp;
    FileStorage storage(temp.path() / "store");
    const auto uri = storage.storeUnsynced(instance("1.2", "1.2.3", "1.2.3.4"), bytesOf("x"));
    fs::remove_all(temp.path() / "store");
    CHECK(errorOf([&] { storage.syncStored(std::vector<Uri>{uri}); }) == "unavailable");
}
