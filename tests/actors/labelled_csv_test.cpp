#include "actors/labelled_csv.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pice::actors {
namespace {

std::vector<std::vector<std::string>> fields_of(const std::vector<CsvRecord>& records) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : records) out.push_back(r.fields);
  return out;
}

// The message of the CsvError that parsing `text` throws ("" when it parses).
std::string labelled_error(std::string_view text) {
  try {
    parse_labelled_csv(text, "t.csv");
  } catch (const CsvError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseCsv, PlainAndQuotedFields) {
  const auto records = parse_csv("a;b\n\"x;y\";\"say \"\"hi\"\"\"\nplain \"quote\";\"\"\n", ';', "t");
  EXPECT_EQ(fields_of(records), (std::vector<std::vector<std::string>>{
                                    {"a", "b"}, {"x;y", "say \"hi\""}, {"plain \"quote\"", ""}}));
}

TEST(ParseCsv, NoSeparatorReadsOneColumn) {
  const auto records = parse_csv("request\nat&amp;t; bills?\n\"two\nlines; \"\"quoted\"\"\"\n", kNoSeparator, "t");
  EXPECT_EQ(fields_of(records), (std::vector<std::vector<std::string>>{
                                    {"request"}, {"at&amp;t; bills?"}, {"two\nlines; \"quoted\""}}));
}

TEST(ParseCsv, MultiLineFieldsAndLineNumbers) {
  const std::string text = "label;request\n1;\"first line\nsecond line\n\nfourth\"\n0;next\n";
  const auto records = parse_csv(text, ';', "t");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields[1], "first line\nsecond line\n\nfourth");
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].line, 6u);  // the record after the multi-line field starts on the sixth line
}

TEST(ParseCsv, CrlfEndsRecordsAndBecomesLfInsideQuotes) {
  const auto records = parse_csv("a;b\r\n1;\"x\r\ny\"\r\n0;z", ';', "t");
  EXPECT_EQ(fields_of(records), (std::vector<std::vector<std::string>>{{"a", "b"}, {"1", "x\ny"}, {"0", "z"}}));
  EXPECT_EQ(records[2].line, 4u);
}

TEST(ParseCsv, SkipsBlankLinesAndByteOrderMark) {
  const auto records = parse_csv("\xEF\xBB\xBF" "a\n\n\r\nb\n", ';', "t");
  EXPECT_EQ(fields_of(records), (std::vector<std::vector<std::string>>{{"a"}, {"b"}}));
  EXPECT_EQ(records[1].line, 4u);
}

TEST(ParseCsv, UnterminatedQuoteNamesTheLineItOpened) {
  try {
    parse_csv("a;b\n1;ok\n0;\"never\nclosed\n", ';', "data.csv");
    FAIL() << "expected CsvError";
  } catch (const CsvError& e) {
    EXPECT_STREQ(e.what(), "data.csv:3: unterminated quoted field (the quote opened on this line never closes)");
  }
}

TEST(ParseCsv, TextAfterClosingQuoteIsAnError) {
  try {
    parse_csv("a;b\n1;\"half\" quoted\n", ';', "data.csv");
    FAIL() << "expected CsvError";
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find("data.csv:2: unexpected ' ' after a closing quote"), std::string::npos)
        << e.what();
  }
}

TEST(ParseLabelledCsv, ReadsLabelsAndQuestions) {
  const auto rows = parse_labelled_csv("label;request\r\n1;\"What are some tips;\nfor sleep?\"\r\n0;2+2?\r\n", "t");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].suitable);
  EXPECT_EQ(rows[0].question, "What are some tips;\nfor sleep?");
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_FALSE(rows[1].suitable);
  EXPECT_EQ(rows[1].question, "2+2?");
  EXPECT_EQ(rows[1].line, 4u);
}

TEST(ParseLabelledCsv, ErrorsNameFileAndLine) {
  struct Case {
    std::string text, error;
  };
  const std::vector<Case> cases = {
      {"label;request\n1;fine\n0\n", "t.csv:3: record has 1 field(s), expected 2 (label;request)"},
      {"label;request\n1;a;b\n", "t.csv:2: record has 3 field(s), expected 2 (label;request)"},
      {"label;request\n1;\"multi\nline\"\nyes;q\n", "t.csv:4: label must be 0 or 1, got 'yes'"},
      {"label;request\n2;q\n", "t.csv:2: label must be 0 or 1, got '2'"},
      {"label;request\n1;  \n", "t.csv:2: empty request"},
      {"question;label\n1;q\n", "t.csv:1: expected the header 'label;request'"},
      {"", "t.csv:1: empty file: expected the header 'label;request'"},
  };
  for (const Case& c : cases) EXPECT_EQ(labelled_error(c.text), c.error) << c.text;
  EXPECT_EQ(labelled_error(" Label ; REQUEST \n1;q\n"), "");  // the header is matched loosely
}

TEST(ReadLabelledCsv, ReadsAFileAndNamesMissingOnes) {
  const auto dir = std::filesystem::temp_directory_path() / ("pice-csv-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "set.csv";
  std::ofstream(path, std::ios::binary) << "label;request\r\n0;\"He said \"\"no\"\".\"\r\n";
  const auto rows = read_labelled_csv(path);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].question, "He said \"no\".");

  try {
    read_labelled_csv(dir / "absent.csv");
    FAIL() << "expected CsvError";
  } catch (const CsvError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "absent.csv").string() + ": cannot open file");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pice::actors
