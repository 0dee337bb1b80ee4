#pragma once
// What `pice top` shows: the latest heartbeat and telemetry of every node heard on a monitor socket.
#include <cstdint>
#include <map>
#include <string>

#include "messages/envelope.hpp"

namespace pice::actors {

struct NodeView {
  std::string role;
  messages::Heartbeat heartbeat;   // edges only
  messages::Telemetry telemetry;
  int64_t last_heard_us = 0;
};

class FleetView {
 public:
  // Takes one message from the monitor socket; other message types are ignored.
  void observe(const messages::Envelope& envelope, int64_t now_us);
  // Drops nodes not heard from for longer than silence_us.
  void expire(int64_t now_us, int64_t silence_us);
  // A fixed-width table: one row per node (cloud first, then edges by id), then fleet totals.
  std::string render(int64_t now_us) const;
  const std::map<std::string, NodeView>& nodes() const { return nodes_; }

 private:
  std::map<std::string, NodeView> nodes_;
};

}  // namespace pice::actors
