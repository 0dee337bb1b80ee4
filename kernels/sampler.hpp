#pragma once
// Picks the next token from a vector of logits: greedy, or seeded sampling with temperature, top-k
// and top-p (nucleus). The same parameters and seed give the same sequence of tokens on every platform
// (own uniform draw from std::mt19937_64, whose output the standard fixes).
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace pice::kernels {

struct SamplingParams {
  float temperature = 0.0f;   // <= 0: greedy (argmax, lowest id on ties)
  float top_p = 1.0f;         // keep the smallest set of most likely tokens whose probability reaches top_p
  int top_k = 0;              // > 0: keep only the k most likely tokens
  uint64_t seed = 0;
};

struct Sampled {
  int32_t token;
  float logprob;   // log-softmax of the raw logits at token: the model's own distribution
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);
  Sampled sample(std::span<const float> logits);   // throws std::invalid_argument for empty logits
  const SamplingParams& params() const { return params_; }

 private:
  int32_t draw(std::span<const float> logits);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;   // (probability, id), reused between calls
};

// log-softmax of logits at one index (computed in double).
float log_softmax_at(std::span<const float> logits, int32_t index);

}  // namespace pice::kernels
