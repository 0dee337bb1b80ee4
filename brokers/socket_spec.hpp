#pragma once
// What a Pump is told about each socket it owns, and what it hands to a socket's handler.

#include <string>
#include <vector>

#include <zmq.hpp>

#include "messages/envelope.hpp"

namespace pice::brokers {

enum class Direction { bind, connect };

struct SocketSpec {
  std::string name;                         // unique within the pump; send() and Inbound use it
  zmq::socket_type type;                    // ROUTER, DEALER, PUSH, PULL, PUB or SUB
  std::string endpoint;                     // tcp://HOST:PORT, ipc://PATH or inproc://NAME
  Direction direction;
  std::string routing_id = {};              // identity shown to a ROUTER peer (DEALER); empty: random
  std::vector<std::string> subscriptions = {};  // SUB only: prefixes to receive; empty: everything
};

struct Inbound {
  std::string socket;            // SocketSpec::name of the receiving socket
  std::string peer;              // ROUTER: the sender's routing id (address replies with it); else ""
  messages::Envelope envelope;
};

struct PumpStats {
  uint64_t received = 0;       // decoded and handed to a handler (or dropped: socket without handler)
  uint64_t rejected = 0;       // inbound bytes that did not decode
  uint64_t sent = 0;           // accepted by ZeroMQ
  uint64_t send_failures = 0;  // reported to the failure handler (no such peer, stopped, queue full...)
  uint64_t waiting = 0;        // addition: held now for a socket/peer that cannot take them yet (a gauge)
  uint64_t auth_rejected = 0;  // CURVE handshakes refused by the node's access list (bound sockets; see set_security)
};

// "ROUTER", "PUSH", ... for log lines and error messages.
const char* socket_type_name(zmq::socket_type type);

}  // namespace pice::brokers
