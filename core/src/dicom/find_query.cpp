#include "tessera/core/dicom/find_query.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <set>

namespace tessera::core {
namespace {

constexpr std::array kReturnOnly = {
    std::string_view("QueryRetrieveLevel"),
    std::string_view("SpecificCharacterSet"),
    std::string_view("RetrieveAETitle"),
    std::string_view("InstanceAvailability"),
    std::string_view("NumberOfPatientRelatedStudies"),
    std::string_view("NumberOfPatientRelatedSeries"),
    std::string_view("NumberOfPatientRelatedInstances"),
    std::string_view("NumberOfStudyRelatedSeries"),
    std::string_view("NumberOfStudyRelatedInstances"),
    std::string_view("NumberOfSeriesRelatedInstances"),
    std::string_view("TimezoneOffsetFromUTC"),
    std::string_view("QueryRetrieveView"),
    std::string_view("StorageMediaFileSetID"),
    std::string_view("StorageMediaFileSetUID"),
    std::string_view("RetrieveURL"),
    std::string_view("RetrieveURI"),
    std::string_view("RetrieveLocationUID"),
};

// string_views, not C strings: a test per record compares lengths and two bytes, no strlen.
constexpr std::array<std::string_view, 9> kBinaryVrs = {"SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN", "AT"};
constexpr std::array<std::string_view, 10> kNumericVrs = {"IS", "DS", "US", "SS", "UL", "SL",
                                                          "FL", "FD", "SV", "UV"};

template <std::size_t N>
bool oneOf(const std::array<std::string_view, N>& list, std::string_view vr) {
    return std::find(list.begin(), list.end(), vr) != list.end();
}

bool isDateTimeVr(std::string_view vr) {
    return vr == "DA" || vr == "TM" || vr == "DT";
}
bool isNumericVr(std::string_view vr) {
    return oneOf(kNumericVrs, vr);
}
bool takesWildcards(std::string_view vr) {
    return !isDateTimeVr(vr) && !isNumericVr(vr) && vr != "UI";
}

std::string trimmed(std::string_view text) {
    const auto isPad = [](char c) { return c == ' ' || c == '\0' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && isPad(text.front())) text.remove_prefix(1);
    while (!text.empty() && isPad(text.back())) text.remove_suffix(1);
    return std::string(text);
}

std::string asciiLower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

// splitValues without copies: `visit` gets each trimmed value of a multi-valued string in turn
// (a view into `value`) until it returns true; returns whether one did.
template <typename Visit>
bool anyValue(std::string_view value, const Visit& visit) {
    const auto isPad = [](char c) { return c == ' ' || c == '\0' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t start = 0;
    while (true) {
        const auto pos = value.find('\\', start);
        std::string_view part = value.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
        while (!part.empty() && isPad(part.front())) part.remove_prefix(1);
        while (!part.empty() && isPad(part.back())) part.remove_suffix(1);
        if (visit(part)) return true;
        if (pos == std::string_view::npos) return false;
        start = pos + 1;
    }
}

std::vector<std::string> splitValues(std::string_view value) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto pos = value.find('\\', start);
        parts.push_back(
            trimmed(value.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start)));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

std::string withoutChars(std::string_view text, char drop) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c != drop) out.push_back(c);
    }
    return out;
}

// TM `HHMM` -> `HHMM00`: stored short forms compare with full bounds.
std::string padTime(std::string text) {
    const auto dot = text.find('.');
    const auto digits = dot == std::string::npos ? text.size() : dot;
    if (digits > 0 && digits < 6 && digits % 2 == 0) text.insert(digits, std::string(6 - digits, '0'));
    return text;
}

// Legacy forms, trimmed; PN without trailing empty components. Short times are padded with
// zeros unless they are an upper bound (padUpper pads those the other way).
std::string normalise(std::string_view vr, std::string_view value, bool padShortTime = true) {
    std::string text = trimmed(value);
    if (vr == "DA") return withoutChars(text, '.');
    if (vr == "TM") return padShortTime ? padTime(withoutChars(text, ':')) : withoutChars(text, ':');
    if (vr == "PN") {
        while (!text.empty() && (text.back() == '^' || text.back() == '=' || text.back() == ' ')) text.pop_back();
    }
    return text;
}

// An upper bound covers every value it is a prefix of.
std::string padUpper(std::string_view vr, std::string text) {
    std::string_view pattern;
    if (vr == "DA")
        pattern = "99991231";
    else if (vr == "TM")
        pattern = "235959.999999";
    else if (vr == "DT")
        pattern = "99991231235959.999999";
    if (text.size() < pattern.size()) text += pattern.substr(text.size());
    return text;
}

std::optional<double> parseNumber(std::string_view text) {
    const std::string value = trimmed(text);
    if (value.empty()) return std::nullopt;
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (end != value.c_str() + value.size()) return std::nullopt;
    return number;
}

std::u32string codePoints(std::string_view utf8) {
    std::u32string out;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto byte = static_cast<unsigned char>(utf8[i]);
        int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 1;
        if (i + static_cast<std::size_t>(length) > utf8.size()) length = 1;
        char32_t point = length == 1 ? byte : byte & (0x7F >> length);
        for (int k = 1; k < length; ++k) point = (point << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        out.push_back(point);
        i += static_cast<std::size_t>(length);
    }
    return out;
}

// `*` any run, `?` one character (code point); iterative with one backtrack point.
bool globMatch(std::string_view pattern, std::string_view text) {
    const auto p = codePoints(pattern);
    const auto t = codePoints(text);
    std::size_t pi = 0, ti = 0, starP = std::u32string::npos, starT = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == U'?' || p[pi] == t[ti])) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == U'*') {
            starP = pi++;
            starT = ti;
        } else if (starP != std::u32string::npos) {
            pi = starP + 1;
            ti = ++starT;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == U'*') ++pi;
    return pi == p.size();
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

std::optional<QueryLevel> parseQueryLevel(std::string_view text) {
    const auto value = trimmed(text);
    if (value == "PATIENT") return QueryLevel::Patient;
    if (value == "STUDY") return QueryLevel::Study;
    if (value == "SERIES") return QueryLevel::Series;
    if (value == "IMAGE") return QueryLevel::Image;
    return std::nullopt;
}

std::string_view toString(QueryLevel level) {
    switch (level) {
        case QueryLevel::Patient:
            return "PATIENT";
        case QueryLevel::Study:
            return "STUDY";
        case QueryLevel::Series:
            return "SERIES";
        case QueryLevel::Image:
            return "IMAGE";
    }
    return "IMAGE";
}

bool FindQuery::isReturnOnly(std::string_view keyword) {
    return std::find(kReturnOnly.begin(), kReturnOnly.end(), keyword) != kReturnOnly.end();
}

FindQuery::FindQuery(const std::vector<FindKey>& keys) {
    sdk::BooleanQuery all;
    for (const auto& key : keys) {
        if (key.keyword.empty() || isReturnOnly(key.keyword) || oneOf(kBinaryVrs, key.vr)) continue;
        Condition condition;
        condition.field = key.keyword == "ModalitiesInStudy" ? "Modality" : key.keyword;
        condition.vr = key.keyword == "ModalitiesInStudy" ? "CS" : key.vr;
        const auto& vr = condition.vr;
        bool universal = false;
        for (const auto& part : splitValues(key.value)) {
            if (part.empty() || part.find_first_not_of('*') == std::string::npos) {
                // One universal value in a list makes the whole key universal.
                universal = true;
                break;
            }
            Alternative alternative;
            const auto dash = part.find('-');
            const bool range = isDateTimeVr(vr) && dash != std::string::npos &&
                               part.find('-', dash + 1) == std::string::npos && part != "-";
            if (range) {
                alternative.kind = Kind::Range;
                const auto lower = normalise(vr, part.substr(0, dash));
                const auto upper = normalise(vr, part.substr(dash + 1), false);
                if (!lower.empty()) alternative.lower = lower;
                if (!upper.empty()) alternative.upper = padUpper(vr, upper);
            } else if (takesWildcards(vr) && part.find_first_of("*?") != std::string::npos) {
                alternative.kind = Kind::Wildcard;
                alternative.value = vr == "PN" ? normalise(vr, part) : part;
            } else {
                alternative.kind = Kind::Exact;
                alternative.value = normalise(vr, part);
            }
            condition.alternatives.push_back(std::move(alternative));
        }
        if (universal || condition.alternatives.empty()) continue;

        sdk::BooleanQuery anyOf;
        std::string text;
        for (const auto& alternative : condition.alternatives) {
            sdk::QueryNode node;
            switch (alternative.kind) {
                case Kind::Exact:
                    if (vr == "TM") {
                        // The index pads times for ranges, not for terms: `1200` must find `120000`.
                        node = sdk::RangeQuery{condition.field, alternative.value, alternative.value, true, true};
                    } else {
                        node = sdk::TermQuery{condition.field, alternative.value};
                    }
                    text += (text.empty() ? "" : " OR ") + condition.field + ":" + quoted(alternative.value);
                    break;
                case Kind::Wildcard: {
                    // In the SDK pattern a backslash escapes; DICOM values cannot hold one
                    // (it separates values), but stay exact anyway.
                    std::string pattern;
                    for (char c : alternative.value) {
                        if (c == '\\') pattern.push_back('\\');
                        pattern.push_back(c);
                    }
                    node = sdk::WildcardQuery{condition.field, pattern};
                    text += (text.empty() ? "" : " OR ") + condition.field + ":" + quoted(alternative.value);
                    break;
                }
                case Kind::Range:
                    node = sdk::RangeQuery{condition.field, alternative.lower, alternative.upper, true, true};
                    text += (text.empty() ? "" : " OR ") + condition.field + ":[" + alternative.lower.value_or("*") +
                            " TO " + alternative.upper.value_or("*") + "]";
                    break;
            }
            anyOf.clauses.push_back({sdk::Occur::Should, std::move(node)});
        }
        if (anyOf.clauses.size() == 1) {
            all.clauses.push_back({sdk::Occur::Must, std::move(anyOf.clauses.front().node)});
        } else {
            text = "(" + text + ")";
            all.clauses.push_back({sdk::Occur::Must, std::move(anyOf)});
        }
        text_ += (text_.empty() ? "" : " AND ") + text;
        conditions_.push_back(std::move(condition));
    }
    if (all.clauses.empty()) {
        query_ = sdk::MatchAllQuery{};
        text_ = "*:*";
    } else if (all.clauses.size() == 1) {
        query_ = std::move(all.clauses.front().node);
    } else {
        query_ = std::move(all);
    }
}

std::vector<std::string> FindQuery::fields() const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& condition : conditions_) {
        if (seen.insert(condition.field).second) out.push_back(condition.field);
    }
    return out;
}

bool FindQuery::matchesOne(const Condition& condition, const Alternative& alternative, std::string_view stored) {
    const auto& vr = condition.vr;
    switch (alternative.kind) {
        case Kind::Exact: {
            if (isNumericVr(vr)) {
                const auto a = parseNumber(alternative.value);
                const auto b = parseNumber(stored);
                if (a && b) return *a == *b;
            }
            return equalsIgnoringAsciiCase(normalise(vr, stored), alternative.value);
        }
        case Kind::Wildcard:
            return globMatch(asciiLower(alternative.value), asciiLower(normalise(vr, stored)));
        case Kind::Range: {
            auto value = normalise(vr, stored);
            if (vr == "DT") value = asciiLower(value);
            if (value.empty()) return false;
            if (alternative.lower && value < *alternative.lower) return false;
            if (alternative.upper && value > *alternative.upper) return false;
            return true;
        }
    }
    return false;
}

bool FindQuery::matches(const std::map<std::string, std::string>& fields) const {
    for (const auto& condition : conditions_) {
        const auto it = fields.find(condition.field);
        if (it == fields.end()) return false;
        const bool any = anyValue(it->second, [&](std::string_view stored) {
            return std::any_of(
                condition.alternatives.begin(), condition.alternatives.end(),
                [&](const Alternative& alternative) { return matchesOne(condition, alternative, stored); });
        });
        if (!any) return false;
    }
    return true;
}

}  // namespace tessera::core
