#include "tessera/core/csv_export.hpp"

namespace tessera::core {

std::string csvValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\r' || c == '\n') continue;
        out.push_back(c == ';' ? ',' : c);
    }
    const auto isTrimmed = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
    std::size_t begin = 0, end = out.size();
    while (begin < end && isTrimmed(out[begin])) ++begin;
    while (end > begin && isTrimmed(out[end - 1])) --end;
    return out.substr(begin, end - begin);
}

CsvWriter::CsvWriter(std::ostream& out, std::vector<std::string> fields) : out_(out), fields_(std::move(fields)) {
    line_.clear();
    for (const auto& field : fields_) writeCell(field.empty() ? std::string_view{} : std::string_view(field));
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
}

void CsvWriter::writeRow(const std::map<std::string, std::string>& values) {
    line_.clear();
    for (const auto& field : fields_) {
        auto it = values.find(field);
        writeCell(it == values.end() ? std::string_view{} : std::string_view(it->second));
    }
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    ++rows_;
}

void CsvWriter::writeCell(std::string_view raw) {
    const std::string value = csvValue(raw);
    if (!value.empty()) {
        line_.push_back('"');
        for (char c : value) {
            if (c == '"') line_.push_back('"');
            line_.push_back(c);
        }
        line_.push_back('"');
    }
    line_.push_back(';');
}

}  // namespace tessera::core
