#pragma once
/// @file version.hpp
/// SDK version and the ABI integer the host checks before it calls anything in a plugin.
///
/// Thread-safety: constants only.
/// @since 1.0

#include <cstdint>

#define TESSERA_SDK_VERSION_MAJOR 1
#define TESSERA_SDK_VERSION_MINOR 1
#define TESSERA_SDK_VERSION_PATCH 0
#define TESSERA_SDK_VERSION_STRING "1.1.0"

// The standard library a plugin was built against. std types cross the plugin boundary, so the
// host refuses a plugin whose library differs from its own (libstdc++ release and string ABI).
#if defined(__GLIBCXX__)
#define TESSERA_SDK_STDLIB_STRINGIFY2(x) #x
#define TESSERA_SDK_STDLIB_STRINGIFY(x) TESSERA_SDK_STDLIB_STRINGIFY2(x)
#define TESSERA_SDK_STDLIB_TAG                                                                    \
    "libstdc++-" TESSERA_SDK_STDLIB_STRINGIFY(_GLIBCXX_RELEASE) "-cxx11abi" TESSERA_SDK_STDLIB_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define TESSERA_SDK_STDLIB_TAG "libc++"
#else
#define TESSERA_SDK_STDLIB_TAG "unknown"
#endif

namespace tessera::sdk {

/// Bumped on any change of a layout, a vtable or a signature in the SDK. The host loads a plugin
/// only when the plugin's value equals its own.
/// @since 1.0
inline constexpr std::uint32_t kSdkAbiVersion = 1;

/// Semantic version of the SDK headers.
/// @since 1.0
inline constexpr const char* kSdkVersion = TESSERA_SDK_VERSION_STRING;

/// Tag of the C++ standard library this translation unit was compiled with.
/// @since 1.0
inline constexpr const char* kStdlibTag = TESSERA_SDK_STDLIB_TAG;

}  // namespace tessera::sdk
