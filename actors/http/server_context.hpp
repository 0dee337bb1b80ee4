#pragma once
// What every HTTP session shares: the options, the link to the node, the metrics, and the bound on
// chat completions in flight. Each part is safe from any thread.
#include <atomic>
#include <optional>

#include "actors/fleet_monitor.hpp"
#include "actors/http/answer_router.hpp"
#include "actors/http/http_gateway.hpp"
#include "actors/http/metrics.hpp"

namespace pice::actors::http {

// Admission control: at most `limit` chat completions at once. A refused request gets 503 at once,
// so nothing queues without bound. A slot is held until the answer ends, or until its client leaves
// (then the node is told to cancel the request's work).
class InflightLimit {
 public:
  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->count_.fetch_sub(1);
    }

   private:
    friend class InflightLimit;
    explicit Slot(InflightLimit* owner) : owner_(owner) {}
    InflightLimit* owner_;
  };

  explicit InflightLimit(int limit) : limit_(limit) {}
  std::optional<Slot> try_acquire() {
    if (count_.fetch_add(1) >= limit_) {
      count_.fetch_sub(1);
      return std::nullopt;
    }
    return Slot(this);
  }
  int current() const { return count_.load(); }

 private:
  const int limit_;
  std::atomic<int> count_{0};
};

struct ServerContext {
  ServerContext(HttpOptions opts, AnswerRouter& r, Metrics& m)
      : options(std::move(opts)), router(r), metrics(m), inflight(options.max_inflight) {}
  const HttpOptions options;
  AnswerRouter& router;
  Metrics& metrics;
  InflightLimit inflight;
  const FleetMonitor* fleet = nullptr;   // the fleet's telemetry for /metrics; null: none
};

}  // namespace pice::actors::http
