#pragma once
// The router: per request, a direct answer by the cloud model (0) or a progressive sketch-then-expand
// answer (1), decided from the question text alone. A transparent linear score over the cues of
// router_features.hpp: score = bias + sum(weight * cue); progressive when the score is above 0 (the
// score is a logit: probability 1 / (1 + e^-score) that the question suits a sketch).
#include <string>
#include <string_view>

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
};

// The committed weights (router.cpp says how they were obtained).
const RouterWeights& default_router_weights();

// The hand-set priors of router_feature_info() with a zero bias: the starting point of the fit.
RouterWeights prior_router_weights();

double router_score(const RouterFeatureVector& features, const RouterWeights& weights);

RouteDecision route(std::string_view question);
RouteDecision route(std::string_view question, const RouterWeights& weights);

}  // namespace pice::actors
