#pragma once
/// @file error.hpp
/// The one exception type of the SDK. Hosts and plugins throw it for failures a caller should
/// see; expected outcomes (no match, nothing to do) are values, not exceptions.
///
/// Thread-safety: value type, immutable after construction.
/// @since 1.0

#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera::sdk {

/// What went wrong, coarse enough to map to an HTTP status and a DIMSE status in one table.
/// @since 1.0
enum class ErrorCode {
    NotFound,         ///< the thing named does not exist (HTTP 404)
    InvalidArgument,  ///< the caller's input is wrong: bad parameter, query syntax (HTTP 400)
    Unsupported,      ///< valid, but not something this component does (HTTP 400/501)
    Conflict,         ///< clashes with the current state: duplicate name, last admin (HTTP 409)
    Unavailable,      ///< a dependency is down or disabled; retrying later may work (HTTP 503)
    Timeout,          ///< gave up waiting (HTTP 504)
    Corrupted,        ///< stored or received data is damaged (HTTP 422/500)
    Internal,         ///< a bug or an impossible state (HTTP 500)
    Unauthorized,     ///< no credentials (HTTP 401)
    Forbidden,        ///< credentials that do not allow this (HTTP 403)
    TooLarge,         ///< input over a configured limit (HTTP 413)
};

/// Stable lower-case name of a code, for logs and JSON.
/// @since 1.0
inline constexpr std::string_view toString(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::NotFound: return "not-found";
        case ErrorCode::InvalidArgument: return "invalid-argument";
        case ErrorCode::Unsupported: return "unsupported";
        case ErrorCode::Conflict: return "conflict";
        case ErrorCode::Unavailable: return "unavailable";
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Corrupted: return "corrupted";
        case ErrorCode::Internal: return "internal";
        case ErrorCode::Unauthorized: return "unauthorized";
        case ErrorCode::Forbidden: return "forbidden";
        case ErrorCode::TooLarge: return "too-large";
    }
    return "internal";
}

/// The SDK's exception. `what()` is a message fit to show a client: no stack traces, no
/// internal paths.
/// @since 1.0
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

}  // namespace tessera::sdk
