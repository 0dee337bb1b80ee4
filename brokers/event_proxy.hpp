#pragma once
// The events proxy: an XSUB/XPUB pair on a thread of its own. Every node publishes heartbeats and
// telemetry into the XSUB side; anyone (the scheduler, `pice top`, a dashboard) subscribes at the
// XPUB side, so monitors need one address and publishers need not know who listens.
#include <memory>
#include <string>
#include <vector>

#include "brokers/curve.hpp"

namespace pice::brokers {

class EventProxy {
 public:
  // publishers_bind: endpoints the XSUB side binds (PUB sockets connect there);
  // subscribers_bind: endpoints the XPUB side binds (SUB sockets connect there).
  EventProxy(std::string name, std::vector<std::string> publishers_bind, std::vector<std::string> subscribers_bind);
  ~EventProxy();  // stop()
  EventProxy(const EventProxy&) = delete;
  EventProxy& operator=(const EventProxy&) = delete;

  // Before start(): its tcp endpoints then speak CURVE as servers checked against security.access.
  void set_security(CurveSecurity security);
  // Binds every endpoint; throws EndpointError naming the endpoint that failed.
  void start();
  // Idempotent; returns once the proxy thread has ended and its endpoints are unbound.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pice::brokers
