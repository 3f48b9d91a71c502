#pragma once
// Parsing JSON answers in integration tests.

#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace tessera::test {

inline Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

inline Poco::JSON::Array::Ptr parseArray(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
}

}  // namespace tessera::test
