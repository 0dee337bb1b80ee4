#pragma once
// The cues the router reads from a question's text (Skeleton-of-Thought's router, SoT-R, in hand-made
// form): list-like advice, knowledge, comparison and counterfactual questions suit a sketch of points;
// math, code, estimates, creative writing, role-play and short factual questions need one flowing
// answer. Each cue is a number in [0, 1] (length: a log scale up to 2) so a weighted sum of them is a
// score a person can read term by term.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pice::actors {

enum class RouterFeature : size_t {
  ListNoun,         // a plural that names an enumeration: tips, ways, advantages, reasons, steps...
  ListRequest,      // "what are some", "give me some", "list", "any advice"
  Comparison,       // "difference between", "vs", "compare", "instead of"
  Advice,           // "how can I", "what should I", "best way", "help me"
  HowTo,            // starts with "how to" (procedures: wikiHow-style)
  Counterfactual,   // starts with "what if"; "what would happen if", "had never"
  Explain,          // "explain", "describe", "discuss", "outline"
  Why,              // asks for reasons
  CodeSyntax,       // code in the text: fences, braces, semicolons, ==, ->, tags (count, capped at 3)
  CodeWords,        // programming vocabulary: code, function, array, python, sql... (count, capped at 3)
  Math,             // arithmetic, equations, LaTeX, "solve", "calculate", "integral" (count, capped at 3)
  Estimate,         // "how many", "how much", "estimate": fermi questions
  CreativeWriting,  // starts with "write", or a writing verb with a form: poem, story, essay, letter...
  RolePlay,         // "pretend", "imagine you are", "you are a", "act as"
  MultipleChoice,   // options marked A) B) or (a) (b)
  YesNo,            // starts with an auxiliary verb: is, can, does, should...
  WhFact,           // starts with who, when, where, which: a short fact
  Translate,        // translation requests
  Questions,        // number of question marks (capped at 3)
  Length,           // log(1 + words) / log(300), capped at 2
};
inline constexpr size_t kRouterFeatureCount = 20;
using RouterFeatureVector = std::array<double, kRouterFeatureCount>;

struct RouterFeatureInfo {
  std::string_view name;  // snake_case, as reasons and the fitting program print it
  double prior;           // the hand-set weight before fitting: the sign of the SoT-R category
};
// One entry per RouterFeature, in enum order.
const std::array<RouterFeatureInfo, kRouterFeatureCount>& router_feature_info();

RouterFeatureVector extract_router_features(std::string_view question);

// The word n-grams the router's learned part reads (router.hpp): every distinct unigram and bigram of
// the first `window` words (a long post's opening carries its request; its tail is mostly quoted
// detail), plus the opening one, two and three words marked with "^" ("^what are"), since the form of
// a question lives in its first words. Sorted and without duplicates: presence, not counts. The window
// is part of the fitted model (router_weights.inc), chosen by cross-validation.
std::vector<std::string> router_ngrams(std::string_view question, size_t window);

// The question as lower-case words: runs of letters and digits (other UTF-8 bytes count as letters),
// with an inner apostrophe kept ("what's", ’ read as ') and "++" or "#" kept on a word ("c++", "c#").
std::vector<std::string> question_words(std::string_view text);

}  // namespace pice::actors
