#include "tessera/plugins/sqlite/sql_query_compiler.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "tessera/plugins/sqlite/record_builder.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::sqlite {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// Trees come from the host's parser (depth-capped), but a provider must not trust its callers
/// with its stack either (the xapian provider's limit).
constexpr std::size_t kMaxDepth = 256;

constexpr std::string_view kAll = "1";
constexpr std::string_view kNone = "0";

// The only SQL text a query can produce: these fragments, allWords' joins, the range and glob
// pieces below, "(", ")", " AND ", " OR ", "NOT ".
constexpr std::string_view kValueEquals = "i.id IN (SELECT doc FROM value_index WHERE field = ? AND value = ?)";
constexpr std::string_view kKeyEquals = "i.id IN (SELECT doc FROM key_index WHERE field = ? AND key = ?)";
constexpr std::string_view kPresent = "i.id IN (SELECT doc FROM value_index WHERE field = ?)";
constexpr std::string_view kFieldPhrase =
    "i.id IN (SELECT p.doc FROM word_index w JOIN phrase_index p ON p.doc = w.doc AND p.field = w.field"
    " WHERE w.field = ? AND w.word = ? AND instr(p.words, ?) > 0)";
constexpr std::string_view kTextPhrase =
    "i.id IN (SELECT p.doc FROM text_index t JOIN phrase_index p ON p.doc = t.doc"
    " WHERE t.word = ? AND p.free = 1 AND instr(p.words, ?) > 0)";

bool isConstant(const CompiledSql& sql, std::string_view constant) { return sql.predicate == constant; }

// Every one of `words` in one field (field id given) or, without a field id, in the free text:
// one subquery that starts from the most selective word and looks each other word up by
// (field, word, doc) / (word, doc), instead of one IN-list per word. The order matters because
// a common word ("syn42" in every "SYN42-..." PatientID) would otherwise be materialised in
// full; without statistics the longest word is taken as the rarest, and CROSS JOIN makes SQLite
// keep that order. Only aliases (w0, w1, ...) are generated; every word is a parameter.
CompiledSql allWords(std::vector<std::string> words, std::optional<SqlValue> field) {
    std::stable_sort(words.begin(), words.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    words.erase(std::unique(words.begin(), words.end()), words.end());
    const std::string_view table = field ? "word_index" : "text_index";
    CompiledSql out;
    // Built with append(): GCC 12 reports a false -Wrestrict on chains of std::string operator+.
    out.predicate.append("i.id IN (SELECT w0.doc FROM ").append(table).append(" w0");
    for (std::size_t n = 1; n < words.size(); ++n) {
        const std::string alias = std::to_string(n);
        out.predicate.append(" CROSS JOIN ").append(table).append(" w").append(alias);
        out.predicate.append(" ON w").append(alias).append(".doc = w0.doc AND w").append(alias).append(".word = ?");
        if (field) out.predicate.append(" AND w").append(alias).append(".field = w0.field");
        out.params.push_back(words[n]);
    }
    out.predicate.append(field ? " WHERE w0.field = ? AND w0.word = ?)" : " WHERE w0.word = ?)");
    if (field) out.params.push_back(*field);
    out.params.push_back(words.front());
    return out;
}

CompiledSql constant(std::string_view value) { return CompiledSql{std::string(value), {}}; }

CompiledSql fragment(std::string_view sql, std::vector<SqlValue> params) {
    return CompiledSql{std::string(sql), std::move(params)};
}

/// Joins conditions with AND or OR, folding the constants.
CompiledSql join(std::vector<CompiledSql> parts, bool conjunction) {
    const std::string_view absorbing = conjunction ? kNone : kAll;
    const std::string_view neutral = conjunction ? kAll : kNone;
    std::vector<CompiledSql> kept;
    for (auto& part : parts) {
        if (isConstant(part, absorbing)) return constant(absorbing);
        if (!isConstant(part, neutral)) kept.push_back(std::move(part));
    }
    if (kept.empty()) return constant(neutral);
    if (kept.size() == 1) return std::move(kept.front());
    CompiledSql out;
    out.predicate = "(";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i > 0) out.predicate += conjunction ? " AND " : " OR ";
        out.predicate += kept[i].predicate;
        for (auto& p : kept[i].params) out.params.push_back(std::move(p));
    }
    out.predicate += ")";
    return out;
}

CompiledSql allOf(std::vector<CompiledSql> parts) { return join(std::move(parts), true); }
CompiledSql anyOf(std::vector<CompiledSql> parts) { return join(std::move(parts), false); }

CompiledSql andNot(CompiledSql positive, CompiledSql negative) {
    if (isConstant(negative, kNone)) return positive;
    if (isConstant(negative, kAll) || isConstant(positive, kNone)) return constant(kNone);
    CompiledSql notPart;
    notPart.predicate = "NOT (" + negative.predicate + ")";
    notPart.params = std::move(negative.params);
    std::vector<CompiledSql> parts;
    parts.push_back(std::move(positive));
    parts.push_back(std::move(notPart));
    return allOf(std::move(parts));
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

std::int64_t fieldParam(const FieldInfo& info) { return static_cast<std::int64_t>(info.id); }

xapian::FieldKind toXapian(FieldKind kind) noexcept { return static_cast<xapian::FieldKind>(kind); }

/// "doc FROM <table> WHERE <field clause> AND <column> GLOB ?" narrowed by the literal prefix.
void appendGlobSelect(std::string& sql, std::vector<SqlValue>& params, std::string_view table, std::string_view column,
                      const std::optional<FieldInfo>& field, const GlobPattern& pattern) {
    sql += "SELECT doc FROM ";
    sql += table;
    sql += " WHERE ";
    if (field) {
        sql += "field = ? AND ";
        params.emplace_back(fieldParam(*field));
    }
    if (!pattern.literalPrefix.empty()) {
        sql += column;
        sql += " >= ? AND ";
        params.emplace_back(pattern.literalPrefix);
        if (auto upper = prefixUpperBound(pattern.literalPrefix)) {
            sql += column;
            sql += " < ? AND ";
            params.emplace_back(std::move(*upper));
        }
    }
    sql += column;
    sql += " GLOB ?";
    params.emplace_back(pattern.glob);
}

}  // namespace

GlobPattern toGlob(std::string_view pattern) {
    GlobPattern out;
    bool seenWildcard = false;
    std::string literal;  // a run of literal bytes, lower-cased as a whole (code point aware)
    auto flush = [&] {
        if (literal.empty()) return;
        const std::string lowered = xapian::lowerCase(literal);
        if (!seenWildcard) out.literalPrefix += lowered;
        for (char c : lowered) {
            if (c == '*') out.glob += "[*]";
            else if (c == '?') out.glob += "[?]";
            else if (c == '[') out.glob += "[[]";
            else out.glob.push_back(c);
        }
        out.onlyStars = false;
        literal.clear();
    };
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size() && (pattern[i + 1] == '*' || pattern[i + 1] == '?' || pattern[i + 1] == '\\')) {
            literal.push_back(pattern[++i]);
        } else if (c == '*' || c == '?') {
            flush();
            seenWildcard = true;
            out.glob.push_back(c);
            if (c == '?') out.onlyStars = false;
        } else {
            literal.push_back(c);
        }
    }
    flush();
    return out;
}

std::optional<std::string> prefixUpperBound(std::string_view prefix) {
    std::string upper(prefix);
    while (!upper.empty()) {
        auto last = static_cast<unsigned char>(upper.back());
        if (last < 0xff) {
            upper.back() = static_cast<char>(last + 1);
            return upper;
        }
        upper.pop_back();
    }
    return std::nullopt;
}

SqlQueryCompiler::SqlQueryCompiler(FieldLookup lookup) : lookup_(std::move(lookup)) {}

CompiledSql SqlQueryCompiler::compile(const sdk::QueryNode& root) const { return node(root, 0); }

CompiledSql SqlQueryCompiler::node(const sdk::QueryNode& n, std::size_t depth) const {
    if (depth > kMaxDepth) throw Error(ErrorCode::InvalidArgument, "The query is nested too deeply");
    return std::visit(
        [&](const auto& q) -> CompiledSql {
            using T = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<T, sdk::MatchAllQuery>) return constant(kAll);
            else if constexpr (std::is_same_v<T, sdk::TermQuery>) return term(q);
            else if constexpr (std::is_same_v<T, sdk::PhraseQuery>) return phrase(q);
            else if constexpr (std::is_same_v<T, sdk::WildcardQuery>) return wildcard(q);
            else if constexpr (std::is_same_v<T, sdk::RangeQuery>) return range(q);
            else return boolean(q, depth);
        },
        n);
}

CompiledSql SqlQueryCompiler::term(const sdk::TermQuery& query) const {
    const std::string value = xapian::lowerCase(trimmed(query.value));
    const std::vector<std::string> valueWords = xapian::words(value);
    if (query.field.empty()) return valueWords.empty() ? constant(kNone) : allWords(valueWords, std::nullopt);
    const auto info = lookup_(query.field);
    if (!info) return constant(kNone);
    std::vector<CompiledSql> alternatives;
    alternatives.push_back(
        fragment(kValueEquals, {fieldParam(*info), xapian::normaliseForTerm(toXapian(info->kind), value)}));
    if (!valueWords.empty()) alternatives.push_back(allWords(valueWords, fieldParam(*info)));
    if (info->kind == FieldKind::Numeric) {
        if (auto number = xapian::parseNumber(value)) alternatives.push_back(fragment(kKeyEquals, {fieldParam(*info), *number}));
    }
    return anyOf(std::move(alternatives));
}

CompiledSql SqlQueryCompiler::phrase(const sdk::PhraseQuery& query) const {
    const std::string value = xapian::lowerCase(trimmed(query.phrase));
    const std::vector<std::string> phraseWords = xapian::words(value);
    if (phraseWords.size() <= 1) return term(sdk::TermQuery{query.field, query.phrase});
    const std::string joined = joinPhraseWords(phraseWords);
    if (query.field.empty()) return fragment(kTextPhrase, {phraseWords.front(), joined});
    const auto info = lookup_(query.field);
    if (!info) return constant(kNone);
    std::vector<CompiledSql> alternatives;
    alternatives.push_back(
        fragment(kValueEquals, {fieldParam(*info), xapian::normaliseForTerm(toXapian(info->kind), value)}));
    alternatives.push_back(fragment(kFieldPhrase, {fieldParam(*info), phraseWords.front(), joined}));
    return anyOf(std::move(alternatives));
}

CompiledSql SqlQueryCompiler::wildcard(const sdk::WildcardQuery& query) const {
    const GlobPattern pattern = toGlob(query.pattern);
    std::optional<FieldInfo> info;
    if (!query.field.empty()) {
        info = lookup_(query.field);
        if (!info) return constant(kNone);
    }
    if (pattern.onlyStars) {
        if (!info) return constant(kAll);
        return fragment(kPresent, {fieldParam(*info)});
    }
    CompiledSql out;
    out.predicate = "i.id IN (";
    if (info) {
        appendGlobSelect(out.predicate, out.params, "value_index", "value", info, pattern);
        out.predicate += " UNION ALL ";
        appendGlobSelect(out.predicate, out.params, "word_index", "word", info, pattern);
    } else {
        appendGlobSelect(out.predicate, out.params, "text_index", "word", std::nullopt, pattern);
    }
    out.predicate += ")";
    return out;
}

CompiledSql SqlQueryCompiler::range(const sdk::RangeQuery& query) const {
    if (query.field.empty()) throw Error(ErrorCode::InvalidArgument, "A range needs a field");
    const auto info = lookup_(query.field);
    if (!info) return constant(kNone);  // no object has this attribute

    auto bound = [&](const std::optional<std::string>& text) -> std::optional<SqlValue> {
        if (!text) return std::nullopt;
        const std::string lowered = xapian::lowerCase(trimmed(*text));
        if (info->kind == FieldKind::Text) return SqlValue(lowered);
        if (info->kind == FieldKind::Numeric) {
            if (auto number = xapian::parseNumber(lowered)) return SqlValue(*number);
        } else if (auto key = xapian::sortableKey(toXapian(info->kind), lowered)) {
            return SqlValue(std::move(*key));
        }
        throw Error(ErrorCode::InvalidArgument, "Range bound '" + *text + "' does not fit " + query.field +
                                                    (info->kind == FieldKind::Numeric ? ", which holds numbers" : ""));
    };
    auto lower = bound(query.lower);
    auto upper = bound(query.upper);
    const bool keyed = info->kind != FieldKind::Text;
    const std::string_view column = keyed ? "key" : "value";
    CompiledSql out;
    out.predicate = keyed ? "i.id IN (SELECT doc FROM key_index WHERE field = ?" : "i.id IN (SELECT doc FROM value_index WHERE field = ?";
    out.params.emplace_back(fieldParam(*info));
    if (lower) {
        out.predicate += " AND ";
        out.predicate += column;
        out.predicate += query.includeLower ? " >= ?" : " > ?";
        out.params.push_back(std::move(*lower));
    }
    if (upper) {
        out.predicate += " AND ";
        out.predicate += column;
        out.predicate += query.includeUpper ? " <= ?" : " < ?";
        out.params.push_back(std::move(*upper));
    }
    out.predicate += ")";
    return out;
}

CompiledSql SqlQueryCompiler::boolean(const sdk::BooleanQuery& query, std::size_t depth) const {
    std::vector<CompiledSql> musts, shoulds, mustNots;
    for (const auto& clause : query.clauses) {
        CompiledSql compiled = node(clause.node, depth + 1);
        switch (clause.occur) {
            case sdk::Occur::Must: musts.push_back(std::move(compiled)); break;
            case sdk::Occur::Should: shoulds.push_back(std::move(compiled)); break;
            case sdk::Occur::MustNot: mustNots.push_back(std::move(compiled)); break;
        }
    }
    CompiledSql positive;
    // With Musts present, Shoulds only affect ranking, and we do not rank (as the xapian
    // provider): leave them out.
    if (!musts.empty()) positive = allOf(std::move(musts));
    else if (!shoulds.empty()) positive = anyOf(std::move(shoulds));
    else if (!mustNots.empty()) positive = constant(kAll);
    else return constant(kNone);
    if (mustNots.empty()) return positive;
    return andNot(std::move(positive), anyOf(std::move(mustNots)));
}

}  // namespace tessera::plugins::sqlite
