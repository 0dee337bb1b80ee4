#include "actors/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace pice::actors {
namespace {

// Weights obtained by `router_eval --fit` (bench/router_eval.cpp): logistic regression, maximum a
// posteriori with a Gaussian prior centred on the hand-set signs of router_feature_info() (strength
// lambda = 3, chosen by 5-fold cross-validation on LIMA: 78.4%), fitted on the LIMA set only. The
// WizardLM set was not used for fitting and is reported as held-out (docs/BENCHMARKS.md, "Router").
// Cues LIMA barely contains (multiple_choice, math) keep weights near their prior. The cue vocabularies
// were revised after the first held-out measurement (BENCHMARKS.md says how). No data is stored here.
constexpr double kBias = -0.68;
constexpr RouterFeatureVector kWeights = {
    1.10,  // list_noun
    0.43,  // list_request
    1.11,  // comparison
    0.71,  // advice
    2.03,  // how_to
    1.13,  // counterfactual
    0.60,  // explain
    0.64,  // why
    -0.93, // code_syntax
    -0.86, // code_words
    -0.93, // math
    -0.98, // estimate
    -2.19, // creative_writing
    -0.69, // role_play
    -1.00, // multiple_choice
    -0.71, // yes_no
    -0.50, // wh_fact
    -1.04, // translate
    0.52,  // questions
    -0.83, // length
};

// Contributions smaller than this are left out of the reason: they never decide a route.
constexpr double kReasonThreshold = 0.05;
constexpr size_t kReasonTerms = 4;

std::string signed_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.2f", x);
  return text;
}

std::string explain(const RouterFeatureVector& features, const RouterWeights& weights) {
  struct Term {
    std::string_view name;
    double contribution;
  };
  std::vector<Term> terms;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) {
    const double c = weights.weights[i] * features[i];
    if (std::abs(c) >= kReasonThreshold) terms.push_back({router_feature_info()[i].name, c});
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const Term& a, const Term& b) { return std::abs(a.contribution) > std::abs(b.contribution); });
  std::string reason;
  for (size_t i = 0; i < terms.size() && i < kReasonTerms; ++i) {
    if (!reason.empty()) reason += "; ";
    reason += std::string(terms[i].name) + " " + signed_number(terms[i].contribution);
  }
  if (terms.size() > kReasonTerms) reason += "; ...";
  if (reason.empty()) reason = "no cue";
  return reason + "; bias " + signed_number(weights.bias);
}

}  // namespace

const RouterWeights& default_router_weights() {
  static const RouterWeights weights{kWeights, kBias};
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

RouteDecision route(std::string_view question) { return route(question, default_router_weights()); }

RouteDecision route(std::string_view question, const RouterWeights& weights) {
  const RouterFeatureVector features = extract_router_features(question);
  RouteDecision decision;
  decision.score = router_score(features, weights);
  decision.progressive = decision.score > 0;
  decision.reason = explain(features, weights);
  return decision;
}

}  // namespace pice::actors
