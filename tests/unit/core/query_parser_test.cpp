#include "tessera/core/query/query_parser.hpp"
#include "tessera/core/query/query_printer.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using tessera::core::parseQuery;
using tessera::core::QuerySyntaxError;
using tessera::core::toDebugString;
using tessera::sdk::BooleanQuery;
using tessera::sdk::MatchAllQuery;
using tessera::sdk::Occur;
using tessera::sdk::PhraseQuery;
using tessera::sdk::QueryClause;
using tessera::sdk::QueryNode;
using tessera::sdk::RangeQuery;
using tessera::sdk::TermQuery;
using tessera::sdk::WildcardQuery;

QueryNode term(std::string field, std::string value) {
    return TermQuery{std::move(field), std::move(value)};
}
QueryNode text(std::string value) { return TermQuery{"", std::move(value)}; }
QueryNode wild(std::string field, std::string pattern) {
    return WildcardQuery{std::move(field), std::move(pattern)};
}
QueryNode phrase(std::string field, std::string words) {
    return PhraseQuery{std::move(field), std::move(words)};
}
QueryNode range(std::string field, std::optional<std::string> lower,
                std::optional<std::string> upper, bool includeLower = true,
                bool includeUpper = true) {
    return RangeQuery{std::move(field), std::move(lower), std::move(upper), includeLower,
                      includeUpper};
}
QueryNode all() { return MatchAllQuery{}; }
QueryClause must(QueryNode node) { return QueryClause{Occur::Must, std::move(node)}; }
QueryClause should(QueryNode node) { return QueryClause{Occur::Should, std::move(node)}; }
QueryClause mustNot(QueryNode node) { return QueryClause{Occur::MustNot, std::move(node)}; }
QueryNode anyOf(std::vector<QueryClause> clauses) { return BooleanQuery{std::move(clauses)}; }

struct Case {
    std::string query;
    QueryNode expected;
    std::string printed;
};

std::vector<Case> goodQueries() {
    return {
        // Terms, fields, free text.
        {"PatientName:SMITH", term("PatientName", "SMITH"), "PatientName:SMITH"},
        {"smith", text("smith"), "smith"},
        {"PatientName:SMITH^JOHN", term("PatientName", "SMITH^JOHN"), "PatientName:SMITH^JOHN"},
        {"StudyInstanceUID:1.2.840.113619.2.55.3",
         term("StudyInstanceUID", "1.2.840.113619.2.55.3"),
         "StudyInstanceUID:1.2.840.113619.2.55.3"},
        {"SOPInstanceUID:1.2.840-5", term("SOPInstanceUID", "1.2.840-5"),
         "SOPInstanceUID:1.2.840-5"},
        {"StudyDate:2015-01-01", term("StudyDate", "2015-01-01"), "StudyDate:2015-01-01"},
        {"2015-01-01", text("2015-01-01"), "2015-01-01"},
        {"a+b", text("a+b"), "a+b"},
        {"a!b", text("a!b"), "a!b"},
        {"a&&b", text("a&&b"), "a&&b"},
        {R"(uri:file\:/data/a.dcm)", term("uri", "file:/data/a.dcm"), R"(uri:file\:/data/a.dcm)"},
        {"InstitutionName:A/B", term("InstitutionName", "A/B"), "InstitutionName:A/B"},
        {"x:y", term("x", "y"), "x:y"},
        {"ViewCodeSequence_CodeValue:R-10206", term("ViewCodeSequence_CodeValue", "R-10206"),
         "ViewCodeSequence_CodeValue:R-10206"},
        {"AND:x", term("AND", "x"), "AND:x"},
        {"SeriesNumber:-5", term("SeriesNumber", "-5"), "SeriesNumber:-5"},
        {"PatientName: smith", term("PatientName", "smith"), "PatientName:smith"},
        {"  \tPatientName:x\n ", term("PatientName", "x"), "PatientName:x"},
        {"PatientName:O'Brien", term("PatientName", "O'Brien"), R"(PatientName:O\'Brien)"},
        {"\xC3\x89mile", text("\xC3\x89mile"), "\xC3\x89mile"},
        // Escapes.
        {R"(PatientName:a\*b)", term("PatientName", "a*b"), R"(PatientName:a\*b)"},
        {R"(PatientName:a\\b)", term("PatientName", R"(a\b)"), R"(PatientName:a\\b)"},
        {R"(PatientName:a\ b)", term("PatientName", "a b"), R"(PatientName:a\ b)"},
        {R"(\-a)", text("-a"), R"(\-a)"},
        {R"(\AND)", text("AND"), R"(\AND)"},
        {R"(PatientName:\AND)", term("PatientName", "AND"), R"(PatientName:\AND)"},
        {R"(a\~b)", text("a~b"), R"(a\~b)"},
        // Wildcards and match-all.
        {"PatientName:smi*", wild("PatientName", "smi*"), "PatientName:smi*"},
        {"PatientName:*ith", wild("PatientName", "*ith"), "PatientName:*ith"},
        {"PatientName:sm?th", wild("PatientName", "sm?th"), "PatientName:sm?th"},
        {"smi*", wild("", "smi*"), "smi*"},
        {"PatientName:*", wild("PatientName", "*"), "PatientName:*"},
        {"*:*", all(), "*:*"},
        {"*", all(), "*:*"},
        {"?", wild("", "?"), "?"},
        {"**", wild("", "**"), "**"},
        {R"(PatientName:a\*b*)", wild("PatientName", R"(a\*b*)"), R"(PatientName:a\*b*)"},
        {R"(PatientName:a\\b*)", wild("PatientName", R"(a\\b*)"), R"(PatientName:a\\b*)"},
        {R"(PatientName:a\:b?)", wild("PatientName", "a:b?"), R"(PatientName:a\:b?)"},
        {"PatientName:M\xC3\xBCller*", wild("PatientName", "M\xC3\xBCller*"),
         "PatientName:M\xC3\xBCller*"},
        // Phrases.
        {R"(PatientName:"John Smith")", phrase("PatientName", "John Smith"),
         R"(PatientName:"John Smith")"},
        {R"("john smith")", phrase("", "john smith"), R"("john smith")"},
        {R"(PatientName:"say \"hi\" \\o/")", phrase("PatientName", R"(say "hi" \o/)"),
         R"(PatientName:"say \"hi\" \\o/")"},
        {R"(StudyDescription:"chest*")", phrase("StudyDescription", "chest*"),
         R"(StudyDescription:"chest*")"},
        {R"("a b"c)", anyOf({should(phrase("", "a b")), should(text("c"))}), R"(("a b" c))"},
        // Ranges.
        {"StudyDate:[20150101 TO 20151231]", range("StudyDate", "20150101", "20151231"),
         "StudyDate:[20150101 TO 20151231]"},
        {"StudyDate:{20150101 TO 20151231}",
         range("StudyDate", "20150101", "20151231", false, false),
         "StudyDate:{20150101 TO 20151231}"},
        {"StudyDate:[20150101 TO 20151231}",
         range("StudyDate", "20150101", "20151231", true, false),
         "StudyDate:[20150101 TO 20151231}"},
        {"StudyDate:{20150101 TO 20151231]",
         range("StudyDate", "20150101", "20151231", false, true),
         "StudyDate:{20150101 TO 20151231]"},
        {"StudyDate:[20150101 TO *]", range("StudyDate", "20150101", std::nullopt),
         "StudyDate:[20150101 TO *]"},
        {"StudyDate:[* TO 20151231]", range("StudyDate", std::nullopt, "20151231"),
         "StudyDate:[* TO 20151231]"},
        {"StudyDate:{* TO *}", range("StudyDate", std::nullopt, std::nullopt, false, false),
         "StudyDate:{* TO *}"},
        {R"(PatientName:["a b" TO "c d"])", range("PatientName", "a b", "c d"),
         R"(PatientName:[a\ b TO c\ d])"},
        {R"(PatientName:["*" TO \*])", range("PatientName", "*", "*"), R"(PatientName:[\* TO \*])"},
        {"StudyTime:[10:00 TO 12:00]", range("StudyTime", "10:00", "12:00"),
         R"(StudyTime:[10\:00 TO 12\:00])"},
        {"StudyDate:[  2015 \t TO 2016  ]", range("StudyDate", "2015", "2016"),
         "StudyDate:[2015 TO 2016]"},
        {"SeriesNumber:[1 TO 10]", range("SeriesNumber", "1", "10"), "SeriesNumber:[1 TO 10]"},
        // Boolean structure.
        {"a b", anyOf({should(text("a")), should(text("b"))}), "(a b)"},
        {"a OR b", anyOf({should(text("a")), should(text("b"))}), "(a b)"},
        {"a || b", anyOf({should(text("a")), should(text("b"))}), "(a b)"},
        {"a b c", anyOf({should(text("a")), should(text("b")), should(text("c"))}), "(a b c)"},
        {"and or not", anyOf({should(text("and")), should(text("or")), should(text("not"))}),
         "(and or not)"},
        {"a AND b", anyOf({must(text("a")), must(text("b"))}), "(+a +b)"},
        {"a && b", anyOf({must(text("a")), must(text("b"))}), "(+a +b)"},
        {"a AND b AND c", anyOf({must(text("a")), must(text("b")), must(text("c"))}), "(+a +b +c)"},
        {"+a b", anyOf({must(text("a")), should(text("b"))}), "(+a b)"},
        {"+a -b c", anyOf({must(text("a")), mustNot(text("b")), should(text("c"))}), "(+a -b c)"},
        {"a -b", anyOf({should(text("a")), mustNot(text("b"))}), "(a -b)"},
        {"a - b", anyOf({should(text("a")), mustNot(text("b"))}), "(a -b)"},
        {"NOT a", anyOf({mustNot(text("a"))}), "(-a)"},
        {"!a", anyOf({mustNot(text("a"))}), "(-a)"},
        {"-a", anyOf({mustNot(text("a"))}), "(-a)"},
        {"+a", anyOf({must(text("a"))}), "(+a)"},
        {"NOT(a)", anyOf({mustNot(text("a"))}), "(-a)"},
        {"-*:*", anyOf({mustNot(all())}), "(-*:*)"},
        {"NOT NOT a", anyOf({mustNot(anyOf({mustNot(text("a"))}))}), "(-(-a))"},
        {"NOT -a", anyOf({mustNot(anyOf({mustNot(text("a"))}))}), "(-(-a))"},
        {"NOT a b", anyOf({mustNot(text("a")), should(text("b"))}), "(-a b)"},
        {"a AND NOT b", anyOf({must(text("a")), mustNot(text("b"))}), "(+a -b)"},
        {"a AND -b", anyOf({must(text("a")), mustNot(text("b"))}), "(+a -b)"},
        {"+a AND b", anyOf({must(text("a")), must(text("b"))}), "(+a +b)"},
        {"NOT a AND b", anyOf({mustNot(text("a")), must(text("b"))}), "(-a +b)"},
        {"a AND(b)", anyOf({must(text("a")), must(text("b"))}), "(+a +b)"},
        {"a AND b OR c",
         anyOf({should(anyOf({must(text("a")), must(text("b"))})), should(text("c"))}),
         "((+a +b) c)"},
        {"a OR b AND c",
         anyOf({should(text("a")), should(anyOf({must(text("b")), must(text("c"))}))}),
         "(a (+b +c))"},
        {"a AND b c AND d",
         anyOf({should(anyOf({must(text("a")), must(text("b"))})),
                should(anyOf({must(text("c")), must(text("d"))}))}),
         "((+a +b) (+c +d))"},
        {"a -b AND c",
         anyOf({should(text("a")), should(anyOf({mustNot(text("b")), must(text("c"))}))}),
         "(a (-b +c))"},
        // Groups and field groups.
        {"(a)", text("a"), "a"},
        {"((a b))", anyOf({should(text("a")), should(text("b"))}), "(a b)"},
        {"(a OR b) AND c",
         anyOf({must(anyOf({should(text("a")), should(text("b"))})), must(text("c"))}),
         "(+(a b) +c)"},
        {"+(a b) -c",
         anyOf({must(anyOf({should(text("a")), should(text("b"))})), mustNot(text("c"))}),
         "(+(a b) -c)"},
        {"Modality:(CT MR)",
         anyOf({should(term("Modality", "CT")), should(term("Modality", "MR"))}),
         "(Modality:CT Modality:MR)"},
        {"Modality:(CT OR (MR AND NOT US))",
         anyOf({should(term("Modality", "CT")),
                should(anyOf({must(term("Modality", "MR")), mustNot(term("Modality", "US"))}))}),
         "(Modality:CT (+Modality:MR -Modality:US))"},
        {"Modality:(CT PatientName:x*)",
         anyOf({should(term("Modality", "CT")), should(wild("PatientName", "x*"))}),
         "(Modality:CT PatientName:x*)"},
        {"Modality:(*)", wild("Modality", "*"), "Modality:*"},
        {"Modality:(*:*)", all(), "*:*"},
        {R"(Modality:("a b" -c))",
         anyOf({should(phrase("Modality", "a b")), mustNot(term("Modality", "c"))}),
         R"((Modality:"a b" -Modality:c))"},
        {"StudyDate:([2015 TO 2016] 2017*)",
         anyOf({should(range("StudyDate", "2015", "2016")), should(wild("StudyDate", "2017*"))}),
         "(StudyDate:[2015 TO 2016] StudyDate:2017*)"},
        {"+Modality:CT -StudyDate:[20150101 TO *] PatientName:smith*",
         anyOf({must(term("Modality", "CT")), mustNot(range("StudyDate", "20150101", std::nullopt)),
                should(wild("PatientName", "smith*"))}),
         "(+Modality:CT -StudyDate:[20150101 TO *] PatientName:smith*)"},
    };
}

TEST_CASE("parseQuery turns each query of the table into its tree", "[query]") {
    const auto cases = goodQueries();
    REQUIRE(cases.size() >= 60);
    for (const auto& c : cases) {
        INFO("query: " << c.query);
        QueryNode actual = parseQuery(c.query);
        CHECK(toDebugString(actual) == c.printed);
        CHECK(toDebugString(c.expected) == c.printed);
        CHECK(actual == c.expected);
    }
}

TEST_CASE("the debug string of a parsed tree parses back to the same tree", "[query]") {
    for (const auto& c : goodQueries()) {
        INFO("printed: " << c.printed);
        CHECK(parseQuery(c.printed) == c.expected);
    }
}

struct BadCase {
    std::string query;
    std::size_t position;
};

TEST_CASE("bad queries throw QuerySyntaxError at the right position", "[query]") {
    const std::vector<BadCase> cases = {
        {"", 0},                     // empty query
        {"   ", 0},                  // only whitespace
        {"(a b", 4},                 // unclosed group
        {"(a (b)", 6},               // unclosed outer group
        {"a b)", 3},                 // stray ')'
        {"()", 1},                   // empty group
        {"Field:[a TO b", 13},       // range never closed
        {"Field:{a TO b", 13},       // same, exclusive
        {"Field:[a b]", 9},          // no TO
        {"Field:[a to b]", 9},       // TO must be upper case
        {"Field:[a TO ]", 12},       // no upper bound
        {"Field:[a TO b c]", 14},    // something after the upper bound
        {"Field:[a TO b]]", 14},     // stray ']'
        {R"(Field:["a TO b])", 15},  // quoted bound never closed
        {"[a TO b]", 0},             // range without a field
        {R"("abc)", 4},              // phrase never closed
        {R"(Field:"abc)", 10},       // same after a field
        {R"("")", 0},                // empty phrase
        {"a AND", 5},                // dangling AND
        {"a &&", 4},                 // dangling &&
        {"OR b", 0},                 // OR without a left operand
        {"a AND OR b", 6},           // two operators
        {"a || || b", 5},            // two operators
        {"(a OR)", 5},               // OR before ')'
        {"NOT", 3},                  // NOT without operand
        {"a - ", 4},                 // '-' without operand
        {"+-a", 1},                  // two modifiers
        {"Field:", 6},               // empty field value
        {"Field: ", 7},              // empty field value after whitespace
        {"Field:)", 6},              // empty field value before ')'
        {"Field:AND", 6},            // operator as a value
        {"a~", 1},                   // fuzzy
        {"a~2 b", 1},                // fuzzy with a distance
        {R"("a b"~2)", 5},           // proximity
        {"1.2:foo", 0},              // not a field name
        {"Pat-ient:x", 0},           // not a field name
        {R"(P\atient:x)", 0},        // escapes are not allowed in field names
        {"*:foo", 0},                // '*' as a field name
        {":a", 0},                   // no field name
        {"a:b:c", 3},                // second ':'
        {R"(a:\b:c)", 4},            // second ':' after an escape
        {"a ]", 2},                  // stray ']'
        {"a }", 2},                  // stray '}'
        {R"(a\)", 1},                // backslash at the end
    };
    REQUIRE(cases.size() >= 15);
    for (const auto& c : cases) {
        INFO("query: \"" << c.query << "\"");
        try {
            const QueryNode tree = parseQuery(c.query);
            FAIL("expected a syntax error, got " << toDebugString(tree));
        } catch (const QuerySyntaxError& error) {
            INFO("error: " << error.what());
            CHECK(error.position() == c.position);
            CHECK(error.code() == tessera::sdk::ErrorCode::InvalidArgument);
            CHECK(std::string(error.what()) ==
                  "Syntax error at position " + std::to_string(c.position) + ": " + error.detail());
        }
    }
}

TEST_CASE("syntax errors explain themselves", "[query]") {
    auto messageOf = [](const std::string& query) -> std::string {
        try {
            (void)parseQuery(query);
        } catch (const tessera::sdk::Error& error) {  // caught as the SDK type the server sees
            return error.what();
        }
        return "no error";
    };
    CHECK(messageOf("StudyDate:[2015 TO 2016") ==
          "Syntax error at position 23: expected ']' or '}' to close the range started at position "
          "10");
    CHECK(messageOf("(a b") ==
          "Syntax error at position 4: expected ')' to close the group opened at position 0");
    CHECK(messageOf("a AND") ==
          "Syntax error at position 5: expected a term after 'AND' at position 2");
    CHECK(messageOf("StudyDate:[2015 to 2016]") ==
          "Syntax error at position 16: expected 'TO' in the range started at position 10 ('TO' "
          "must be upper "
          "case)");
    CHECK_THAT(messageOf("a~"), Catch::Contains("not supported"));
    CHECK_THAT(messageOf("PatientName:"), Catch::Contains("expected a value after 'PatientName:'"));
    CHECK_THAT(messageOf("Patient.Name:x"), Catch::Contains("'Patient.Name' is not a field name"));
}

TEST_CASE("nesting is limited", "[query]") {
    const std::size_t limit = tessera::core::kMaxQueryDepth;
    auto nested = [](std::size_t depth) {
        return std::string(depth, '(') + "a" + std::string(depth, ')');
    };
    CHECK(parseQuery(nested(limit)) == text("a"));
    try {
        (void)parseQuery(nested(limit + 1));
        FAIL("expected a syntax error");
    } catch (const QuerySyntaxError& error) {
        CHECK(error.position() == limit);
    }

    std::string nots;
    for (std::size_t i = 0; i < limit; ++i) nots += "NOT ";
    CHECK_NOTHROW(parseQuery(nots + "a"));
    try {
        (void)parseQuery("NOT " + nots + "a");
        FAIL("expected a syntax error");
    } catch (const QuerySyntaxError& error) {
        CHECK(error.position() == 4 * limit);
    }
    CHECK_THROWS_AS(parseQuery(std::string(limit + 1, '!') + "a"), QuerySyntaxError);
}

TEST_CASE("query length is limited", "[query]") {
    const std::size_t limit = tessera::core::kMaxQueryLength;
    CHECK(parseQuery(std::string(limit, 'a')) == text(std::string(limit, 'a')));
    try {
        (void)parseQuery(std::string(limit + 1, 'a'));
        FAIL("expected a syntax error");
    } catch (const QuerySyntaxError& error) {
        CHECK(error.position() == limit);
    }
}

TEST_CASE("hostile input gives a tree or a QuerySyntaxError, never a crash", "[query]") {
    // Long flat lists are fine: they do not recurse.
    std::string flat = "a";
    while (flat.size() < 60000) flat += " AND a";
    const QueryNode flatTree = parseQuery(flat);
    REQUIRE(std::holds_alternative<BooleanQuery>(flatTree));
    CHECK(std::get<BooleanQuery>(flatTree).clauses.size() == 10001);

    for (const std::string& hostile :
         {std::string(60000, '('), std::string(60000, ')'), std::string(60000, '!'),
          std::string(60000, '-'), std::string(60000, '['), std::string(60000, '"'),
          std::string(59999, '\\'), std::string(60000, ':'), std::string(1 << 20, '('),
          std::string(30000, '(') + std::string(30000, ')')}) {
        CHECK_THROWS_AS(parseQuery(hostile), QuerySyntaxError);
    }

    // Random token soup. The pieces are chosen to hit every branch of the grammar.
    const std::vector<std::string> pieces = {
        "(",  ")",   "[",  "]",    "{", "}", "\"",    ":",      "\\",  "+",  "-",
        "!",  "*",   "?",  "~",    "^", "/", " ",     " ",      "&&",  "||", "AND",
        "OR", "NOT", "TO", " TO ", "a", "b", "Field", "Field:", "*:*", "12", "\xC3\xA9"};
    std::mt19937 random(20240531);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<std::size_t> length(1, 24);
    std::size_t parsed = 0;
    std::size_t rejected = 0;
    for (int round = 0; round < 30000; ++round) {
        std::string query;
        const std::size_t n = length(random);
        for (std::size_t i = 0; i < n; ++i) query += pieces[pick(random)];
        INFO("query: " << query);
        try {
            const QueryNode tree = parseQuery(query);
            ++parsed;
            const std::string printed = toDebugString(tree);
            INFO("printed: " << printed);
            REQUIRE(parseQuery(printed) == tree);
        } catch (const QuerySyntaxError& error) {
            ++rejected;
            REQUIRE(error.position() <= query.size());
        }
    }
    // The soup must exercise both outcomes, or this test proves nothing.
    CHECK(parsed > 1000);
    CHECK(rejected > 1000);

    // Random bytes, control characters included.
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 20000; ++round) {
        std::string query;
        const std::size_t n = length(random);
        for (std::size_t i = 0; i < n; ++i) query += static_cast<char>(byte(random));
        try {
            (void)toDebugString(parseQuery(query));
        } catch (const QuerySyntaxError& error) {
            REQUIRE(error.position() <= query.size());
        }
    }
}

TEST_CASE("toDebugString gives distinct trees distinct strings", "[query]") {
    const std::vector<QueryNode> trees = {
        all(),
        text("*"),
        wild("", "*"),
        term("*", "*"),
        wild("*", "*"),
        text("*:*"),
        term("F", "a*"),
        wild("F", "a*"),
        wild("F", R"(a\*)"),
        wild("F", "a"),
        term("F", "a"),
        phrase("F", "a"),
        term("F", ""),
        phrase("F", ""),
        wild("F", ""),
        text(""),
        phrase("", ""),
        wild("F", R"(a\b*)"),
        wild("F", R"(a\\b*)"),
        wild("F", R"(a\x5cb*)"),
        term("F", R"(a\x5cb)"),
        term("F", R"(a\b)"),
        term("F", "a\nb"),
        term("F", R"(a\nb)"),
        term("F", "a b"),
        phrase("F", "a b"),
        text("a b"),
        anyOf({should(text("a")), should(text("b"))}),
        anyOf({}),
        anyOf({should(anyOf({}))}),
        anyOf({should(text("a"))}),
        text("a"),
        anyOf({should(text("-a"))}),
        anyOf({mustNot(text("a"))}),
        anyOf({should(term("-a", "b"))}),
        anyOf({mustNot(term("a", "b"))}),
        anyOf({should(text("+a"))}),
        anyOf({must(text("a"))}),
        range("F", std::nullopt, "b"),
        range("F", "*", "b"),
        range("F", "", "b"),
        range("F", "a", "b", false, true),
        range("F", "a", "b", true, false),
        range("", "a", "b"),
        term("F", "[a TO b]"),
        text("AND"),
        text("OR"),
        term("F:G", "x"),
        term("F", "G:x"),
        term("F", "''"),
        phrase("F", R"(a"b)"),
        phrase("F", R"(a\"b)"),
        term("F", "WILDCARD(a)"),
    };
    std::set<std::string> seen;
    for (const auto& tree : trees) {
        const std::string printed = toDebugString(tree);
        INFO("printed: " << printed);
        CHECK(printed.find('\n') == std::string::npos);
        CHECK(seen.insert(printed).second);
    }
    CHECK(seen.size() == trees.size());
}

}  // namespace
