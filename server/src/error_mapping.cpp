#include "tessera/server/error_mapping.hpp"

namespace tessera::server {

int httpStatusFor(sdk::ErrorCode code) noexcept {
    switch (code) {
        case sdk::ErrorCode::NotFound: return 404;
        case sdk::ErrorCode::InvalidArgument: return 400;
        case sdk::ErrorCode::Unsupported: return 400;
        case sdk::ErrorCode::Conflict: return 409;
        case sdk::ErrorCode::Unavailable: return 503;
        case sdk::ErrorCode::Timeout: return 504;
        case sdk::ErrorCode::Corrupted: return 422;
        case sdk::ErrorCode::Internal: return 500;
        case sdk::ErrorCode::Unauthorized: return 401;
        case sdk::ErrorCode::Forbidden: return 403;
        case sdk::ErrorCode::TooLarge: return 413;
    }
    return 500;
}

std::uint16_t dimseStatusFor(sdk::ErrorCode code) noexcept {
    switch (code) {
        case sdk::ErrorCode::NotFound: return 0xA801;         // e.g. move destination unknown
        case sdk::ErrorCode::InvalidArgument: return 0xA900;  // identifier does not match SOP class
        case sdk::ErrorCode::Unsupported: return 0x0122;      // SOP class not supported
        case sdk::ErrorCode::Conflict: return 0x0111;         // duplicate SOP instance
        case sdk::ErrorCode::Unavailable: return 0xA700;      // out of resources
        case sdk::ErrorCode::Timeout: return 0xA700;
        case sdk::ErrorCode::Corrupted: return 0xC000;        // cannot understand
        case sdk::ErrorCode::Internal: return 0x0110;         // processing failure
        case sdk::ErrorCode::Unauthorized: return 0x0124;     // refused: not authorized
        case sdk::ErrorCode::Forbidden: return 0x0124;
        case sdk::ErrorCode::TooLarge: return 0xA700;
    }
    return 0x0110;
}

}  // namespace tessera::server
