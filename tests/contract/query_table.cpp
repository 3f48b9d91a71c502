// The contract's query table. Each entry is query text (parsed by core's one parser) and, where
// MANIFEST.tsv holds the attribute, the rows it must find. What the language means is
// docs/architecture.md §query language and core/query/query_parser.hpp: field names are
// case-sensitive keywords, values match case-insensitively, `Field:word` finds a word of the
// value (PersonName components, words of a description) or the whole value, wildcards match the
// whole value or one of its words, dates compare as dates (legacy dotted ones included).
#include <algorithm>

#include "contract_support.hpp"

namespace tessera::contract {
namespace {

using test::ManifestRow;
using test::RowPredicate;

bool hasWord(const std::string& value, const std::string& word) {
    const auto words = test::valueWords(value);
    return std::find(words.begin(), words.end(), test::asciiLower(word)) != words.end();
}

bool iequals(const std::string& a, const std::string& b) { return test::asciiLower(a) == test::asciiLower(b); }

bool wildcardMatches(const std::string& value, const std::string& pattern) {
    const auto lowered = test::asciiLower(pattern);
    if (test::globMatch(lowered, test::asciiLower(value))) return true;
    for (const auto& word : test::valueWords(value))
        if (test::globMatch(lowered, word)) return true;
    return false;
}

RowPredicate column(const std::string& name, std::function<bool(const std::string&)> test) {
    return [name, test](const ManifestRow& row) { return test(row[name]); };
}

RowPredicate nameHasWord(const std::string& word) {
    return column("PatientName", [word](const std::string& v) { return hasWord(v, word); });
}
RowPredicate nameIs(const std::string& value) {
    return column("PatientName", [value](const std::string& v) { return iequals(v, value); });
}
RowPredicate nameLike(const std::string& pattern) {
    return column("PatientName", [pattern](const std::string& v) { return wildcardMatches(v, pattern); });
}
RowPredicate idIs(const std::string& id) {
    return column("PatientID", [id](const std::string& v) { return iequals(v, id); });
}
RowPredicate modalityIs(const std::string& modality) {
    return column("modality", [modality](const std::string& v) { return iequals(v, modality); });
}
RowPredicate nothing() {
    return [](const ManifestRow&) { return false; };
}

RowPredicate dateIn(const std::string& low, bool lowInclusive, const std::string& high, bool highInclusive) {
    return [=](const ManifestRow& row) {
        const auto date = row.normalisedStudyDate();
        if (date.empty()) return false;
        if (!low.empty() && (lowInclusive ? date < low : date <= low)) return false;
        if (!high.empty() && (highInclusive ? date > high : date >= high)) return false;
        return true;
    };
}

std::optional<double> number(const std::string& text) {
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        return used == text.size() ? std::optional<double>(value) : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

RowPredicate numberIn(const std::string& name, double low, double high) {
    return column(name, [low, high](const std::string& v) {
        const auto n = number(v);
        return n && *n >= low && *n <= high;
    });
}

RowPredicate both(RowPredicate a, RowPredicate b) {
    return [a, b](const ManifestRow& row) { return a(row) && b(row); };
}
RowPredicate either(RowPredicate a, RowPredicate b) {
    return [a, b](const ManifestRow& row) { return a(row) || b(row); };
}
RowPredicate negate(RowPredicate a) {
    return [a](const ManifestRow& row) { return !a(row); };
}

std::vector<ContractQuery> buildTable() {
    std::vector<ContractQuery> table;
    auto add = [&](std::string text, RowPredicate expect, bool mayBeEmpty = false) {
        table.push_back({std::move(text), std::move(expect), mayBeEmpty});
    };
    auto crossOnly = [&](std::string text) { table.push_back({std::move(text), std::nullopt, true}); };
    const RowPredicate all = [](const ManifestRow&) { return true; };

    // Everything.
    add("*:*", all);
    add("*", all);

    // PatientName: words, whole values with ^, escapes, phrases, wildcards, case.
    for (const char* word : {"doe", "DOE", "Archibald", "lestrade"}) add(std::string("PatientName:") + word, nameHasWord(word));
    add("PatientName:Doe^Peter", nameIs("Doe^Peter"));
    add("PatientName:\"Doe^Peter\"", nameIs("Doe^Peter"));
    add("PatientName:\"doe^peter\"", nameIs("Doe^Peter"));
    add("PatientName:Doe\\^Archibald", nameIs("Doe^Archibald"));
    add("PatientName:CompressedSamples^MR1", nameIs("CompressedSamples^MR1"));
    add("PatientName:Doe^Lestrade", nothing(), true);  // both words, not either
    for (const char* pattern : {"lestr*", "Compressed*", "*strade", "*CHIBALD", "d?e", "*ampleS^C*"})
        add(std::string("PatientName:") + pattern, nameLike(pattern));
    add("patientname:doe", nothing(), true);  // field names are case-sensitive keywords

    // PatientID: exact (case-insensitive), wildcards, no match.
    for (const char* id : {"77654033", "98890234", "123565", "ID1", "4MR1", "1CT1", "phantom1-sid1", "2008-3"})
        add(std::string("PatientID:") + id, idIs(id));
    add("PatientID:id1", idIs("ID1"));
    add("PatientID:*234", column("PatientID", [](const std::string& v) { return wildcardMatches(v, "*234"); }));
    add("PatientID:1CT?", column("PatientID", [](const std::string& v) { return wildcardMatches(v, "1ct?"); }));
    add("PatientID:nobody-has-this", nothing(), true);

    // Modality.
    for (const char* modality : {"CT", "MR", "OT", "CR", "NM", "SR", "SEG", "RTDOSE", "RTPLAN", "XA", "US", "ECG", "RTSTRUCT"})
        add(std::string("Modality:") + modality, modalityIs(modality));
    add("Modality:ct", modalityIs("CT"));
    add("Modality:RT*", column("modality", [](const std::string& v) { return v.rfind("RT", 0) == 0; }));
    add("Modality:(CT MR)", either(modalityIs("CT"), modalityIs("MR")));

    // StudyDate: exact, legacy dotted, closed/open/exclusive ranges, prefix wildcard.
    add("StudyDate:20010101", [](const ManifestRow& row) { return row.normalisedStudyDate() == "20010101"; });
    add("StudyDate:19930430", [](const ManifestRow& row) { return row.normalisedStudyDate() == "19930430"; });
    add("StudyDate:[20010101 TO 20031231]", dateIn("20010101", true, "20031231", true));
    add("StudyDate:{20010101 TO 20030505}", dateIn("20010101", false, "20030505", false));
    add("StudyDate:[20010101 TO 20030505}", dateIn("20010101", true, "20030505", false));
    add("StudyDate:[* TO 19951231]", dateIn("", true, "19951231", true));
    add("StudyDate:[20100101 TO *]", dateIn("20100101", true, "", true));
    add("StudyDate:{20170101 TO *]", dateIn("20170101", false, "", true));
    add("StudyDate:1995*", [](const ManifestRow& row) { return row.normalisedStudyDate().rfind("1995", 0) == 0; });
    add("StudyDate:[20300101 TO 20391231]", nothing(), true);

    // UIDs, picked from the manifest: one token each (a prefix is no match), quoted, OR-lists.
    const auto& mr = manifest().byFile("images/MR_small.dcm");
    const auto& ct = manifest().byFile("images/CT_small.dcm");
    const auto& slice = manifest().byFile("series/MR_brain_001.dcm");
    auto uidIs = [](const std::string& name, const std::string& uid) {
        return column(name, [uid](const std::string& v) { return v == uid; });
    };
    const auto sop = mr["SOPInstanceUID"];
    add("SOPInstanceUID:" + sop, uidIs("SOPInstanceUID", sop));
    add("SOPInstanceUID:\"" + sop + "\"", uidIs("SOPInstanceUID", sop));
    add("SOPInstanceUID:" + sop.substr(0, sop.rfind('.')), nothing(), true);
    add("SeriesInstanceUID:" + slice["SeriesInstanceUID"], uidIs("SeriesInstanceUID", slice["SeriesInstanceUID"]));
    add("StudyInstanceUID:" + ct["StudyInstanceUID"], uidIs("StudyInstanceUID", ct["StudyInstanceUID"]));
    add("StudyInstanceUID:(" + ct["StudyInstanceUID"] + " " + mr["StudyInstanceUID"] + ")",
        either(uidIs("StudyInstanceUID", ct["StudyInstanceUID"]), uidIs("StudyInstanceUID", mr["StudyInstanceUID"])));
    add("SOPInstanceUID:" + ct["SOPInstanceUID"] + " OR SOPInstanceUID:" + slice["SOPInstanceUID"],
        either(uidIs("SOPInstanceUID", ct["SOPInstanceUID"]), uidIs("SOPInstanceUID", slice["SOPInstanceUID"])));

    // Free text over every text value (words that occur only where the manifest shows them).
    add("archibald", nameHasWord("archibald"));
    add("LESTRADE", nameHasWord("lestrade"));
    add("Люкceмбypг", [](const ManifestRow& row) { return row["PatientName"] == "Люкceмбypг"; });
    add("люкceмбypг", [](const ManifestRow& row) { return row["PatientName"] == "Люкceмбypг"; });
    add("JXD191021006", idIs("JXD191021006"));
    add("zzzqqq-not-a-word", nothing(), true);

    // Boolean mixes.
    add("PatientID:77654033 AND Modality:CT", both(idIs("77654033"), modalityIs("CT")));
    add("PatientID:ID1 OR PatientID:4MR1", either(idIs("ID1"), idIs("4MR1")));
    add("PatientID:98890234 AND NOT Modality:MR", both(idIs("98890234"), negate(modalityIs("MR"))));
    add("Modality:CR -PatientID:77654033", both(modalityIs("CR"), negate(idIs("77654033"))));
    add("+Modality:MR +PatientID:123565", both(modalityIs("MR"), idIs("123565")));
    add("(Modality:CT OR Modality:NM) AND StudyDate:[20040101 TO 20041231]",
        both(either(modalityIs("CT"), modalityIs("NM")), dateIn("20040101", true, "20041231", true)));
    add("PatientName:doe AND (StudyDate:19950903 OR Modality:MR)",
        both(nameHasWord("doe"), [](const ManifestRow& row) {
            return row.normalisedStudyDate() == "19950903" || row["modality"] == "MR";
        }));
    add("NOT Modality:MR", negate(modalityIs("MR")));
    add("-Modality:MR", negate(modalityIs("MR")));
    add("*:* AND NOT Modality:MR AND NOT Modality:OT", both(negate(modalityIs("MR")), negate(modalityIs("OT"))));
    add("Modality:MR AND PatientName:doe*", both(modalityIs("MR"), nameLike("doe*")));
    add("archibald OR PatientID:1CT1", either(nameHasWord("archibald"), idIs("1CT1")));

    // Numbers held by the manifest (IS and US values compare as numbers).
    add("SeriesNumber:[2 TO 5]", numberIn("SeriesNumber", 2, 5));
    add("InstanceNumber:[1 TO 3]", numberIn("InstanceNumber", 1, 3));
    add("Rows:512", numberIn("rows", 512, 512));

    // Attributes the manifest does not hold: every provider must give the same answer.
    for (const char* text : {"Manufacturer:SIEMENS", "Manufacturer:GE*", "InstitutionName:*", "BodyPartExamined:*",
                             "PatientSex:F", "PatientSex:M AND Modality:MR", "SliceThickness:[1 TO 5]",
                             "StudyTime:[080000 TO 120000]", "StudyDescription:\"e+1\"", "SeriesDescription:*",
                             "SeriesNumber:1", "InstanceNumber:1", "AccessionNumber:*", "SOPClassUID:1.2.840.10008.5.1.4.1.1.4",
                             "ImageType:ORIGINAL", "PhotometricInterpretation:MONOCHROME2", "BitsAllocated:16",
                             "ReferringPhysicianName:*", "StudyID:*"})
        crossOnly(text);
    return table;
}

}  // namespace

const std::vector<ContractQuery>& queryTable() {
    static const std::vector<ContractQuery> table = buildTable();
    return table;
}

}  // namespace tessera::contract
