#include "actors/router_features.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace pice::actors {
namespace {

using Words = std::vector<std::string>;
using Phrase = std::vector<std::string>;

// Phrases are written as space-separated words and split once.
std::vector<Phrase> phrases(std::initializer_list<std::string_view> texts) {
  std::vector<Phrase> out;
  for (std::string_view text : texts) out.push_back(question_words(text));
  return out;
}

bool matches_at(const Words& words, size_t at, const Phrase& phrase) {
  if (at + phrase.size() > words.size()) return false;
  return std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<std::ptrdiff_t>(at));
}

size_t count_phrases(const Words& words, const std::vector<Phrase>& table) {
  size_t n = 0;
  for (size_t at = 0; at < words.size(); ++at)
    for (const Phrase& phrase : table) n += matches_at(words, at, phrase);
  return n;
}

bool has_phrase(const Words& words, const std::vector<Phrase>& table) { return count_phrases(words, table) > 0; }

bool starts_with_phrase(const Words& words, const std::vector<Phrase>& table) {
  return std::any_of(table.begin(), table.end(), [&](const Phrase& p) { return matches_at(words, 0, p); });
}

// The cue vocabularies: SoT-R's categories in everyday words, written by hand (no question text copied).
struct Vocabulary {
  std::vector<Phrase> list_nouns = phrases({
      "tips", "ways", "advantages", "disadvantages", "benefits", "drawbacks", "pros", "cons", "reasons",
      "strategies", "ideas", "factors", "examples", "differences", "methods", "alternatives", "suggestions",
      "recommendations", "principles", "challenges", "causes", "consequences", "implications", "effects",
      "impacts", "features", "characteristics", "concerns", "objections", "arguments", "risks", "resources",
      "options", "criteria", "applications", "steps", "habits", "activities", "things", "uses", "types", "kinds"});
  std::vector<Phrase> list_requests = phrases({
      "what are some", "what are the", "what were the", "what were some", "give me some", "list", "name some",
      "suggest some", "some ideas", "some examples", "any advice", "any tips", "any suggestions",
      "any recommendations"});
  std::vector<Phrase> comparisons = phrases({
      "difference between", "differences between", "the difference", "vs", "versus", "compare", "compared to",
      "contrast", "instead of", "as opposed to", "when to use", "when should i use", "pros and cons"});
  std::vector<Phrase> advice = phrases({
      "how can i", "how can we", "how should i", "what should i", "what can i", "what can we", "what should we",
      "what should you", "what can you do", "what should one", "best way", "how do you", "how can you",
      "how can one", "how does one"});  // not "help me": "help me write/plan X" asks for a text
  std::vector<Phrase> how_to = phrases({"how to"});
  // "how would" and "had not" alone are too common in ordinary questions to mark a counterfactual.
  std::vector<Phrase> counterfactual_openings = phrases({"what if"});
  std::vector<Phrase> counterfactuals = phrases({
      "what would happen if", "what would have happened if", "had never", "would be different if"});
  std::vector<Phrase> explain = phrases({"explain", "describe", "discuss", "elaborate", "outline", "overview"});
  std::vector<Phrase> why = phrases({"why"});
  std::vector<Phrase> code_words = phrases({
      "code", "function", "method", "implement", "algorithm", "array", "string", "error", "exception", "compile",
      "compiler", "script", "debug", "python", "java", "javascript", "sql", "mysql", "bash", "php", "ruby", "html",
      "css", "jquery", "git", "matlab", "golang", "rust", "swift", "kotlin", "regex", "api", "program",
      "programming", "variable", "class", "null", "int", "return", "print", "loop", "c++", "c#"});
  std::vector<Phrase> math_words = phrases({
      "solve", "calculate", "compute", "equation", "equations", "integral", "derivative", "evaluate", "prove",
      "probability", "area of", "sum of", "prime", "theorem", "formula", "limit of", "value of", "antiderivative",
      "simplify"});
  std::vector<Phrase> estimates = phrases({
      "how many", "how much", "how long", "how far", "estimate", "approximately", "roughly"});
  std::vector<Phrase> writing_verbs = phrases({"write", "compose", "draft", "rewrite", "craft", "pen"});
  std::vector<Phrase> writing_forms = phrases({
      "poem", "story", "stories", "essay", "letter", "email", "joke", "jokes", "song", "lyrics", "haiku",
      "limerick", "novel", "tweet", "speech", "slogan", "eulogy", "ad", "advertisement", "post", "review",
      "card", "script", "dialogue", "monologue"});
  std::vector<Phrase> role_play = phrases({
      "pretend", "imagine you are", "imagine that you are", "you are a", "you are an", "you're a", "you're an",
      "act as", "if you were", "roleplay", "role play", "in the role of"});
  std::vector<Phrase> yes_no = phrases({
      "is", "are", "can", "could", "does", "do", "did", "was", "were", "will", "should", "has", "have", "would",
      "am"});
  std::vector<Phrase> wh_fact = phrases({"who", "when", "where", "which", "whose", "what is the name", "what year"});
  std::vector<Phrase> translate = phrases({"translate", "translation"});
};

const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// Code in the text: fences, braces, statement ends, comparison and arrow operators, empty calls,
// preprocessor lines, Python definitions and markup tags.
size_t code_syntax_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string_view rest = s.substr(i);
    const char c = s[i];
    if (rest.starts_with("```")) {
      ++n;
      i += 2;
    } else if (c == '{' || c == '}' || c == ';') {
      ++n;
    } else if (rest.starts_with("==") || rest.starts_with("!=") || rest.starts_with("->") ||
               rest.starts_with("=>") || rest.starts_with("()")) {
      ++n;
      ++i;
    } else if (rest.starts_with("#include") || ((i == 0 || is_space(s[i - 1])) && rest.starts_with("def "))) {
      ++n;
    } else if (c == '<') {
      size_t j = i + 1 + (i + 1 < s.size() && s[i + 1] == '/');
      const size_t name = j;
      while (j < s.size() && is_alpha(s[j])) ++j;
      if (j > name && j < s.size() && s[j] == '>') ++n;
    }
  }
  return n;
}

// Arithmetic and algebra: "3 + 4", "x = 2", "x^2", "$...$", "f(x)".
size_t math_syntax_count(std::string_view s) {
  static constexpr std::string_view kOperators = "+-*/^=<>";
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool variable = (c == 'x' || c == 'y' || c == 'z') && (i == 0 || !is_alpha(s[i - 1])) &&
                          (i + 1 == s.size() || !is_alpha(s[i + 1]));
    if (is_digit(c) || variable) {
      const size_t op = skip_spaces(s, i + 1);
      if (op < s.size() && kOperators.find(s[op]) != std::string_view::npos) {
        const size_t rhs = skip_spaces(s, op + 1);
        const bool operand = rhs < s.size() && (is_digit(s[rhs]) || s[rhs] == '(' ||
                                                (!variable && (s[rhs] == 'x' || s[rhs] == 'y' || s[rhs] == 'z')));
        // "x = 2" but not "x - y" in prose: a variable needs = or ^ and a number after it.
        if (operand && (!variable || ((s[op] == '=' || s[op] == '^') && is_digit(s[rhs])))) ++n;
      }
    } else if (c == '$') {
      const size_t close = s.find_first_of("$\n", i + 1);
      if (close != std::string_view::npos && s[close] == '$' && close > i + 1) {
        ++n;
        i = close;
      }
    } else if (is_alpha(c) && (i == 0 || !is_alpha(s[i - 1])) && i + 3 < s.size() && s[i + 1] == '(' &&
               (s[i + 2] == 'x' || s[i + 2] == 't' || s[i + 2] == 'n') && s[i + 3] == ')') {
      ++n;
    }
  }
  return n;
}

// An option marker at i: "A)", "A.", "(A)" after the start or a space and before a space.
bool option_marker_at(std::string_view s, size_t i, char upper) {
  if (i > 0 && !is_space(s[i - 1])) return false;
  if (i < s.size() && s[i] == '(') ++i;
  if (i + 2 >= s.size()) return false;
  const char lower = static_cast<char>(upper - 'A' + 'a');
  return (s[i] == upper || s[i] == lower) && (s[i + 1] == ')' || s[i + 1] == '.') && is_space(s[i + 2]);
}

bool has_multiple_choice(std::string_view s) {
  for (size_t a = 0; a < s.size(); ++a) {
    if (!option_marker_at(s, a, 'A')) continue;
    for (size_t b = a + 3; b < s.size(); ++b)
      if (option_marker_at(s, b, 'B')) return true;
    return false;
  }
  return false;
}

double capped(size_t count, size_t cap) {
  return static_cast<double>(std::min(count, cap)) / static_cast<double>(cap);
}

}  // namespace

const std::array<RouterFeatureInfo, kRouterFeatureCount>& router_feature_info() {
  static const std::array<RouterFeatureInfo, kRouterFeatureCount> info = {{
      {"list_noun", 1.0}, {"list_request", 1.0}, {"comparison", 1.0}, {"advice", 1.0}, {"how_to", 1.0},
      {"counterfactual", 1.0}, {"explain", 1.0}, {"why", 0.5},
      {"code_syntax", -1.0}, {"code_words", -1.0}, {"math", -1.0}, {"estimate", -1.0},
      {"creative_writing", -1.0}, {"role_play", -1.0}, {"multiple_choice", -1.0}, {"yes_no", -1.0},
      {"wh_fact", -1.0}, {"translate", -1.0},
      {"questions", 0.0}, {"length", 0.0},
  }};
  return info;
}

std::vector<std::string> question_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    const size_t quote = c == '\'' ? 1 : rest.starts_with("\xE2\x80\x99") ? 3 : 0;
    if (quote > 0) {
      // An apostrophe between letters stays in the word ("don't"); elsewhere it is a quote mark.
      const bool inner = !word.empty() && i + quote < text.size() && is_alpha(text[i + quote]);
      if (inner) word += '\'';
      else flush();
      i += quote;
    } else if (is_alpha(c) || is_digit(c) || byte >= 0x80) {
      word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      ++i;
    } else if (!word.empty() && (rest.starts_with("++") || c == '#')) {
      // Language names: "c++", "c#".
      const size_t len = c == '#' ? 1 : 2;
      word += rest.substr(0, len);
      flush();
      i += len;
    } else {
      flush();
      ++i;
    }
  }
  flush();
  return words;
}

RouterFeatureVector extract_router_features(std::string_view question) {
  const Vocabulary& v = vocabulary();
  const Words words = question_words(question);
  RouterFeatureVector f{};
  auto set = [&](RouterFeature feature, double value) { f[static_cast<size_t>(feature)] = value; };
  auto flag = [](bool b) { return b ? 1.0 : 0.0; };

  set(RouterFeature::ListNoun, flag(has_phrase(words, v.list_nouns)));
  set(RouterFeature::ListRequest, flag(has_phrase(words, v.list_requests)));
  set(RouterFeature::Comparison, flag(has_phrase(words, v.comparisons)));
  set(RouterFeature::Advice, flag(has_phrase(words, v.advice)));
  set(RouterFeature::HowTo, flag(starts_with_phrase(words, v.how_to)));
  set(RouterFeature::Counterfactual, flag(starts_with_phrase(words, v.counterfactual_openings) ||
                                          has_phrase(words, v.counterfactuals)));
  set(RouterFeature::Explain, flag(has_phrase(words, v.explain)));
  set(RouterFeature::Why, flag(has_phrase(words, v.why)));
  set(RouterFeature::CodeSyntax, capped(code_syntax_count(question), 3));
  set(RouterFeature::CodeWords, capped(count_phrases(words, v.code_words), 3));
  set(RouterFeature::Math, capped(math_syntax_count(question) + count_phrases(words, v.math_words), 3));
  set(RouterFeature::Estimate, flag(has_phrase(words, v.estimates)));
  // "How to write a cover letter?" asks for advice about writing, not for a text.
  set(RouterFeature::CreativeWriting,
      flag(!starts_with_phrase(words, v.how_to) &&
           (starts_with_phrase(words, v.writing_verbs) ||
            (has_phrase(words, v.writing_verbs) && has_phrase(words, v.writing_forms)))));
  set(RouterFeature::RolePlay, flag(has_phrase(words, v.role_play)));
  set(RouterFeature::MultipleChoice, flag(has_multiple_choice(question)));
  set(RouterFeature::YesNo, flag(starts_with_phrase(words, v.yes_no)));
  set(RouterFeature::WhFact, flag(starts_with_phrase(words, v.wh_fact)));
  set(RouterFeature::Translate, flag(has_phrase(words, v.translate)));
  set(RouterFeature::Questions, capped(static_cast<size_t>(std::count(question.begin(), question.end(), '?')), 3));
  set(RouterFeature::Length, std::min(2.0, std::log1p(static_cast<double>(words.size())) / std::log(300.0)));
  return f;
}

std::vector<std::string> router_ngrams(std::string_view question, size_t window) {
  const Words words = question_words(question);
  const size_t n = std::min(words.size(), window);
  std::vector<std::string> grams;
  grams.reserve(2 * n + 3);
  std::string opening = "^";
  for (size_t i = 0; i < std::min<size_t>(3, words.size()); ++i) {
    opening += (i ? " " : "") + words[i];
    grams.push_back(opening);
  }
  for (size_t i = 0; i < n; ++i) {
    grams.push_back(words[i]);
    if (i + 1 < n) grams.push_back(words[i] + " " + words[i + 1]);
  }
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  return grams;
}

}  // namespace pice::actors
