#pragma once
// Rate limit for log lines a peer can provoke at will (malformed messages, throwing handlers): at most
// one line per interval, the rest counted and reported with the next line.

#include <chrono>
#include <cstdint>
#include <optional>

namespace pice::brokers {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(Clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // The number of events held back since the last line when a line may be written now, else nullopt.
  std::optional<uint64_t> admit(Clock::time_point now = Clock::now()) {
    if (logged_once_ && now - last_ < interval_) {
      ++held_back_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_ = now;
    const uint64_t held = held_back_;
    held_back_ = 0;
    return held;
  }

 private:
  Clock::duration interval_;
  Clock::time_point last_{};
  bool logged_once_ = false;
  uint64_t held_back_ = 0;
};

}  // namespace pice::brokers
