#pragma once
// Multi-process fleet tests: write node configs into a temp dir and start `pice serve` on them.
#include <fstream>
#include <memory>
#include <string>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {

inline std::string loopback_address() {
  return "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
}

// Starts `pice serve` on `toml` (written to DIR/NAME.toml) with the node id `name`.
inline std::unique_ptr<ChildProcess> start_node(const TempDir& dir, const std::string& name, const std::string& toml) {
  auto path = dir.path() / (name + ".toml");
  std::ofstream(path) << toml;
  return std::make_unique<ChildProcess>(
      name, std::vector<std::string>{pice_binary(), "serve", "--config", path.string(), "--node-id", name}, dir.path());
}

// Fast failure detection keeps the tests short; the edges' model is small.
inline const std::string kFastFleet = "[fleet]\nheartbeat_ms = 100\nboard_timeout_ms = 800\n";

inline std::string edge_toml(const std::string& connect, const std::string& extra_fleet = "") {
  return "[node]\nrole = \"edge\"\nconnect = \"" + connect + "\"\n[slm]\nmodel = \"synth:demo\"\n" + kFastFleet +
         extra_fleet;
}

// A cloud on its own (`listen`) or behind a broker (`connect`, with `listen` for its gateway only).
inline std::string cloud_toml(const std::string& node_keys, int max_tokens = 48, const std::string& model = "synth:tiny") {
  return "[node]\nrole = \"cloud\"\n" + node_keys + "[llm]\nmodel = \"" + model + "\"\n[expand]\nmax_tokens = " +
         std::to_string(max_tokens) + "\n" + kFastFleet;
}

inline bool log_has(const ChildProcess& process, const std::string& text) {
  return process.stderr_text().find(text) != std::string::npos;
}

inline actors::Answer ask(const std::string& address, const std::string& question, int timeout_ms = 240000) {
  actors::GatewayClient client(brokers::derive_endpoints(address).gateway);
  messages::Request request;
  request.question = question;
  return client.ask(request, timeout_ms);
}

}  // namespace pice::testing
