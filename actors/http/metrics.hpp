#pragma once
// The HTTP gateway's own counters, gauges and answer-latency histogram, rendered as Prometheus text
// for GET /metrics. Safe from any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace pice::actors::http {

// Why a chat completion did not end with a complete answer delivered.
enum class ErrorKind { pipeline, timeout, disconnect };

class Metrics {
 public:
  // Upper bounds (seconds) of the answer-latency buckets; +Inf is implied.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

  void count_response(int status);   // every response, when its status line is written
  void count_error(ErrorKind kind);
  void observe_answer(double seconds);  // a complete answer: request received -> done chunk
  void connection_opened() { connections_.fetch_add(1); }
  void connection_closed() { connections_.fetch_sub(1); }

  int64_t connections() const { return connections_.load(); }
  uint64_t responses(int status) const;

  // Prometheus text exposition format (version 0.0.4).
  std::string render(int inflight) const;

 private:
  mutable std::mutex mutex_;
  std::map<int, uint64_t> responses_;
  std::array<uint64_t, 3> errors_{};
  std::array<uint64_t, kLatencyBuckets.size()> buckets_{};  // non-cumulative; summed when rendered
  uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  std::atomic<int64_t> connections_{0};
};

const char* error_kind_name(ErrorKind kind);  // "pipeline", "timeout", "disconnect"

}  // namespace pice::actors::http
