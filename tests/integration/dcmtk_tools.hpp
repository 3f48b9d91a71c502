#pragma once
// Runs DCMTK's command-line tools (echoscu, storescu, ... from the Debian package dcmtk) for the
// DICOM integration tests, so those tests drive the server with a third-party implementation.
//
// Thread-safety: the functions may be called from several threads at once (each runs its own
// child process).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::test {

struct ToolResult {
    int exitCode = -1;   // -1: killed or timed out
    std::string output;  // stdout and stderr together
    bool ok() const { return exitCode == 0; }
};

/// Runs `program` (looked up in PATH) with `arguments`; kills it after `timeout`.
ToolResult runTool(const std::string& program, const std::vector<std::string>& arguments,
                   std::chrono::seconds timeout = std::chrono::seconds(120));

/// echoscu to 127.0.0.1:port.
ToolResult echoscu(std::uint16_t port, const std::string& calledAe = "DICOOGLE-STORAGE",
                   const std::string& callingAe = "ECHOSCU");

/// The storescu flags that propose a file's own transfer syntax (README of the samples): none
/// for the uncompressed ones (storescu proposes them all), `-xd` deflate, `-xy` JPEG baseline,
/// `-xx` extended, `-xs` lossless SV1, `-xt`/`-xu` JPEG-LS, `-xv`/`-xw` JPEG 2000, `-xr` RLE.
std::vector<std::string> proposalFlags(const std::string& transferSyntaxUid);

/// storescu of `files` over one association to 127.0.0.1:port, with `-R` (propose only what the
/// files need) plus `extraArguments` (e.g. proposalFlags()).
ToolResult storescu(std::uint16_t port, const std::vector<std::filesystem::path>& files,
                    const std::vector<std::string>& extraArguments = {},
                    const std::string& calledAe = "DICOOGLE-STORAGE", const std::string& callingAe = "STORESCU");

}  // namespace tessera::test
