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
                                                            : a::read_question_file(*options.file);
    for (const std::string& question : questions) print_decision(a::route(question), options.explain);
    std::cout.flush();
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice route: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
