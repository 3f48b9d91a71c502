#include "tessera/core/query/query_parser.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace tessera::core {

QuerySyntaxError::QuerySyntaxError(std::size_t position, const std::string& detail)
    : sdk::Error(sdk::ErrorCode::InvalidArgument,
                 "Syntax error at position " + std::to_string(position) + ": " + detail),
      position_(position),
      detail_(detail) {}

std::size_t QuerySyntaxError::position() const noexcept { return position_; }

const std::string& QuerySyntaxError::detail() const noexcept { return detail_; }

namespace {

using sdk::BooleanQuery;
using sdk::MatchAllQuery;
using sdk::Occur;
using sdk::PhraseQuery;
using sdk::QueryClause;
using sdk::QueryNode;
using sdk::RangeQuery;
using sdk::TermQuery;
using sdk::WildcardQuery;

enum class Modifier { None, Must, MustNot };

// An item of an or-list or an operand of an and-list, before it is placed in a BooleanQuery.
struct Clause {
    Modifier modifier = Modifier::None;
    QueryNode node;
};

enum class Operator { None, And, Or, Not };

struct OperatorToken {
    Operator op = Operator::None;
    std::size_t length = 0;
};

// One term as read from the text, in the two forms the tree may need.
struct ScannedTerm {
    std::string value;    // escapes resolved
    std::string pattern;  // \* \? \\ kept escaped, other escapes resolved
    bool wildcard = false;
    bool escaped = false;
};

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes that end a term (besides the end of text).
bool endsTerm(char c) {
    switch (c) {
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case '"':
        case ':': return true;
        default: return isSpace(c);
    }
}

bool isFieldChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string at(std::size_t position) { return "at position " + std::to_string(position); }

const char* kFuzzyUnsupported =
    "'~' (fuzzy or proximity search) is not supported; write '\\~' to search for the character";

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    QueryNode parse() {
        if (text_.size() > kMaxQueryLength) {
            fail(kMaxQueryLength,
                 "the query is longer than " + std::to_string(kMaxQueryLength) + " bytes");
        }
        skipSpace();
        if (atEnd()) fail(0, "empty query");
        QueryNode node = parseOr({});
        skipSpace();
        if (!atEnd()) fail(pos_, "unexpected ')' with no matching '('");
        return node;
    }

private:
    [[noreturn]] static void fail(std::size_t position, const std::string& detail) {
        throw QuerySyntaxError(position, detail);
    }

    bool atEnd() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    bool boundaryAt(std::size_t index) const {
        if (index >= text_.size()) return true;
        const char c = text_[index];
        return endsTerm(c) && c != ':';
    }
    // At a '\\': the byte it escapes must exist.
    void requireEscapedByte() const {
        if (pos_ + 1 >= text_.size()) fail(pos_, "a '\\' at the end of the query escapes nothing");
    }
    void skipSpace() {
        while (!atEnd() && isSpace(text_[pos_])) ++pos_;
    }

    // AND / OR / NOT words (followed by a boundary that is not ':', so "AND:x" is a field) and
    // the && || symbols. '!' is handled where a clause starts.
    OperatorToken peekOperator() const {
        const std::string_view rest = text_.substr(pos_);
        if (rest.starts_with("&&")) return {Operator::And, 2};
        if (rest.starts_with("||")) return {Operator::Or, 2};
        for (const auto& [word, op] : {std::pair{std::string_view("AND"), Operator::And},
                                       std::pair{std::string_view("OR"), Operator::Or},
                                       std::pair{std::string_view("NOT"), Operator::Not}}) {
            if (rest.starts_with(word) && boundaryAt(pos_ + word.size())) return {op, word.size()};
        }
        return {};
    }

    std::string tokenText(std::size_t length) const {
        // Built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
        std::string quoted(1, '\'');
        quoted.append(text_.substr(pos_, length));
        quoted += '\'';
        return quoted;
    }

    // After an operator or modifier: something that can start a clause must follow.
    void requireOperand(std::size_t opPosition, std::string_view opText) const {
        const std::string after =
            "expected a term after '" + std::string(opText) + "' " + at(opPosition);
        if (atEnd()) fail(pos_, after);
        if (peek() == ')') fail(pos_, after + ", found ')'");
        const OperatorToken next = peekOperator();
        if (next.op == Operator::And || next.op == Operator::Or) {
            fail(pos_, after + ", found " + tokenText(next.length));
        }
    }

    void enter(std::size_t position) {
        if (++depth_ > kMaxQueryDepth) {
            fail(position,
                 "groups and NOT nested deeper than " + std::to_string(kMaxQueryDepth) + " levels");
        }
    }
    void leave() { --depth_; }

    static QueryNode toNode(Clause clause) {
        switch (clause.modifier) {
            case Modifier::None: return std::move(clause.node);
            case Modifier::Must:
                return BooleanQuery{{QueryClause{Occur::Must, std::move(clause.node)}}};
            case Modifier::MustNot:
                return BooleanQuery{{QueryClause{Occur::MustNot, std::move(clause.node)}}};
        }
        return std::move(clause.node);
    }

    QueryNode parseOr(std::string_view field) {
        std::vector<Clause> items;
        items.push_back(parseAnd(field));
        for (;;) {
            skipSpace();
            if (atEnd() || peek() == ')') break;
            const OperatorToken op = peekOperator();
            if (op.op == Operator::Or) {
                const std::size_t opPosition = pos_;
                const std::string opText(text_.substr(pos_, op.length));
                pos_ += op.length;
                skipSpace();
                requireOperand(opPosition, opText);
            }
            items.push_back(parseAnd(field));
        }
        if (items.size() == 1) return toNode(std::move(items.front()));
        BooleanQuery query;
        query.clauses.reserve(items.size());
        for (Clause& item : items) {
            const Occur occur = item.modifier == Modifier::Must      ? Occur::Must
                                : item.modifier == Modifier::MustNot ? Occur::MustNot
                                                                     : Occur::Should;
            query.clauses.push_back(QueryClause{occur, std::move(item.node)});
        }
        return query;
    }

    Clause parseAnd(std::string_view field) {
        std::vector<Clause> operands;
        operands.push_back(parseUnary(field));
        for (;;) {
            skipSpace();
            const OperatorToken op = peekOperator();
            if (op.op != Operator::And) break;
            const std::size_t opPosition = pos_;
            const std::string opText(text_.substr(pos_, op.length));
            pos_ += op.length;
            skipSpace();
            requireOperand(opPosition, opText);
            operands.push_back(parseUnary(field));
        }
        if (operands.size() == 1) return std::move(operands.front());
        BooleanQuery query;
        query.clauses.reserve(operands.size());
        for (Clause& operand : operands) {
            const Occur occur =
                operand.modifier == Modifier::MustNot ? Occur::MustNot : Occur::Must;
            query.clauses.push_back(QueryClause{occur, std::move(operand.node)});
        }
        return Clause{Modifier::None, std::move(query)};
    }

    Clause parseUnary(std::string_view field) {
        skipSpace();
        const std::size_t start = pos_;
        const OperatorToken op = peekOperator();
        if (op.op == Operator::And || op.op == Operator::Or) {
            fail(start, tokenText(op.length) + " needs a term on its left");
        }
        if (op.op == Operator::Not || peek() == '!') {
            const std::size_t length = op.op == Operator::Not ? op.length : 1;
            const std::string opText(text_.substr(pos_, length));
            enter(start);
            pos_ += length;
            skipSpace();
            requireOperand(start, opText);
            Clause inner = parseUnary(field);
            leave();
            return Clause{Modifier::MustNot, toNode(std::move(inner))};
        }
        if (peek() == '+' || peek() == '-') {
            const char sign = peek();
            ++pos_;
            skipSpace();
            requireOperand(start, std::string(1, sign));
            if (peek() == '+' || peek() == '-' || peek() == '!' ||
                peekOperator().op == Operator::Not) {
                fail(pos_, std::string("expected a term after '") + sign + "' " + at(start) +
                               ", found another operator");
            }
            return Clause{sign == '+' ? Modifier::Must : Modifier::MustNot, parsePrimary(field)};
        }
        return Clause{Modifier::None, parsePrimary(field)};
    }

    // At the start of a clause, after any modifier.
    QueryNode parsePrimary(std::string_view field) {
        const std::size_t start = pos_;
        switch (peek()) {
            case '(': return parseGroup(field);
            case '"': return parsePhrase(field);
            case '[':
            case '{':
                if (field.empty()) {
                    fail(start, "a range needs a field, as in StudyDate:[20150101 TO 20151231]");
                }
                return parseRange(field);
            case ')': fail(start, "unexpected ')'");
            case ']':
            case '}': fail(start, std::string("unexpected '") + peek() + "' outside a range");
            case ':': fail(start, "expected a field name before ':'");
            default: break;
        }
        const ScannedTerm term = scanTerm();
        if (peek() != ':') return termNode(field, term);

        // "name:" — the term was a field name.
        const std::string_view name = text_.substr(start, pos_ - start);
        if (name == "*") {
            if (peek(1) == '*' && boundaryAt(pos_ + 2)) {
                pos_ += 2;
                return MatchAllQuery{};
            }
            fail(start, "'*' is not a field name; '*:*' matches everything");
        }
        bool keywordShape = !term.escaped && !name.empty();
        for (const char c : name) keywordShape = keywordShape && isFieldChar(c);
        if (!keywordShape) {
            fail(start, "'" + std::string(name) +
                            "' is not a field name (letters, digits and '_'); write '\\:' to "
                            "search for a colon");
        }
        ++pos_;
        return parseValue(name, start);
    }

    // After "Field:".
    QueryNode parseValue(std::string_view field, std::size_t fieldPosition) {
        skipSpace();
        const std::string expected =
            "expected a value after '" + std::string(field) + ":' " + at(fieldPosition);
        if (atEnd()) fail(pos_, expected);
        switch (peek()) {
            case '(': return parseGroup(field);
            case '"': return parsePhrase(field);
            case '[':
            case '{': return parseRange(field);
            case ')':
            case ']':
            case '}':
            case ':': fail(pos_, expected + ", found '" + std::string(1, peek()) + "'");
            default: break;
        }
        const OperatorToken op = peekOperator();
        if (op.op != Operator::None) {
            fail(pos_, expected + ", found the operator " + tokenText(op.length) +
                           " (quote or escape it to search for the word)");
        }
        const ScannedTerm term = scanTerm();
        if (peek() == ':') {
            fail(pos_, "unexpected ':' in the value of '" + std::string(field) +
                           "'; write '\\:' to search for a colon");
        }
        return termNode(field, term);
    }

    static QueryNode termNode(std::string_view field, const ScannedTerm& term) {
        if (!term.wildcard) return TermQuery{std::string(field), term.value};
        if (field.empty() && term.pattern == "*") return MatchAllQuery{};
        return WildcardQuery{std::string(field), term.pattern};
    }

    // Reads a term up to a delimiter; at least one byte is there (the callers checked).
    ScannedTerm scanTerm() {
        ScannedTerm term;
        while (!atEnd() && !endsTerm(peek())) {
            const char c = peek();
            if (c == '\\') {
                requireEscapedByte();
                const char escaped = text_[pos_ + 1];
                term.escaped = true;
                term.value += escaped;
                if (escaped == '*' || escaped == '?' || escaped == '\\') term.pattern += '\\';
                term.pattern += escaped;
                pos_ += 2;
                continue;
            }
            if (c == '~') fail(pos_, kFuzzyUnsupported);
            if (c == '*' || c == '?') term.wildcard = true;
            term.value += c;
            term.pattern += c;
            ++pos_;
        }
        return term;
    }

    QueryNode parseGroup(std::string_view field) {
        const std::size_t open = pos_;
        enter(open);
        ++pos_;
        skipSpace();
        const std::string close = "expected ')' to close the group opened " + at(open);
        if (atEnd()) fail(pos_, close);
        if (peek() == ')') fail(pos_, "empty group: the '(' " + at(open) + " is closed at once");
        QueryNode node = parseOr(field);
        skipSpace();
        if (atEnd()) fail(pos_, close);
        ++pos_;  // parseOr stops only at the end or at ')'
        leave();
        return node;
    }

    // Reads a quoted string starting at the '"' under pos_; escapes resolved.
    std::string scanQuoted(std::string_view what) {
        const std::size_t open = pos_;
        ++pos_;
        std::string text;
        for (;;) {
            if (atEnd())
                fail(pos_,
                     "expected '\"' to close the " + std::string(what) + " started " + at(open));
            const char c = peek();
            if (c == '"') {
                ++pos_;
                return text;
            }
            if (c == '\\') {
                requireEscapedByte();
                text += text_[pos_ + 1];
                pos_ += 2;
                continue;
            }
            text += c;
            ++pos_;
        }
    }

    QueryNode parsePhrase(std::string_view field) {
        const std::size_t open = pos_;
        std::string phrase = scanQuoted("phrase");
        if (peek() == '~') fail(pos_, kFuzzyUnsupported);
        if (phrase.empty()) fail(open, "empty phrase");
        return PhraseQuery{std::string(field), std::move(phrase)};
    }

    std::optional<std::string> scanRangeBound(std::size_t open) {
        if (atEnd() || peek() == ']' || peek() == '}') {
            fail(pos_, "expected a bound in the range started " + at(open));
        }
        if (peek() == '"') return scanQuoted("quoted bound");
        std::string bound;
        bool escaped = false;
        while (!atEnd() && !isSpace(peek()) && peek() != ']' && peek() != '}') {
            if (peek() == '\\') {
                requireEscapedByte();
                escaped = true;
                bound += text_[pos_ + 1];
                pos_ += 2;
                continue;
            }
            bound += peek();
            ++pos_;
        }
        if (!escaped && bound == "*") return std::nullopt;
        return bound;
    }

    QueryNode parseRange(std::string_view field) {
        const std::size_t open = pos_;
        RangeQuery range;
        range.field = std::string(field);
        range.includeLower = peek() == '[';
        ++pos_;
        skipSpace();
        range.lower = scanRangeBound(open);
        skipSpace();
        const std::string_view rest = text_.substr(pos_);
        const bool toHere =
            rest.starts_with("TO") &&
            (pos_ + 2 >= text_.size() || isSpace(text_[pos_ + 2]) || text_[pos_ + 2] == '"' ||
             text_[pos_ + 2] == ']' || text_[pos_ + 2] == '}');
        if (!toHere) {
            const bool lowerCase = rest.size() >= 2 && (rest[0] == 't' || rest[0] == 'T') &&
                                   (rest[1] == 'o' || rest[1] == 'O');
            fail(pos_, "expected 'TO' in the range started " + at(open) +
                           (lowerCase ? " ('TO' must be upper case)" : ""));
        }
        pos_ += 2;
        skipSpace();
        range.upper = scanRangeBound(open);
        skipSpace();
        if (atEnd() || (peek() != ']' && peek() != '}')) {
            fail(pos_, "expected ']' or '}' to close the range started " + at(open));
        }
        range.includeUpper = peek() == ']';
        ++pos_;
        return range;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
};

}  // namespace

sdk::QueryNode parseQuery(std::string_view text) { return Parser(text).parse(); }

}  // namespace tessera::core
