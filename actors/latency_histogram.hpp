#pragma once
// Latency histograms for telemetry: fixed bucket bounds in milliseconds, cumulative since the node
// started (a lost Telemetry message loses nothing; the next carries every observation). Safe from any
// thread: the expander records on its own thread while the heartbeat actor publishes.
#include <mutex>
#include <vector>

#include "messages/bodies.hpp"

namespace pice::actors {

class LatencyHistogram {
 public:
  // From a millisecond to ten minutes: a point expanded on a fast board, a request queued behind a
  // congested cloud, and everything between fall in buckets that tell them apart.
  static std::vector<double> default_bounds_ms() {
    return {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000, 600000};
  }

  explicit LatencyHistogram(std::vector<double> bounds_ms = default_bounds_ms()) {
    value_.bounds = std::move(bounds_ms);
    value_.counts.assign(value_.bounds.size() + 1, 0);
  }

  void observe(double ms) {
    std::lock_guard lock(mutex_);
    size_t bucket = 0;
    while (bucket < value_.bounds.size() && ms > value_.bounds[bucket]) ++bucket;
    ++value_.counts[bucket];
    value_.sum += ms;
    ++value_.count;
  }

  messages::Histogram snapshot() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  messages::Histogram value_;
};

// The value below which `quantile` (0..1) of the observations fall, interpolated linearly inside its
// bucket (as Prometheus' histogram_quantile does); 0 for an empty histogram. Above the last bound it
// answers that bound: the histogram knows no more.
double histogram_quantile(const messages::Histogram& histogram, double quantile);

}  // namespace pice::actors
