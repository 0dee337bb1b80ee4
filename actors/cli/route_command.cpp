// `pice route`: the router's decision per question, 1 (progressive: sketch then expand) or 0 (direct).
//   pice route --text "question"
//   pice route --file F        F: a labelled CSV (header label;request), a one-column CSV (header
//                              request), or plain text with one question per line (blank lines skipped)
//   --explain                  adds "<tab>score<tab>reason" to each line
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "actors/cli/commands.hpp"
#include "actors/labelled_csv.hpp"
#include "actors/router.hpp"

namespace pice::cli {
namespace {

namespace a = pice::actors;

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

// The questions of a file, by its first line: `label;request` or `request` headers mean CSV.
std::vector<std::string> read_questions(const std::string& path) {
  const std::string text = a::read_text_file(path);
  const std::string header = first_line_lowercase(text);
  std::vector<std::string> questions;
  if (header == "label;request") {
    for (auto& q : a::parse_labelled_csv(text, path)) questions.push_back(std::move(q.question));
  } else if (header == "request") {
    const auto records = a::parse_csv(text, a::kNoSeparator, path);
    for (size_t r = 1; r < records.size(); ++r) questions.push_back(records[r].fields.at(0));
  } else {
    questions = plain_lines(text);
  }
  return questions;
}

void print_decision(const a::RouteDecision& decision, bool explain) {
  std::cout << (decision.progressive ? '1' : '0');
  if (explain) {
    char score[32];
    std::snprintf(score, sizeof score, "%+.3f", decision.score);
    std::cout << '\t' << score << '\t' << decision.reason;
  }
  std::cout << '\n';
}

}  // namespace

int run_route(const RouteOptions& options) {
  if (options.file.has_value() == options.text.has_value()) {
    std::cerr << "pice route: give exactly one of --text and --file\n";
    return kExitConfigError;
  }
  try {
    const std::vector<std::string> questions = options.text ? std::vector<std::string>{*options.text}
                                                            : read_questions(*options.file);
    for (const std::string& question : questions) print_decision(a::route(question), options.explain);
    std::cout.flush();
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice route: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
