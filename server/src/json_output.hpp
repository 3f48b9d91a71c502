#pragma once
// Private helpers for building JSON responses with Poco::JSON, keys in insertion order (clients
// and humans read the same shapes Dicoogle sends).

#include <sstream>
#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tessera/sdk/http.hpp"

namespace tessera::server {

inline Poco::JSON::Object::Ptr newJsonObject() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }
inline Poco::JSON::Array::Ptr newJsonArray() { return new Poco::JSON::Array(); }

template <typename JsonValue>
std::string stringifyJson(const JsonValue& value) {
    std::ostringstream out;
    value->stringify(out);
    return out.str();
}

template <typename JsonValue>
sdk::HttpResponse jsonResponse(const JsonValue& value, int status = 200) {
    return sdk::HttpResponse::json(stringifyJson(value), status);
}

}  // namespace tessera::server
