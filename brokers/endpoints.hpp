#pragma once
// Endpoint names for ZeroMQ sockets: checking them, and deriving a node's four service endpoints
// from the one base address a user configures (so an edge needs only the cloud's address).

#include <stdexcept>
#include <string>
#include <string_view>

namespace pice::brokers {

// Thrown for an endpoint that is malformed or cannot be bound/connected; what() names the endpoint.
class EndpointError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// How many service endpoints (and so tcp ports, from the base port up) one node address stands for.
inline constexpr int kServiceEndpointCount = 5;

// The sockets every cloud (or all-in-one) node serves, all derived from one base address.
struct ServiceEndpoints {
  std::string gateway;   // ROUTER: clients' requests and streamed answers
  std::string tasks;     // ROUTER: expansion tasks to edges (addressed by routing id)
  std::string results;   // PULL: expansion results from edges
  std::string events;    // XSUB: heartbeats and telemetry published by every node (PUB connects here)
  std::string monitor;   // XPUB: the same stream for any subscriber (the scheduler, `pice top`)
};

// tcp://HOST:P -> gateway P, tasks P+1, results P+2, events P+3, monitor P+4 (P in 1..65531; no '*' or 0: the
// ports are derived, so the base port must be a real one);
// ipc://PATH -> PATH-gateway, PATH-tasks, PATH-results, PATH-events, PATH-monitor;
// inproc://NAME -> inproc://NAME-gateway, ... Throws EndpointError naming the base and the bad part.
ServiceEndpoints derive_endpoints(std::string_view base);

// An address this process can connect to for an endpoint it binds: a tcp wildcard host (* or
// 0.0.0.0) becomes 127.0.0.1; anything else is returned as is.
std::string local_connect_endpoint(std::string_view bound);

// Checks one endpoint as given to a socket: tcp://HOST:PORT (PORT 1..65535 or '*' for an ephemeral
// port when binding), ipc://PATH, inproc://NAME. Throws EndpointError naming it and the problem.
void validate_endpoint(std::string_view endpoint);

}  // namespace pice::brokers
