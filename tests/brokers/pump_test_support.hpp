#pragma once
// Helpers for the Pump tests: a thread-safe inbox to wait on (no fixed sleeps), envelopes that carry
// a sender and a sequence number, and unique endpoints per test.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "brokers/pump.hpp"
#include "messages/envelope.hpp"

namespace pice::brokers::testing {

using namespace std::chrono_literals;

// Generous: only reached when a test fails (or under a sanitizer on a loaded machine).
inline constexpr std::chrono::milliseconds kTimeout = 20s;

// Waits until pred() holds, re-checking every few milliseconds; false after `timeout`. For state that
// has no notification of its own (e.g. Pump::stats()).
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::mutex mutex;
  std::condition_variable never_notified;
  std::unique_lock lock(mutex);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    never_notified.wait_for(lock, 2ms);
  }
  return true;
}

// Collects what a Pump handler receives; waits on a condition variable.
class Inbox {
 public:
  Pump::Handler handler() {
    return [this](Inbound&& message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
      changed_.notify_all();
    };
  }
  bool wait_for_count(size_t count, std::chrono::milliseconds timeout = kTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }
  std::vector<Inbound> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Inbound> messages_;
};

// A request whose request_id is "<sender>/<seq>" and sender is `sender`.
inline messages::Envelope numbered(const std::string& sender, int seq, const std::string& text = "ping") {
  messages::Envelope envelope;
  envelope.sender = sender;
  envelope.request_id = sender + "/" + std::to_string(seq);
  envelope.created_us = messages::now_us();
  messages::Request request;
  request.question = text;
  request.seed = static_cast<uint64_t>(seq);
  envelope.body = request;
  return envelope;
}

inline int seq_of(const messages::Envelope& envelope) {
  return static_cast<int>(std::get<messages::Request>(envelope.body).seed);
}

// inproc names are per process: make each test's unique.
inline std::string unique_inproc(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "inproc://" + stem + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace pice::brokers::testing
