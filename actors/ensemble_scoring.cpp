#include "actors/ensemble_scoring.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace pice::actors {
namespace {

using Trigrams = std::unordered_map<std::string, double>;

// Lower-cased letters and digits (bytes >= 0x80 kept: UTF-8 letters), every other run as one space,
// padded with a space on both sides so word starts and ends make trigrams of their own.
std::string normalise(std::string_view text) {
  std::string out = " ";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) out += static_cast<char>(std::tolower(u));
    else if (out.back() != ' ') out += ' ';
  }
  if (out.back() != ' ') out += ' ';
  return out;
}

Trigrams trigrams(std::string_view text) {
  Trigrams counts;
  const std::string s = normalise(text);
  if (s.size() < 3) return counts;  // no letters or digits at all
  for (size_t i = 0; i + 3 <= s.size(); ++i) counts[s.substr(i, 3)] += 1;
  return counts;
}

double cosine(const Trigrams& a, const Trigrams& b) {
  if (a.empty() || b.empty()) return 0;
  const Trigrams& small = a.size() < b.size() ? a : b;
  const Trigrams& large = a.size() < b.size() ? b : a;
  double dot = 0;
  for (const auto& [gram, count] : small)
    if (auto it = large.find(gram); it != large.end()) dot += count * it->second;
  double na = 0, nb = 0;
  for (const auto& entry : a) na += entry.second * entry.second;
  for (const auto& entry : b) nb += entry.second * entry.second;
  return dot / std::sqrt(na * nb);
}

}  // namespace

double text_similarity(std::string_view a, std::string_view b) { return cosine(trigrams(a), trigrams(b)); }

std::vector<messages::EnsembleCandidate> score_candidates(const std::vector<messages::ExpansionResult>& candidates,
                                                          std::string_view question, std::string_view point,
                                                          const EnsembleWeights& weights) {
  const double total = weights.fluency + weights.relevance + weights.agreement;
  if (weights.fluency < 0 || weights.relevance < 0 || weights.agreement < 0 || !(total > 0))
    throw std::invalid_argument("ensemble weights must be >= 0 with a positive sum");
  std::vector<Trigrams> grams;
  for (const auto& c : candidates) grams.push_back(trigrams(c.text));
  const Trigrams question_grams = trigrams(question), point_grams = trigrams(point);

  std::vector<messages::EnsembleCandidate> scored;
  for (size_t i = 0; i < candidates.size(); ++i) {
    messages::EnsembleCandidate s;
    s.node = candidates[i].node;
    s.model = candidates[i].model;
    s.tokens = candidates[i].tokens;
    s.fluency = std::exp(std::min(0.0, candidates[i].mean_logprob));
    s.relevance = (cosine(grams[i], point_grams) + cosine(grams[i], question_grams)) / 2;
    for (size_t j = 0; j < candidates.size(); ++j)
      if (j != i) s.agreement += cosine(grams[i], grams[j]);
    if (candidates.size() > 1) s.agreement /= static_cast<double>(candidates.size() - 1);
    s.score = (weights.fluency * s.fluency + weights.relevance * s.relevance + weights.agreement * s.agreement) / total;
    scored.push_back(std::move(s));
  }
  return scored;
}

size_t best_candidate(const std::vector<messages::EnsembleCandidate>& scored) {
  if (scored.empty()) throw std::invalid_argument("best_candidate: no candidates");
  size_t best = 0;
  for (size_t i = 1; i < scored.size(); ++i)
    if (scored[i].score > scored[best].score) best = i;
  return best;
}

}  // namespace pice::actors
