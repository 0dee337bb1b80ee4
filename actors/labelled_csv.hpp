#pragma once
// Reader for the labelled question sets the router is measured against (`label;request`, 1 = suits
// sketch-then-expand): semicolon-separated CSV with a header line, where a field may be double-quoted,
// span several lines and contain doubled quotes. Errors name the source and the line, because the
// sets are edited by hand and a stray quote otherwise swallows the rest of the file silently.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pice::actors {

// Malformed CSV or a bad label; what() reads "<source>:<line>: <problem>".
class CsvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CsvRecord {
  std::vector<std::string> fields;
  size_t line = 0;  // 1-based line on which the record starts
};

// Splits text into records. Records end at LF or CRLF; a quoted field keeps separators and line breaks
// (CRLF inside it becomes LF) and reads "" as one quote; a quote inside an unquoted field is literal.
// Blank lines are skipped and a leading UTF-8 byte-order mark is dropped. Throws CsvError on an
// unterminated quoted field or on text between a closing quote and the next separator.
// kNoSeparator reads a one-column file: quotes and line breaks only, so "at&amp;t" stays one field.
inline constexpr char kNoSeparator = '\0';
std::vector<CsvRecord> parse_csv(std::string_view text, char separator, std::string_view source);

struct LabelledQuestion {
  bool suitable = false;  // label 1: the question suits a sketch-then-expand answer
  std::string question;
  size_t line = 0;        // where its record starts, for messages about it
};

// The header must be `label;request`; every record then has exactly two fields, a label of 0 or 1
// and a non-empty question. Throws CsvError naming source and line otherwise.
std::vector<LabelledQuestion> parse_labelled_csv(std::string_view text, std::string_view source);

// parse_labelled_csv on a file's content; throws CsvError when the file cannot be read.
std::vector<LabelledQuestion> read_labelled_csv(const std::filesystem::path& path);

// The questions of a file, by its first line: a labelled CSV (`label;request`), a one-column CSV
// (`request`), or else plain text with one question per line (blank lines skipped). Used by `pice route`
// and `pice sim`; throws CsvError naming the file and line.
std::vector<std::string> read_question_file(const std::filesystem::path& path);

// The whole content of a file; throws CsvError naming the file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace pice::actors
