#include "kernels/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pice::kernels {
namespace {

int32_t argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

bool more_likely(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);   // ids break ties: deterministic
}

}  // namespace

float log_softmax_at(std::span<const float> logits, int32_t index) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l) - max);
  return static_cast<float>(static_cast<double>(logits[static_cast<size_t>(index)]) - max - std::log(sum));
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}

Sampled Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) throw std::invalid_argument("Sampler::sample: empty logits");
  const int32_t token = params_.temperature > 0.0f ? draw(logits) : argmax(logits);
  return {token, log_softmax_at(logits, token)};
}

int32_t Sampler::draw(std::span<const float> logits) {
  const size_t n = logits.size();
  const float max = *std::max_element(logits.begin(), logits.end());
  candidates_.resize(n);
  for (size_t i = 0; i < n; ++i)
    candidates_[i] = {std::exp((logits[i] - max) / params_.temperature), static_cast<int32_t>(i)};

  // top-k first (as llama.cpp), then top-p over what is left. Only as many candidates as needed are
  // ordered: a full sort of a 150k vocab per token is wasteful when the nucleus is a few dozen tokens.
  auto order_first = [this](size_t count, size_t among) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(count),
                      candidates_.begin() + static_cast<std::ptrdiff_t>(among), more_likely);
  };
  size_t keep = n;
  const bool use_top_k = params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n;
  if (use_top_k) {
    keep = static_cast<size_t>(params_.top_k);
    order_first(keep, n);   // the kept k are now fully ordered
  }
  if (params_.top_p < 1.0f) {
    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += candidates_[i].first;
    const double target = static_cast<double>(params_.top_p) * total;
    for (size_t sorted = std::min<size_t>(keep, 64);; sorted = std::min(keep, sorted * 8)) {
      if (!use_top_k) order_first(sorted, keep);
      double cumulative = 0;
      size_t i = 0;
      while (i < sorted && cumulative < target) cumulative += candidates_[i++].first;
      if (cumulative >= target || sorted == keep) {
        keep = std::max<size_t>(i, 1);
        break;
      }
    }
  }

  double kept_total = 0;
  for (size_t i = 0; i < keep; ++i) kept_total += candidates_[i].first;
  // 53 random bits -> a double in [0, 1): identical on every standard library, unlike the distributions.
  const double r = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * kept_total;
  double cumulative = 0;
  for (size_t i = 0; i < keep; ++i) {
    cumulative += candidates_[i].first;
    if (r < cumulative) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;   // r rounded up to kept_total
}

}  // namespace pice::kernels
