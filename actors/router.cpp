#include "actors/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace pice::actors {
namespace {

struct NgramWeight {
  std::string_view gram;
  double weight;
};

// kBias, kWeights and kNgramWeights: data, not code.
#include "actors/router_weights.inc"

// Contributions smaller than this are left out of the reason: they never decide a route.
constexpr double kReasonThreshold = 0.05;
constexpr size_t kReasonTerms = 4;

std::string signed_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.2f", x);
  return text;
}

std::string explain(const RouterFeatureVector& features, const std::vector<std::string>& ngrams,
                    const RouterWeights& weights) {
  struct Term {
    std::string name;
    double contribution;
  };
  std::vector<Term> terms;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) {
    const double c = weights.weights[i] * features[i];
    if (std::abs(c) >= kReasonThreshold) terms.push_back({std::string(router_feature_info()[i].name), c});
  }
  for (const std::string& gram : ngrams)
    if (const auto it = weights.ngrams.find(gram); it != weights.ngrams.end() && std::abs(it->second) >= kReasonThreshold)
      terms.push_back({"\"" + gram + "\"", it->second});
  std::stable_sort(terms.begin(), terms.end(),
                   [](const Term& a, const Term& b) { return std::abs(a.contribution) > std::abs(b.contribution); });
  std::string reason;
  for (size_t i = 0; i < terms.size() && i < kReasonTerms; ++i) {
    if (!reason.empty()) reason += "; ";
    reason += terms[i].name + " " + signed_number(terms[i].contribution);
  }
  if (terms.size() > kReasonTerms) reason += "; ...";
  if (reason.empty()) reason = "no cue";
  return reason + "; bias " + signed_number(weights.bias);
}

}  // namespace

const RouterWeights& default_router_weights() {
  static const RouterWeights weights = [] {
    RouterWeights w{kWeights, kBias, {}, kNgramWindow};
    for (const NgramWeight& g : kNgramWeights) w.ngrams.emplace(g.gram, g.weight);
    return w;
  }();
  return weights;
}

RouterWeights prior_router_weights() {
  RouterWeights prior;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) prior.weights[i] = router_feature_info()[i].prior;
  return prior;
}

double router_score(const RouterFeatureVector& features, const RouterWeights& weights) {
  double score = weights.bias;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) score += weights.weights[i] * features[i];
  return score;
}

double router_score(const RouterFeatureVector& features, const std::vector<std::string>& ngrams,
                    const RouterWeights& weights) {
  double score = router_score(features, weights);
  for (const std::string& gram : ngrams)
    if (const auto it = weights.ngrams.find(gram); it != weights.ngrams.end()) score += it->second;
  return score;
}

RouteDecision route(std::string_view question) { return route(question, default_router_weights()); }

RouteDecision route(std::string_view question, const RouterWeights& weights) {
  const RouterFeatureVector features = extract_router_features(question);
  const std::vector<std::string> ngrams = router_ngrams(question, weights.ngram_window);
  RouteDecision decision;
  decision.score = router_score(features, ngrams, weights);
  decision.progressive = decision.score > 0;
  decision.reason = explain(features, ngrams, weights);
  return decision;
}

}  // namespace pice::actors
