#pragma once
// A background subscriber to a node's events (the XPUB side of its proxy, or a broker's): keeps the
// latest heartbeat and telemetry of every live node for whoever asks, e.g. the gateway's /metrics.
#include <memory>
#include <string>

#include "actors/fleet_view.hpp"

namespace pice::actors {

class FleetMonitor {
 public:
  // monitor_endpoint: where to subscribe (tcp://, ipc:// or inproc:// in the same process).
  // forget_after_ms: a node silent this long is dropped from the view.
  explicit FleetMonitor(std::string monitor_endpoint, int forget_after_ms = 5000);
  ~FleetMonitor();  // stop()
  FleetMonitor(const FleetMonitor&) = delete;
  FleetMonitor& operator=(const FleetMonitor&) = delete;

  void start();  // connects on its own thread; throws zmq errors for a malformed endpoint
  void stop();   // idempotent
  FleetView snapshot() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pice::actors
