#pragma once
// The requests a board was told to drop (their client left): a task of one of them is answered at once
// with an error instead of being expanded, whether it is already running, still queued in an
// expander's mailbox, or arrives later (a redispatch that crossed the cancellation on the wire).
// Written by the pump thread, read by the expanders: locked. Bounded: the oldest ids are forgotten,
// long after their tasks could still arrive.
#include <cstddef>
#include <deque>
#include <mutex>
#include <set>
#include <string>

namespace pice::actors {

class CancelledRequests {
 public:
  explicit CancelledRequests(size_t remembered = 4096) : remembered_(remembered) {}

  void add(const std::string& request_id);
  bool contains(const std::string& request_id) const;

 private:
  size_t remembered_;
  mutable std::mutex mutex_;
  std::deque<std::string> order_;   // oldest first
  std::set<std::string> ids_;
};

}  // namespace pice::actors
