#include "actors/eval.hpp"

#include <cctype>

namespace pice::actors::eval {

std::string_view judge_instructions() {
  return "You are an impartial judge of answers to a user's question. Judge helpfulness, relevance, accuracy, "
         "depth and clarity; ignore length and the order the answers are shown in. Reply with exactly one of: "
         "A, B, tie.";
}

std::string judge_prompt(std::string_view question, std::string_view answer_a, std::string_view answer_b) {
  std::string prompt = "[Question]\n";
  prompt += question;
  prompt += "\n\n[Answer A]\n";
  prompt += answer_a;
  prompt += "\n\n[Answer B]\n";
  prompt += answer_b;
  prompt += "\n\nWhich answer is better? Reply A, B or tie.";
  return prompt;
}

Verdict parse_verdict(std::string_view reply) {
  size_t i = 0;
  while (i < reply.size() && (std::isspace(static_cast<unsigned char>(reply[i])) || reply[i] == '[' || reply[i] == '"' ||
                              reply[i] == '*'))
    ++i;
  std::string word;
  for (; i < reply.size() && std::isalpha(static_cast<unsigned char>(reply[i])); ++i)
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(reply[i])));
  if (word == "a") return Verdict::a;
  if (word == "b") return Verdict::b;
  if (word == "tie") return Verdict::tie;
  return Verdict::invalid;
}

Outcome combine(Verdict first_as_a, Verdict first_as_b) {
  int score = 0, valid = 0;
  auto count = [&](Verdict v, Verdict first) {
    if (v == Verdict::invalid) return;
    ++valid;
    if (v == first) ++score;
    else if (v != Verdict::tie) --score;
  };
  count(first_as_a, Verdict::a);
  count(first_as_b, Verdict::b);
  if (valid == 0) return Outcome::invalid;
  return score > 0 ? Outcome::win : score < 0 ? Outcome::loss : Outcome::tie;
}

void Tally::add(Outcome o) {
  switch (o) {
    case Outcome::win: ++win; break;
    case Outcome::tie: ++tie; break;
    case Outcome::loss: ++loss; break;
    case Outcome::invalid: ++invalid; break;
  }
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::win: return "win";
    case Outcome::tie: return "tie";
    case Outcome::loss: return "loss";
    case Outcome::invalid: return "invalid";
  }
  return "invalid";
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::a: return "A";
    case Verdict::b: return "B";
    case Verdict::tie: return "tie";
    case Verdict::invalid: return "invalid";
  }
  return "invalid";
}

std::string answer_text(const Answer& answer) {
  if (answer.direct()) return answer.text;
  std::string text;
  for (size_t i = 0; i < answer.points.size(); ++i) {
    if (!text.empty()) text += "\n";
    const std::string point = i < answer.sketch.size() ? answer.sketch[i] : std::string();
    text += std::to_string(i + 1) + ". " + point;
    if (!answer.points[i].text.empty()) text += (point.empty() ? "" : " ") + answer.points[i].text;
  }
  return text;
}

}  // namespace pice::actors::eval
