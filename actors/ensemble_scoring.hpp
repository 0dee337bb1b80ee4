#pragma once
// How the ensemble judges candidate expansions of one point (the PICE paper's ensemble of SLMs):
//   fluency   = exp(mean token log-probability), i.e. 1 / perplexity, in (0, 1]
//   relevance = mean of the candidate's similarity to the point and to the question
//   agreement = mean similarity to the other candidates (0 when it is alone)
//   score     = the configured weighted mean of the three
// Similarity is the cosine of character-trigram counts: no embedding model is needed, it works on any
// language and rewards shared word stems ("sleep"/"sleeping") that whole-word overlap misses.
#include <string>
#include <string_view>
#include <vector>

#include "messages/bodies.hpp"

namespace pice::actors {

struct EnsembleWeights {
  double fluency = 1;
  double relevance = 1;
  double agreement = 1;
};

// Cosine similarity of the character-trigram counts of two texts (lower-cased, runs of anything
// but letters and digits read as one space). 1 for identical texts, 0 when nothing is shared or
// either text has no letters or digits.
double text_similarity(std::string_view a, std::string_view b);

// Scores every candidate (their node, model and tokens are copied into the result, chosen is left
// false). Weights must be >= 0 with a positive sum.
std::vector<messages::EnsembleCandidate> score_candidates(const std::vector<messages::ExpansionResult>& candidates,
                                                          std::string_view question, std::string_view point,
                                                          const EnsembleWeights& weights);

// The index of the best score; a tie goes to the earlier candidate (the one that arrived first).
// Requires a non-empty list.
size_t best_candidate(const std::vector<messages::EnsembleCandidate>& scored);

}  // namespace pice::actors
