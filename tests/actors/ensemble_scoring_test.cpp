// The ensemble's judgement of candidate expansions: similarity, each score part, and the choice.
#include "actors/ensemble_scoring.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace pice::actors {
namespace {

messages::ExpansionResult candidate(std::string node, std::string text, double mean_logprob) {
  messages::ExpansionResult r;
  r.node = std::move(node);
  r.model = "m-" + r.node;
  r.text = std::move(text);
  r.mean_logprob = mean_logprob;
  r.tokens = 7;
  return r;
}

TEST(TextSimilarity, IdenticalDisjointAndPartial) {
  EXPECT_NEAR(text_similarity("Keep a fixed sleep schedule", "keep a FIXED sleep schedule!"), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(text_similarity("abc", "xyz"), 0.0);
  EXPECT_DOUBLE_EQ(text_similarity("", "anything"), 0.0);
  EXPECT_DOUBLE_EQ(text_similarity("?!", "?!"), 0.0);  // no letters or digits: nothing to compare
  const double close = text_similarity("sleeping well at night", "sleep well every night");
  const double far = text_similarity("sleeping well at night", "compile the kernel module");
  EXPECT_GT(close, 0.3);
  EXPECT_LT(far, close);
  EXPECT_DOUBLE_EQ(text_similarity("a b c d", "d c b a"), text_similarity("d c b a", "a b c d"));  // symmetric
}

TEST(EnsembleScoring, PartsFollowTheirDefinitions) {
  const std::vector<messages::ExpansionResult> candidates = {
      candidate("a", "Go to bed at the same time every night.", std::log(0.5)),
      candidate("b", "Go to bed at the same time each night.", std::log(0.25)),
  };
  const auto scored = score_candidates(candidates, "How do I sleep better?", "Fixed bed time", {1, 1, 1});
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_NEAR(scored[0].fluency, 0.5, 1e-12);   // exp(mean logprob)
  EXPECT_NEAR(scored[1].fluency, 0.25, 1e-12);
  const double sim = text_similarity(candidates[0].text, candidates[1].text);
  EXPECT_NEAR(scored[0].agreement, sim, 1e-12);
  EXPECT_NEAR(scored[1].agreement, sim, 1e-12);
  EXPECT_NEAR(scored[0].relevance,
              (text_similarity(candidates[0].text, "Fixed bed time") +
               text_similarity(candidates[0].text, "How do I sleep better?")) / 2,
              1e-12);
  for (const auto& s : scored)
    EXPECT_NEAR(s.score, (s.fluency + s.relevance + s.agreement) / 3, 1e-12);
  EXPECT_EQ(scored[1].node, "b");
  EXPECT_EQ(scored[1].model, "m-b");
  EXPECT_EQ(scored[1].tokens, 7);
  EXPECT_FALSE(scored[0].chosen);
}

TEST(EnsembleScoring, ALoneCandidateHasNoAgreement) {
  const auto scored = score_candidates({candidate("a", "text", -1)}, "q", "p", {1, 1, 1});
  ASSERT_EQ(scored.size(), 1u);
  EXPECT_DOUBLE_EQ(scored[0].agreement, 0.0);
}

// Three candidates, each best on one part: the weights decide which wins.
std::vector<messages::ExpansionResult> rivals() {
  return {
      // Fluent (high probability) but about something else, and unlike the others.
      candidate("fluent", "Quantum chromodynamics binds quarks with gluons.", std::log(0.9)),
      // On the point and question, not fluent.
      candidate("relevant", "Sleep better: keep a fixed bed time and wake time.", std::log(0.05)),
      // Like the third, middling elsewhere.
      candidate("agreeing", "Drink water and exercise in the morning daily.", std::log(0.2)),
      candidate("agreeing-too", "Drink water and exercise in the morning every day.", std::log(0.2)),
  };
}

TEST(EnsembleScoring, TheBestWeightedScoreWinsAndWeightsChangeTheWinner) {
  const std::string question = "How do I sleep better?", point = "Fixed bed time and wake time";
  auto winner = [&](EnsembleWeights w) {
    const auto scored = score_candidates(rivals(), question, point, w);
    const size_t best = best_candidate(scored);
    for (const auto& s : scored) EXPECT_LE(s.score, scored[best].score);  // nothing beats the chosen one
    return scored[best].node;
  };
  EXPECT_EQ(winner({1, 0, 0}), "fluent");
  EXPECT_EQ(winner({0, 1, 0}), "relevant");
  EXPECT_EQ(winner({0, 0, 1}), "agreeing");  // tie with agreeing-too: the earlier arrival wins
  EXPECT_EQ(winner({0.2, 1, 0.2}), "relevant");
}

TEST(EnsembleScoring, TiesGoToTheFirstArrival) {
  std::vector<messages::EnsembleCandidate> scored(3);
  scored[0].score = 0.4;
  scored[1].score = 0.7;
  scored[2].score = 0.7;
  EXPECT_EQ(best_candidate(scored), 1u);
  EXPECT_THROW(best_candidate({}), std::invalid_argument);
}

TEST(EnsembleScoring, RejectsWeightsThatRankNothing) {
  EXPECT_THROW(score_candidates(rivals(), "q", "p", {0, 0, 0}), std::invalid_argument);
  EXPECT_THROW(score_candidates(rivals(), "q", "p", {-1, 1, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace pice::actors
