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

// The sockets every cloud (or all-in-one) node serves, all derived from one base address.
struct ServiceEndpoints {
  std::string gateway;   // ROUTER: clients' requests and streamed answers
  std::string tasks;     // ROUTER: expansion tasks to edges (addressed by routing id)
  std::string results;   // PULL: expansion results from edges
  std::string events;    // PUB/SUB: heartbeats and telemetry
};

// tcp://HOST:P -> gateway P, tasks P+1, results P+2, events P+3 (P in 1..65532; no '*' or 0: the
// ports are derived, so the base port must be a real one);
// ipc://PATH -> PATH-gateway, PATH-tasks, PATH-results, PATH-events;
// inproc://NAME -> inproc://NAME-gateway, ... Throws EndpointError naming the base and the bad part.
ServiceEndpoints derive_endpoints(std::string_view base);

// Checks one endpoint as given to a socket: tcp://HOST:PORT (PORT 1..65535 or '*' for an ephemeral
// port when binding), ipc://PATH, inproc://NAME. Throws EndpointError naming it and the problem.
void validate_endpoint(std::string_view endpoint);

}  // namespace pice::brokers
