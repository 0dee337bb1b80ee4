#pragma once
// A running PICE node built from its config: the actor system, the pumps that own its sockets, and
// its actors. Roles: cloud (gateway, scheduler, sketch, ensemble, assembly), edge (expander,
// heartbeat), all-in-one (a cloud and `local_edges` edges in one process on inproc:// endpoints,
// wired exactly as the distributed case).
#include <memory>
#include <string>

#include "config/node_config.hpp"

namespace pice::actors {

class Node {
 public:
  // Loads the models and binds or connects every socket; throws with a clear message on failure
  // (a model that cannot be loaded, an address in use).
  static std::unique_ptr<Node> start(const config::NodeConfig& config);
  virtual ~Node() = default;

  // The address clients use (the gateway endpoint); empty for an edge node.
  virtual std::string gateway_endpoint() const = 0;
  // The HTTP API's port, 0 when the node serves none ([http] absent, or an edge).
  virtual int http_port() const = 0;
  // How many boards the scheduler currently knows (0 for an edge node).
  virtual int known_boards() = 0;
  // Drain (edge): heartbeats announce it at once, schedulers stop placing tasks here, the tasks already
  // queued or on their way are finished. drained() says when that is done: the queue is empty and the
  // announcement has had time to reach every scheduler. An edge also drains on a Control "drain"
  // message (`pice drain`). Other roles have nothing to drain: drained() is always false.
  virtual void begin_drain() = 0;
  virtual bool drained() = 0;
  // Stops sockets and actors; idempotent. The destructor calls it.
  virtual void stop() = 0;
};

}  // namespace pice::actors
