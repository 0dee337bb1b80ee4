#include "brokers/outbound_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace pice::brokers {

OutboundQueue::OutboundQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "pump: cannot create an eventfd");
}

OutboundQueue::~OutboundQueue() { ::close(fd_); }

bool OutboundQueue::push(OutboundMessage message) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    was_empty = messages_.empty();
    messages_.push_back(std::move(message));
  }
  // The pump takes the whole list per wake-up, so only the push that makes it non-empty must signal.
  if (was_empty) signal();
  return true;
}

void OutboundQueue::wake() { signal(); }

std::vector<OutboundMessage> OutboundQueue::take_all() {
  clear_signal();
  std::vector<OutboundMessage> taken;
  std::lock_guard lock(mutex_);
  taken.swap(messages_);
  return taken;
}

std::vector<OutboundMessage> OutboundQueue::close() {
  std::vector<OutboundMessage> left;
  std::lock_guard lock(mutex_);
  closed_ = true;
  left.swap(messages_);
  return left;
}

void OutboundQueue::signal() {
  const uint64_t one = 1;
  // EAGAIN means the counter is saturated: it is readable anyway, which is all we need.
  while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void OutboundQueue::clear_signal() {
  uint64_t count = 0;
  // Non-blocking: EAGAIN just means nobody signalled since the last read.
  while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

}  // namespace pice::brokers
