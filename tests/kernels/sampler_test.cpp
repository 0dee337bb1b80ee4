// Sampler: greedy, seeded reproducibility, top-k, top-p, temperature, and log-probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "kernels/sampler.hpp"

namespace pice::kernels {
namespace {

std::vector<float> random_logits(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(n);
  for (float& l : logits) l = normal(rng);
  return logits;
}

double reference_log_softmax(const std::vector<float>& logits, size_t i) {
  double sum = 0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l));
  return static_cast<double>(logits[i]) - std::log(sum);
}

// Logits whose softmax is exactly `probs`.
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (const double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::map<int32_t, int> histogram(Sampler& sampler, const std::vector<float>& logits, int trials) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < trials; ++i) ++counts[sampler.sample(logits).token];
  return counts;
}

TEST(Sampler, GreedyPicksTheArgmaxWithItsLogprob) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<float> logits = random_logits(1000, seed);
    const auto best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    Sampler sampler({});
    const Sampled s = sampler.sample(logits);
    EXPECT_EQ(s.token, best);
    EXPECT_NEAR(s.logprob, reference_log_softmax(logits, static_cast<size_t>(best)), 1e-5);
  }
  Sampler sampler({});
  EXPECT_EQ(sampler.sample(std::vector<float>{1, 3, 3, 2}).token, 1);   // ties: the lowest id
  EXPECT_THROW(sampler.sample(std::vector<float>{}), std::invalid_argument);
}

TEST(Sampler, LogprobIsThatOfTheRawLogitsWhateverTheSettings) {
  const std::vector<float> logits = random_logits(300, 99);
  Sampler sampler({.temperature = 0.7f, .top_p = 0.9f, .top_k = 40, .seed = 5});
  for (int i = 0; i < 50; ++i) {
    const Sampled s = sampler.sample(logits);
    EXPECT_NEAR(s.logprob, reference_log_softmax(logits, static_cast<size_t>(s.token)), 1e-5);
  }
  // Large logits must not overflow.
  const std::vector<float> big{1000.0f, 999.0f};
  EXPECT_NEAR(log_softmax_at(big, 0), -std::log1p(std::exp(-1.0)), 1e-5);
}

TEST(Sampler, SameSeedSameSequence) {
  const std::vector<float> logits = random_logits(500, 3);
  auto run = [&](uint64_t seed) {
    Sampler sampler({.temperature = 1.0f, .top_p = 0.95f, .top_k = 0, .seed = seed});
    std::vector<int32_t> tokens;
    for (int i = 0; i < 200; ++i) tokens.push_back(sampler.sample(logits).token);
    return tokens;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampler, TopKOneIsGreedy) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const std::vector<float> logits = random_logits(800, seed + 100);
    Sampler greedy({});
    Sampler top1({.temperature = 1.5f, .top_p = 1.0f, .top_k = 1, .seed = seed});
    for (int i = 0; i < 5; ++i) EXPECT_EQ(top1.sample(logits).token, greedy.sample(logits).token);
  }
}

TEST(Sampler, TopKRestrictsTheSupportToTheKMostLikely) {
  const std::vector<float> logits = logits_of({0.1, 0.4, 0.05, 0.3, 0.15});
  Sampler sampler({.temperature = 1.0f, .top_p = 1.0f, .top_k = 2, .seed = 1});
  const auto counts = histogram(sampler, logits, 2000);
  ASSERT_EQ(counts.size(), 2u);
  // Renormalised over {1, 3}: 0.4 / 0.7.  Binomial sd ~0.011 at 2000 trials; 0.05 is ~4.5 sd.
  EXPECT_NEAR(counts.at(1) / 2000.0, 0.4 / 0.7, 0.05);
  EXPECT_GT(counts.at(3), 0);
}

TEST(Sampler, TopPRestrictsTheSupportToTheNucleus) {
  const std::vector<float> logits = logits_of({0.05, 0.5, 0.15, 0.3});
  // Sorted: 0.5, 0.3 (cumulative 0.8 >= 0.7): the nucleus is {1, 3}.
  Sampler sampler({.temperature = 1.0f, .top_p = 0.7f, .top_k = 0, .seed = 9});
  const auto counts = histogram(sampler, logits, 2000);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts.at(1) / 2000.0, 0.5 / 0.8, 0.05);
  EXPECT_GT(counts.at(3), 0);

  // A nucleus reached by the most likely token alone.
  Sampler narrow({.temperature = 1.0f, .top_p = 0.4f, .top_k = 0, .seed = 9});
  EXPECT_EQ(histogram(narrow, logits, 200), (std::map<int32_t, int>{{1, 200}}));
}

TEST(Sampler, TopPOverALargeVocabNeedsMoreThanTheFirstCandidates) {
  // 5000 equally likely tokens: the nucleus at 0.5 holds 2500 of them, beyond any first partial sort.
  const std::vector<float> logits(5000, 0.0f);
  Sampler sampler({.temperature = 1.0f, .top_p = 0.5f, .top_k = 0, .seed = 4});
  const auto counts = histogram(sampler, logits, 3000);
  for (const auto& [token, count] : counts) EXPECT_LT(token, 2500);   // ties ordered by id
  EXPECT_GT(counts.size(), 1000u);
}

TEST(Sampler, TemperatureFollowsTheDistribution) {
  const std::vector<float> logits = logits_of({0.6, 0.3, 0.1});
  Sampler plain({.temperature = 1.0f, .top_p = 1.0f, .top_k = 0, .seed = 2});
  auto counts = histogram(plain, logits, 4000);
  EXPECT_NEAR(counts[0] / 4000.0, 0.6, 0.04);
  EXPECT_NEAR(counts[2] / 4000.0, 0.1, 0.03);
  // Temperature 0.5 squares the probabilities: 0.36 : 0.09 : 0.01 -> 0.783, 0.196, 0.022.
  Sampler sharp({.temperature = 0.5f, .top_p = 1.0f, .top_k = 0, .seed = 2});
  counts = histogram(sharp, logits, 4000);
  EXPECT_NEAR(counts[0] / 4000.0, 0.36 / 0.46, 0.04);
}

}  // namespace
}  // namespace pice::kernels
