#pragma once
// Percentiles of latency samples, shared by the simulator and the bench programs so that a simulated
// p95 and a measured one are computed the same way and can be compared.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace pice::actors {

// The p-th quantile (p in [0, 1]) interpolated linearly between the two nearest ranks; NaN when there
// are no samples, so an empty set is not mistaken for a zero latency.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank)), hi = static_cast<size_t>(std::ceil(rank));
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

// The nearest-rank p-th quantile: the sample at index floor(p * n), the largest for p = 1; 0 when there
// are no samples (the load benchmarks print it in a table of numbers).
inline double nearest_rank_percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace pice::actors
