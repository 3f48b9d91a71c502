#pragma once
// Helpers of the sqlite plugin tests. The corpus, the in-memory view and the query helpers are
// the xapian plugin tests' own (one corpus for both providers, so their answers can be compared
// object by object); this adds what is sqlite-specific.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../xapian/xapian_test_support.hpp"
#include "tessera/plugins/sqlite/sqlite_provider.hpp"

namespace sqlite_test {

using namespace xapian_test;

/// URIs of a query's whole answer, in the provider's order.
inline std::vector<std::string> uriList(tessera::sdk::QueryProvider& provider, std::string_view text) {
    std::vector<std::string> out;
    for (const auto& r : run(provider, text).results) out.push_back(r.uri.str());
    return out;
}

inline std::set<std::string> uriSet(tessera::sdk::QueryProvider& provider, std::string_view text) {
    std::set<std::string> out;
    for (const auto& r : run(provider, text).results) out.insert(r.uri.str());
    return out;
}

}  // namespace sqlite_test
