#include "actors/labelled_csv.hpp"

#include <fstream>
#include <sstream>

namespace pice::actors {
namespace {

[[noreturn]] void fail(std::string_view source, size_t line, const std::string& problem) {
  throw CsvError(std::string(source) + ":" + std::to_string(line) + ": " + problem);
}

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

std::string lowercase(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// A character for an error message: printable ASCII as is, anything else as its code.
std::string shown(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7F) return std::string("'") + c + "'";
  return "byte " + std::to_string(byte);
}

// Walks the text once; `line` always holds the 1-based line of position `i`.
class CsvScanner {
 public:
  CsvScanner(std::string_view text, char separator, std::string_view source)
      : text_(text), separator_(separator), source_(source) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;
  }

  std::vector<CsvRecord> records() {
    std::vector<CsvRecord> out;
    while (i_ < text_.size()) {
      CsvRecord record;
      record.line = line_;
      bool any_quoted = false;
      for (;;) {
        any_quoted |= read_field(record.fields);
        if (at_end()) break;
        if (is_separator(text_[i_])) {
          ++i_;
          continue;
        }
        skip_line_end();
        break;
      }
      const bool blank = !any_quoted && record.fields.size() == 1 && record.fields[0].empty();
      if (!blank) out.push_back(std::move(record));
    }
    return out;
  }

 private:
  bool at_end() const { return i_ >= text_.size(); }
  bool is_separator(char c) const { return separator_ != kNoSeparator && c == separator_; }
  bool at_line_end() const {
    return text_[i_] == '\n' || (text_[i_] == '\r' && i_ + 1 < text_.size() && text_[i_ + 1] == '\n');
  }
  void skip_line_end() {
    i_ += text_[i_] == '\r' ? 2 : 1;
    ++line_;
  }

  // Appends one field; returns whether it was quoted. Stops at a separator, a line end or the end.
  bool read_field(std::vector<std::string>& fields) {
    std::string field;
    if (!at_end() && text_[i_] == '"') {
      read_quoted(field);
      fields.push_back(std::move(field));
      return true;
    }
    while (!at_end() && !is_separator(text_[i_]) && !at_line_end()) field += text_[i_++];
    fields.push_back(std::move(field));
    return false;
  }

  void read_quoted(std::string& field) {
    const size_t opened = line_;
    ++i_;  // the opening quote
    for (;;) {
      if (at_end()) fail(source_, opened, "unterminated quoted field (the quote opened on this line never closes)");
      const char c = text_[i_];
      if (c == '"') {
        if (i_ + 1 < text_.size() && text_[i_ + 1] == '"') {
          field += '"';
          i_ += 2;
          continue;
        }
        ++i_;  // the closing quote
        break;
      }
      if (at_line_end()) {
        field += '\n';
        skip_line_end();
        continue;
      }
      field += c;
      ++i_;
    }
    if (!at_end() && !is_separator(text_[i_]) && !at_line_end())
      fail(source_, line_, "unexpected " + shown(text_[i_]) + " after a closing quote (a quote inside a " +
                               "quoted field must be doubled)");
  }

  std::string_view text_;
  char separator_;
  std::string_view source_;
  size_t i_ = 0;
  size_t line_ = 1;
};

}  // namespace

std::vector<CsvRecord> parse_csv(std::string_view text, char separator, std::string_view source) {
  return CsvScanner(text, separator, source).records();
}

std::vector<LabelledQuestion> parse_labelled_csv(std::string_view text, std::string_view source) {
  const std::vector<CsvRecord> records = parse_csv(text, ';', source);
  if (records.empty()) fail(source, 1, "empty file: expected the header 'label;request'");
  const CsvRecord& header = records.front();
  if (header.fields.size() != 2 || lowercase(trimmed(header.fields[0])) != "label" ||
      lowercase(trimmed(header.fields[1])) != "request")
    fail(source, header.line, "expected the header 'label;request'");

  std::vector<LabelledQuestion> out;
  out.reserve(records.size() - 1);
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    if (record.fields.size() != 2)
      fail(source, record.line, "record has " + std::to_string(record.fields.size()) +
                                    " field(s), expected 2 (label;request)");
    const std::string label = trimmed(record.fields[0]);
    if (label != "0" && label != "1") fail(source, record.line, "label must be 0 or 1, got '" + label + "'");
    if (trimmed(record.fields[1]).empty()) fail(source, record.line, "empty request");
    out.push_back({label == "1", record.fields[1], record.line});
  }
  return out;
}

std::vector<LabelledQuestion> read_labelled_csv(const std::filesystem::path& path) {
  return parse_labelled_csv(read_text_file(path), path.string());
}

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw CsvError(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError(path.string() + ": cannot open file");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw CsvError(path.string() + ": read error");
  return content.str();
}

namespace {

std::string first_line_lowercase(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::string line(text.substr(0, text.find('\n')));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  for (char& c : line)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return line;
}

std::vector<std::string> plain_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> read_question_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  const std::string header = first_line_lowercase(text);
  std::vector<std::string> questions;
  if (header == "label;request") {
    for (auto& q : parse_labelled_csv(text, path.string())) questions.push_back(std::move(q.question));
  } else if (header == "request") {
    const auto records = parse_csv(text, kNoSeparator, path.string());
    for (size_t r = 1; r < records.size(); ++r) questions.push_back(records[r].fields.at(0));
  } else {
    questions = plain_lines(text);
  }
  return questions;
}

}  // namespace pice::actors
