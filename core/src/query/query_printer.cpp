#include "tessera/core/query/query_printer.hpp"

#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace tessera::core {

namespace {

using sdk::BooleanQuery;
using sdk::MatchAllQuery;
using sdk::Occur;
using sdk::PhraseQuery;
using sdk::QueryNode;
using sdk::RangeQuery;
using sdk::TermQuery;
using sdk::WildcardQuery;

// Where a piece of text lands: at the start of a clause the modifiers + - ! are syntax, after
// "Field:" (and inside range bounds) they are not.
enum class Place { ClauseStart, Value };

void appendHex(std::string& out, unsigned char byte) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    out += "\\x";
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0f];
}

// Control characters never appear raw, so the form stays on one line.
bool appendControl(std::string& out, char c) {
    switch (c) {
        case '\t': out += "\\t"; return true;
        case '\n': out += "\\n"; return true;
        case '\r': out += "\\r"; return true;
        default: break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
        appendHex(out, byte);
        return true;
    }
    return false;
}

void appendChar(std::string& out, char c) {
    switch (c) {
        case '\\':
        case '\'':
        case '"':
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case ':':
        case '*':
        case '?':
        case '~':
        case ' ':
            out += '\\';
            out += c;
            return;
        default: break;
    }
    if (!appendControl(out, c)) out += c;
}

// Would the first byte of this text be read as an operator or modifier if left bare?
bool needsLeadingEscape(std::string_view text, Place place) {
    if (text.empty()) return false;
    if (place == Place::ClauseStart && (text[0] == '+' || text[0] == '-' || text[0] == '!')) {
        return true;
    }
    return text.starts_with("&&") || text.starts_with("||") || text == "AND" || text == "OR" ||
           text == "NOT";
}

// Appends a byte that must not be read as syntax, even where appendChar would leave it bare.
void appendEscaped(std::string& out, char c) {
    std::string single;
    appendChar(single, c);
    if (single.size() == 1) out += '\\';
    out += single;
}

std::string encodeText(std::string_view text, Place place) {
    if (text.empty()) return "''";
    std::string out;
    out.reserve(text.size() + 2);
    const bool leading = needsLeadingEscape(text, place);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == 0 && leading) {
            appendEscaped(out, text[i]);
        } else {
            appendChar(out, text[i]);
        }
    }
    return out;
}

std::string encodeField(std::string_view field) {
    if (field.empty()) return {};
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        const char c = field[i];
        if (i == 0 && (c == '+' || c == '-' || c == '!')) {
            appendEscaped(out, c);
        } else {
            appendChar(out, c);
        }
    }
    return out + ":";
}

bool hasBareWildcard(std::string_view pattern) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size() &&
            (pattern[i + 1] == '*' || pattern[i + 1] == '?' || pattern[i + 1] == '\\')) {
            ++i;
        } else if (c == '*' || c == '?') {
            return true;
        }
    }
    return false;
}

std::string encodePattern(std::string_view pattern, Place place) {
    if (!hasBareWildcard(pattern)) {
        // Would look like a TermQuery; say what it is.
        std::string out = "WILDCARD(";
        for (const char c : pattern) appendChar(out, c);
        return out + ")";
    }
    std::string out;
    const bool leading = needsLeadingEscape(pattern, place);
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            if (i + 1 < pattern.size() &&
                (pattern[i + 1] == '*' || pattern[i + 1] == '?' || pattern[i + 1] == '\\')) {
                out += c;
                out += pattern[++i];
            } else {
                appendHex(out, '\\');
            }
        } else if (c == '*' || c == '?') {
            out += c;
        } else if (i == 0 && leading) {
            appendEscaped(out, c);
        } else {
            appendChar(out, c);
        }
    }
    return out;
}

std::string encodePhrase(std::string_view phrase) {
    std::string out = "\"";
    for (const char c : phrase) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (!appendControl(out, c)) {
            out += c;
        }
    }
    return out + "\"";
}

std::string encodeBound(const std::optional<std::string>& bound) {
    if (!bound) return "*";
    if (bound->empty()) return "\"\"";
    return encodeText(*bound, Place::Value);
}

Place bodyPlace(const std::string& field) {
    return field.empty() ? Place::ClauseStart : Place::Value;
}

void print(std::string& out, const QueryNode& node);

void printBoolean(std::string& out, const BooleanQuery& query) {
    out += '(';
    bool first = true;
    for (const auto& clause : query.clauses) {
        if (!first) out += ' ';
        first = false;
        if (clause.occur == Occur::Must) out += '+';
        if (clause.occur == Occur::MustNot) out += '-';
        print(out, clause.node);
    }
    out += ')';
}

void print(std::string& out, const QueryNode& node) {
    std::visit(
        [&out](const auto& query) {
            using T = std::decay_t<decltype(query)>;
            if constexpr (std::is_same_v<T, MatchAllQuery>) {
                out += "*:*";
            } else if constexpr (std::is_same_v<T, TermQuery>) {
                out += encodeField(query.field);
                out += encodeText(query.value, bodyPlace(query.field));
            } else if constexpr (std::is_same_v<T, WildcardQuery>) {
                out += encodeField(query.field);
                out += encodePattern(query.pattern, bodyPlace(query.field));
            } else if constexpr (std::is_same_v<T, PhraseQuery>) {
                out += encodeField(query.field);
                out += encodePhrase(query.phrase);
            } else if constexpr (std::is_same_v<T, RangeQuery>) {
                out += encodeField(query.field);
                out += query.includeLower ? '[' : '{';
                out += encodeBound(query.lower);
                out += " TO ";
                out += encodeBound(query.upper);
                out += query.includeUpper ? ']' : '}';
            } else {
                static_assert(std::is_same_v<T, BooleanQuery>);
                printBoolean(out, query);
            }
        },
        node);
}

}  // namespace

std::string toDebugString(const sdk::QueryNode& node) {
    std::string out;
    print(out, node);
    return out;
}

}  // namespace tessera::core
