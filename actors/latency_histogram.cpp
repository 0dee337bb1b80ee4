#include "actors/latency_histogram.hpp"

#include <algorithm>

namespace pice::actors {

double histogram_quantile(const messages::Histogram& h, double quantile) {
  if (h.count == 0 || h.bounds.empty() || h.counts.size() != h.bounds.size() + 1) return 0;
  const double rank = std::clamp(quantile, 0.0, 1.0) * static_cast<double>(h.count);
  double below = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    const double in_bucket = static_cast<double>(h.counts[i]);
    if (below + in_bucket >= rank && in_bucket > 0) {
      const double lower = i == 0 ? 0.0 : h.bounds[i - 1];
      return lower + (h.bounds[i] - lower) * (rank - below) / in_bucket;
    }
    below += in_bucket;
  }
  return h.bounds.back();
}

}  // namespace pice::actors
