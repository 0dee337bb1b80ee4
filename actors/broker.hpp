#pragma once
// The broker role: one process that cloud and edge nodes all connect to, so several clouds share one
// fleet. It binds a node address's service endpoints (tasks P+1, results P+2, events P+3, monitor
// P+4), so an edge attaches to a broker exactly as to a cloud, and a cloud with `connect` attaches to
// it too. It holds no policy: every message that names its addressee (Envelope::to) is forwarded to
// the peer of that id on the tasks ROUTER: tasks from a cloud to their board, results from a board
// back to the cloud that sent the task. Heartbeats and telemetry pass through its events proxy, so
// every cloud's scheduler learns of every board, and `pice top --connect BROKER` sees the whole fleet.
#include <caf/all.hpp>

#include <memory>
#include <string>

#include "brokers/endpoints.hpp"
#include "brokers/event_proxy.hpp"
#include "brokers/pump.hpp"
#include "config/node_config.hpp"

namespace pice::actors {

// Forwards by Envelope::to; a task that cannot reach its board goes back to its cloud as a failed
// ExpansionResult, so that cloud sends the point elsewhere at once instead of waiting for a deadline.
caf::behavior broker(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id);

// The sockets, the proxy and the forwarding actor of a broker node.
class BrokerPart {
 public:
  BrokerPart(caf::actor_system& system, const config::NodeConfig& config);
  ~BrokerPart();
  void stop();
  const brokers::ServiceEndpoints& endpoints() const { return endpoints_; }

 private:
  std::shared_ptr<brokers::Pump> pump_;
  brokers::ServiceEndpoints endpoints_;
  std::string events_in_;
  brokers::EventProxy proxy_;
  caf::actor forwarder_;
};

}  // namespace pice::actors
