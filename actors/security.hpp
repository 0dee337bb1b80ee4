#pragma once
// A node's or client's CURVE settings for its sockets, from [security] (config/node_config.hpp).
#include <optional>
#include <string>

#include "brokers/curve.hpp"
#include "config/node_config.hpp"

namespace pice::actors {

// Null when the config has no [security]. Otherwise: the node's key pair; the server key its
// connecting sockets trust (security.server_key, else the node's own public key: a cloud's HTTP
// gateway and the clients run with a cloud's own config connect to that cloud); and the access list
// its bound sockets enforce: every key of security.allowed_keys, and the node's own.
std::optional<brokers::CurveSecurity> node_security(const config::NodeConfig& config);

// The same for a client from key files (`pice ask --key K --server-key S`): no access list.
brokers::CurveSecurity client_security(const config::SecurityConfig& security);

}  // namespace pice::actors
