#pragma once
// The router: per request, a direct answer by the cloud model (0) or a progressive sketch-then-expand
// answer (1), decided from the question text alone. A logistic regression, linear and readable term by
// term: score = bias + sum(weight * cue) over the hand-made cues of router_features.hpp, plus the
// learned weight of each word n-gram the question contains (router_ngrams); progressive when the score
// is above 0 (the score is a logit: probability 1 / (1 + e^-score) that the question suits a sketch).
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/router_features.hpp"

namespace pice::actors {

struct RouteDecision {
  bool progressive = false;
  double score = 0;    // the logit; > 0 means progressive
  std::string reason;  // the largest contributions, e.g. "how_to +1.63; length -0.31"
};

struct RouterWeights {
  RouterFeatureVector weights{};  // in RouterFeature order
  double bias = 0;
  std::map<std::string, double, std::less<>> ngrams;  // n-gram -> weight; absent n-grams weigh 0
  size_t ngram_window = 0;                            // router_ngrams' window the weights were fitted with
};

// The committed weights: actors/router_weights.inc, written by `router_eval --fit --write` (its header
// says how they were obtained).
const RouterWeights& default_router_weights();

// The hand-set priors of router_feature_info() with a zero bias and no n-grams: the fit's prior mean.
RouterWeights prior_router_weights();

// The cue part alone (bias included).
double router_score(const RouterFeatureVector& features, const RouterWeights& weights);
// The whole score: the cue part plus the weights of the n-grams (router_ngrams' output).
double router_score(const RouterFeatureVector& features, const std::vector<std::string>& ngrams,
                    const RouterWeights& weights);

RouteDecision route(std::string_view question);
RouteDecision route(std::string_view question, const RouterWeights& weights);

}  // namespace pice::actors
