#pragma once
// The hand-over from any thread to the pump thread: a mutex-protected list of encoded messages plus
// an eventfd the pump thread polls next to its sockets, so a send is picked up at once (no
// poll-timeout latency) and the caller never blocks on a socket.

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace pice::brokers {

struct OutboundMessage {
  size_t socket = 0;    // index of the pump's socket
  std::string peer;     // ROUTER routing id, else empty
  std::string bytes;    // encoded envelope
};

class OutboundQueue {
 public:
  OutboundQueue();      // throws std::system_error if no eventfd can be made
  ~OutboundQueue();
  OutboundQueue(const OutboundQueue&) = delete;
  OutboundQueue& operator=(const OutboundQueue&) = delete;

  // Any thread. False (message not taken) once close() has run.
  bool push(OutboundMessage message);
  // Any thread: makes the eventfd readable without a message (used to ask the pump to stop).
  void wake();

  // Pump thread: the fd to poll for readability.
  int fd() const { return fd_; }
  // Pump thread: clears the eventfd, then takes every queued message. Clearing first means a push
  // racing with this call is either taken now or leaves the fd readable: no lost wake-up.
  std::vector<OutboundMessage> take_all();
  // Pump thread, on exit: refuses further pushes and returns what was left.
  std::vector<OutboundMessage> close();

 private:
  void signal();
  void clear_signal();

  int fd_ = -1;
  std::mutex mutex_;
  std::vector<OutboundMessage> messages_;
  bool closed_ = false;
};

}  // namespace pice::brokers
