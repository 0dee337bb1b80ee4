#include "actors/llm_router.hpp"

#include <cctype>

namespace pice::actors {

std::string llm_router_prompt(const std::string& question) {
  // The wording follows SoT-R's suitability test: independent points, each expandable on its own.
  return "Can a good answer to the question below be written as a short list of independent points, "
         "each of which could be expanded on its own (advice, knowledge, common sense, counterfactuals), "
         "rather than as one continuous piece (math, code, estimates, creative writing, role-play)? "
         "Answer with one word, yes or no.\n\nQuestion: " +
         question;
}

std::optional<RouteDecision> llm_route_decision(std::string_view answer) {
  std::string word;
  size_t i = 0;
  while (i < answer.size() && !std::isalpha(static_cast<unsigned char>(answer[i]))) ++i;
  while (i < answer.size() && std::isalpha(static_cast<unsigned char>(answer[i])))
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(answer[i++])));
  if (word != "yes" && word != "no") return std::nullopt;
  RouteDecision d;
  d.progressive = word == "yes";
  d.score = d.progressive ? 1 : -1;
  d.reason = "the cloud model answered \"" + word + "\"";
  return d;
}

}  // namespace pice::actors
