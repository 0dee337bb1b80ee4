#include "actors/cancelled_requests.hpp"

namespace pice::actors {

void CancelledRequests::add(const std::string& request_id) {
  std::lock_guard lock(mutex_);
  if (!ids_.insert(request_id).second) return;
  order_.push_back(request_id);
  if (order_.size() > remembered_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
}

bool CancelledRequests::contains(const std::string& request_id) const {
  std::lock_guard lock(mutex_);
  return ids_.count(request_id) > 0;
}

}  // namespace pice::actors
