#include "tessera/server/router.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "tessera/sdk/error.hpp"

namespace tessera::server {

namespace {

enum class SegmentKind { Literal, Param, Rest };

struct TemplateSegment {
    SegmentKind kind;
    std::string text;  // the literal, or the parameter name
};

[[noreturn]] void throwBadTemplate(const sdk::WebRoute& route, std::string_view why) {
    throw sdk::Error(sdk::ErrorCode::InvalidArgument,
                     "Malformed route " + route.method + " " + route.path + ": " + std::string(why));
}

bool isParamNameChar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::vector<TemplateSegment> parseTemplate(const sdk::WebRoute& route) {
    const std::string& path = route.path;
    if (path.empty() || path.front() != '/') throwBadTemplate(route, "the path must start with '/'");
    std::vector<TemplateSegment> segments;
    if (path == "/") return segments;

    std::set<std::string, std::less<>> names;
    for (const std::string& text : splitPath(path)) {
        if (!segments.empty() && segments.back().kind == SegmentKind::Rest)
            throwBadTemplate(route, "{name*} must be the last segment");
        if (text.empty()) throwBadTemplate(route, "empty path segment");
        if (text.front() == '{') {
            if (text.size() < 3 || text.back() != '}') throwBadTemplate(route, "unclosed parameter");
            std::string name = text.substr(1, text.size() - 2);
            SegmentKind kind = SegmentKind::Param;
            if (name.back() == '*') {
                kind = SegmentKind::Rest;
                name.pop_back();
            }
            if (name.empty() || !std::all_of(name.begin(), name.end(), isParamNameChar))
                throwBadTemplate(route, "bad parameter name");
            if (!names.insert(name).second) throwBadTemplate(route, "repeated parameter name");
            segments.push_back({kind, std::move(name)});
        } else {
            for (const char c : text) {
                const auto byte = static_cast<unsigned char>(c);
                if (byte <= 0x20 || byte == 0x7F || c == '%' || c == '?' || c == '#' || c == '{' || c == '}')
                    throwBadTemplate(route, "bad character in a literal segment");
            }
            segments.push_back({SegmentKind::Literal, text});
        }
    }
    return segments;
}

void checkMethod(const sdk::WebRoute& route) {
    if (route.method.empty() ||
        !std::all_of(route.method.begin(), route.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
        throwBadTemplate(route, "the method must be upper-case letters");
}

}  // namespace

struct Router::Entry {
    sdk::WebRoute route;
    std::vector<TemplateSegment> segments;
};

// A trie over template segments. Parameter names are not part of the shape: they live in the
// Entry, so that routes with differently named parameters share a node (and so collide when
// they also share a method).
struct Router::Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
    std::unique_ptr<Node> param;
    std::unique_ptr<Node> rest;
    std::map<std::string, const Entry*, std::less<>> byMethod;
};

std::vector<std::string> splitPath(std::string_view path) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    std::vector<std::string> segments;
    if (path.empty()) return segments;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            segments.emplace_back(path.substr(start));
            break;
        }
        segments.emplace_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return segments;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(sdk::WebRoute route) {
    checkMethod(route);
    auto segments = parseTemplate(route);
    if (!route.handler) throwBadTemplate(route, "no handler");

    const auto childOf = [](Node& parent, const TemplateSegment& segment) -> std::unique_ptr<Node>& {
        switch (segment.kind) {
            case SegmentKind::Param: return parent.param;
            case SegmentKind::Rest: return parent.rest;
            case SegmentKind::Literal: break;
        }
        return parent.literals[segment.text];
    };
    // Check for a duplicate before creating anything, so that a refused route leaves the
    // table as it was.
    const Node* existing = root_.get();
    for (const TemplateSegment& segment : segments) {
        if (segment.kind == SegmentKind::Literal) {
            auto it = existing->literals.find(segment.text);
            existing = it == existing->literals.end() ? nullptr : it->second.get();
        } else {
            existing = segment.kind == SegmentKind::Param ? existing->param.get() : existing->rest.get();
        }
        if (existing == nullptr) break;
    }
    if (existing != nullptr && existing->byMethod.count(route.method) != 0)
        throw sdk::Error(sdk::ErrorCode::Conflict, "Duplicate route " + route.method + " " + route.path);

    Node* node = root_.get();
    for (const TemplateSegment& segment : segments) {
        std::unique_ptr<Node>& child = childOf(*node, segment);
        if (!child) child = std::make_unique<Node>();
        node = child.get();
    }

    auto entry = std::make_unique<Entry>(Entry{std::move(route), std::move(segments)});
    node->byMethod.emplace(entry->route.method, entry.get());
    entries_.push_back(std::move(entry));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
    if (path.empty() || path.front() != '/') return RouteMatch{RouteMatch::Kind::NotFound, nullptr, {}, {}};
    return match(method, splitPath(path));
}

RouteMatch Router::match(std::string_view method, const std::vector<std::string>& segments) const {
    // Every node whose template matches the path, best first: literal, then {name}, then
    // {rest*} at each depth. Each trie node sits at one depth, so this visits each node once.
    std::vector<const Node*> candidates;
    const auto visit = [&](const auto& self, const Node& node, std::size_t index) -> void {
        if (index == segments.size()) {
            if (!node.byMethod.empty()) candidates.push_back(&node);
        } else {
            auto literal = node.literals.find(segments[index]);
            if (literal != node.literals.end()) self(self, *literal->second, index + 1);
            if (node.param && !segments[index].empty()) self(self, *node.param, index + 1);
        }
        if (node.rest && !node.rest->byMethod.empty()) candidates.push_back(node.rest.get());
    };
    visit(visit, *root_, 0);

    for (const Node* node : candidates) {
        auto it = node->byMethod.find(method);
        if (it == node->byMethod.end()) continue;
        const Entry& entry = *it->second;
        RouteMatch result{RouteMatch::Kind::Found, &entry.route, {}, {}};
        std::size_t index = 0;
        for (const TemplateSegment& segment : entry.segments) {
            if (segment.kind == SegmentKind::Param) {
                result.pathParams[segment.text] = segments[index];
            } else if (segment.kind == SegmentKind::Rest) {
                std::string rest;
                for (std::size_t i = index; i < segments.size(); ++i) {
                    if (i > index) rest.push_back('/');
                    rest.append(segments[i]);
                }
                result.pathParams[segment.text] = std::move(rest);
                break;
            }
            ++index;
        }
        return result;
    }

    if (candidates.empty()) return RouteMatch{RouteMatch::Kind::NotFound, nullptr, {}, {}};
    std::set<std::string> methods;
    for (const Node* node : candidates)
        for (const auto& [name, entry] : node->byMethod) methods.insert(name);
    return RouteMatch{RouteMatch::Kind::MethodNotAllowed,
                      nullptr,
                      {},
                      std::vector<std::string>(methods.begin(), methods.end())};
}

std::vector<const sdk::WebRoute*> Router::routes() const {
    std::vector<const sdk::WebRoute*> all;
    all.reserve(entries_.size());
    for (const auto& entry : entries_) all.push_back(&entry->route);
    return all;
}

}  // namespace tessera::server
