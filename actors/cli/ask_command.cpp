// `pice ask "question"`: asks a running cloud node (--connect ADDR), or starts the all-in-one node
// in this process and asks it. Prints the answer progressively, then the assembled answer.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "actors/cli/commands.hpp"
#include "actors/cli/json_lines.hpp"
#include "actors/cli/node_setup.hpp"
#include "actors/client.hpp"
#include "actors/node.hpp"
#include "actors/security.hpp"
#include "brokers/endpoints.hpp"

namespace pice::cli {
namespace {

constexpr auto kAttachTimeout = std::chrono::seconds(30);

void print_chunk_text(const messages::AnswerChunk& c) {
  switch (c.kind) {
    case messages::ChunkKind::sketch_point:
      std::cout << "[sketch " << c.point_index << "] " << c.text << "\n";
      break;
    case messages::ChunkKind::expansion:
      std::cout << "[point " << c.point_index << " <- " << c.node << ", " << c.model << ", score " << c.score
                << "] " << c.text << "\n";
      break;
    default:
      break;
  }
  std::cout.flush();
}

int print_answer(const actors::Answer& answer, bool json) {
  if (!answer.error.empty()) {
    std::cerr << "pice: " << answer.error << "\n";
    return kExitFailure;
  }
  if (json) return kExitOk;
  std::cout << "\nAnswer (" << answer.mode << ", " << answer.sketch.size() << " points, "
            << static_cast<long>(answer.elapsed_ms) << " ms):\n";
  for (size_t i = 0; i < answer.points.size(); ++i)
    std::cout << (i + 1) << ". " << answer.sketch[i] << ": " << answer.points[i].text << "\n";
  return kExitOk;
}

actors::Answer ask_gateway(const std::string& gateway, const AskOptions& options,
                           const std::optional<brokers::CurveSecurity>& security) {
  messages::Request request;
  request.question = options.question;
  request.mode = options.mode;
  actors::GatewayClient client(gateway, security);
  return client.ask(request, options.timeout_ms, [&](const messages::AnswerChunk& chunk) {
    if (options.json) std::cout << chunk_json(chunk) << std::endl;
    else print_chunk_text(chunk);
  });
}

// Waits until the in-process edges have announced themselves, so the first question is expanded
// on them rather than on the cloud's fallback.
bool wait_for_boards(actors::Node& node, int boards) {
  const auto deadline = std::chrono::steady_clock::now() + kAttachTimeout;
  while (node.known_boards() < boards) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

int run_ask(const AskOptions& options) {
  if (options.connect) {
    configure_logging("warn");
    std::string gateway;
    try {
      gateway = brokers::derive_endpoints(*options.connect).gateway;
    } catch (const std::exception& e) {
      std::cerr << "pice: --connect " << *options.connect << ": " << e.what() << "\n";
      return kExitConfigError;
    }
    std::optional<brokers::CurveSecurity> security;
    try {
      security = load_client_security(options.config_path, options.key_file, options.server_key_file);
    } catch (const std::exception& e) {   // config::ConfigError, or a key without server key
      std::cerr << "pice: config error: " << e.what() << "\n";
      return kExitConfigError;
    }
    return print_answer(ask_gateway(gateway, options, security), options.json);
  }
  if (!options.key_file.empty() || !options.server_key_file.empty()) {
    std::cerr << "pice: --key and --server-key are for --connect (the in-process node takes its keys from --config)\n";
    return kExitConfigError;
  }

  std::optional<config::NodeConfig> config = load_node_config(options.config_path, ServeOptions{});
  if (!config) return kExitConfigError;
  if (config->role != config::Role::all_in_one) {
    std::cerr << "pice: ask without --connect runs an all-in-one node, but " << config->source << " has role "
              << config::role_name(config->role) << "\n";
    return kExitConfigError;
  }
  configure_logging(options.verbose ? config->log_level : "warn");
  std::unique_ptr<actors::Node> node;
  try {
    node = actors::Node::start(*config);
  } catch (const std::exception& e) {
    std::cerr << "pice: the all-in-one node failed to start: " << e.what() << "\n";
    return kExitFailure;
  }
  if (!wait_for_boards(*node, config->local_edges))
    std::cerr << "pice: warning: the in-process edges did not attach; the cloud expands every point\n";
  std::optional<brokers::CurveSecurity> security;
  if (config->security) security = actors::client_security(*config->security);
  int status = print_answer(ask_gateway(node->gateway_endpoint(), options, security), options.json);
  node->stop();
  return status;
}

}  // namespace pice::cli
