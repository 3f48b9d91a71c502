#pragma once
/// @file query_provider.hpp
/// A QueryProvider answers searches over the objects it knows.
///
/// Ownership: the request is borrowed for the call; the response is returned by value.
/// Thread-safety: query() is called concurrently from many threads, also while the same plugin's
/// IndexProvider is writing; an implementation must allow this.
/// @since 1.0

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tessera/sdk/provider.hpp"
#include "tessera/sdk/query_ast.hpp"
#include "tessera/sdk/search_result.hpp"

namespace tessera::sdk {

/// @since 1.0
struct QueryRequest {
    std::string text;                 ///< the query as the client typed it (for logs)
    QueryNode query;                  ///< the parsed tree: what to match
    /// Keywords to return in each SearchResult. The single entry `*` asks for every field the
    /// provider stored for the object (what /dump shows).
    std::vector<std::string> fields;
    std::size_t offset = 0;           ///< results to skip
    std::optional<std::size_t> limit; ///< page size; nullopt = all
};

/// @since 1.0
struct QueryResponse {
    std::size_t total = 0;              ///< every match, before offset and limit
    std::vector<SearchResult> results;  ///< the page, in the provider's order
};

/// @since 1.0
class QueryProvider : public virtual Provider {
public:
    /// Runs the query. Throws Error(InvalidArgument) for a query this provider cannot answer
    /// (the server answers 400 with the message); any other failure is Error(Internal or
    /// Unavailable).
    virtual QueryResponse query(const QueryRequest& request) = 0;
};

}  // namespace tessera::sdk
