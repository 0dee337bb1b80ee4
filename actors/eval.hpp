#pragma once
// Pairwise quality evaluation with a judge model (`pice eval`): the same question answered in two modes,
// shown to the judge in both orders (judges favour a position), and the two verdicts combined into a
// win, tie or loss for the first mode, tallied per category.
#include <map>
#include <string>
#include <string_view>

#include "actors/client.hpp"

namespace pice::actors::eval {

enum class Verdict { a, b, tie, invalid };   // the judge's reply to one ordering
enum class Outcome { win, tie, loss, invalid };   // for the first mode, both orderings combined

// The user message asking the judge to compare answers A and B to the question.
std::string judge_prompt(std::string_view question, std::string_view answer_a, std::string_view answer_b);
// The system message: how to answer (a single "A", "B" or "tie").
std::string_view judge_instructions();

// "A", "B" or "tie" (any case, optionally bracketed as [[A]], followed by anything); else invalid.
Verdict parse_verdict(std::string_view reply);

// first_as_a: the verdict with the first mode's answer shown as A; first_as_b: shown as B. Each valid
// verdict scores +1 (prefers the first mode), -1 or 0; the sum decides. Both invalid: invalid.
Outcome combine(Verdict first_as_a, Verdict first_as_b);

struct Tally {
  int win = 0, tie = 0, loss = 0, invalid = 0;
  void add(Outcome o);
  int total() const { return win + tie + loss + invalid; }
};

const char* outcome_name(Outcome o);
const char* verdict_name(Verdict v);

// The answer as a reader sees it: numbered points with their expansions, or the direct text.
std::string answer_text(const Answer& answer);

}  // namespace pice::actors::eval
