// The exporters' CSV format, byte for byte, including hostile values.

#include "tessera/core/csv_export.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using tessera::core::csvValue;
using tessera::core::CsvWriter;

TEST_CASE("csvValue cleans a value the way Dicoogle's exporter does", "[csv]") {
    CHECK(csvValue("  CT  ") == "CT");
    CHECK(csvValue("a;b;c") == "a,b,c");
    CHECK(csvValue("line one\r\nline two\n") == "line oneline two");
    CHECK(csvValue("\t\x01 x \x1f") == "x");
    CHECK(csvValue("") == "");
    CHECK(csvValue(" \n ") == "");
    CHECK(csvValue("S\xC3\xA3o Jo\xC3\xA3o") == "S\xC3\xA3o Jo\xC3\xA3o");  // UTF-8 untouched
}

TEST_CASE("CsvWriter writes a quoted header and one line per row", "[csv]") {
    std::ostringstream out;
    CsvWriter csv(out, {"PatientName", "Modality", "StudyDate"});
    CHECK(out.str() == "\"PatientName\";\"Modality\";\"StudyDate\";\n");
    csv.writeRow({{"PatientName", "SMITH^JOHN"}, {"Modality", "CT"}, {"StudyDate", "20150310"}});
    csv.writeRow({{"Modality", "MR"}, {"Unrelated", "x"}});
    csv.writeRow({{"PatientName", "  "}, {"Modality", "a;b\nc"}, {"StudyDate", "say \"hi\""}});
    csv.writeRow({});
    CHECK(csv.rows() == 4);
    CHECK(out.str() ==
          "\"PatientName\";\"Modality\";\"StudyDate\";\n"
          "\"SMITH^JOHN\";\"CT\";\"20150310\";\n"
          ";\"MR\";;\n"
          ";\"a,bc\";\"say \"\"hi\"\"\";\n"
          ";;;\n");
}

TEST_CASE("CsvWriter with one field and with none", "[csv]") {
    std::ostringstream one;
    CsvWriter single(one, {"SOPInstanceUID"});
    single.writeRow({{"SOPInstanceUID", "1.2.3"}});
    CHECK(one.str() == "\"SOPInstanceUID\";\n\"1.2.3\";\n");

    std::ostringstream none;
    CsvWriter empty(none, {});
    empty.writeRow({{"a", "b"}});
    CHECK(none.str() == "\n\n");
}

TEST_CASE("CsvWriter streams: each row reaches the stream when written", "[csv]") {
    std::ostringstream out;
    CsvWriter csv(out, {"A"});
    for (int i = 0; i < 1000; ++i) {
        csv.writeRow({{"A", std::to_string(i)}});
        if (i == 499) CHECK(out.str().size() == std::string("\"A\";\n").size() + 10 * 5 + 90 * 6 + 400 * 7);
    }
    CHECK(csv.rows() == 1000);
}
