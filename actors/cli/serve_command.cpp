// `pice serve --config FILE`: runs one node until SIGINT or SIGTERM. An edge drains first: its heartbeats
// announce it, schedulers stop placing tasks there, it finishes what it has (at most
// [fleet] drain_timeout_ms), then exits; a second signal stops it at once.
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>

#include "actors/cli/commands.hpp"
#include "actors/cli/node_setup.hpp"
#include "actors/node.hpp"

namespace pice::cli {
namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(50);

void drain(actors::Node& node, const config::NodeConfig& config, const sigset_t& stop_signals) {
  spdlog::info("node '{}' draining: finishing its tasks, taking no more (a second signal stops it now)",
               config.node_id);
  node.begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.fleet.drain_timeout_ms);
  while (!node.drained()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("node '{}': drain timeout ({} ms) passed with tasks unfinished; their schedulers send them again",
                   config.node_id, config.fleet.drain_timeout_ms);
      return;
    }
    const timespec poll{0, std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainPoll).count()};
    if (sigtimedwait(&stop_signals, nullptr, &poll) > 0) {
      spdlog::warn("node '{}': second stop signal; stopping without finishing the drain", config.node_id);
      return;
    }
  }
  spdlog::info("node '{}' drained", config.node_id);
}

}  // namespace

int run_serve(const ServeOptions& options) {
  std::optional<config::NodeConfig> config = load_node_config(options.config_path, options);
  if (!config) return kExitConfigError;
  configure_logging(config->log_level);

  // Block the stop signals before any thread exists, so that every thread inherits the mask and
  // only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<actors::Node> node;
  try {
    node = actors::Node::start(*config);
  } catch (const std::exception& e) {
    spdlog::error("node '{}' failed to start: {}", config->node_id, e.what());
    return kExitFailure;
  }
  if (config->role == config::Role::edge || !config->connect.empty())
    spdlog::info("node '{}' ({}) serving; attached to {}", config->node_id, config::role_name(config->role),
                 config->connect);
  else
    spdlog::info("node '{}' ({}) serving; clients connect to {}", config->node_id, config::role_name(config->role),
                 config->listen);

  // Wait for a stop signal, or for the end of a drain an operator asked for remotely (`pice drain`).
  int signal = 0;
  while (signal <= 0) {
    const timespec poll{0, std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainPoll).count()};
    signal = sigtimedwait(&stop_signals, nullptr, &poll);
    if (signal <= 0 && node->drained()) {
      spdlog::info("node '{}' drained on request; stopping", config->node_id);
      node->stop();
      return kExitOk;
    }
  }
  if (config->role == config::Role::edge) drain(*node, *config, stop_signals);
  spdlog::info("node '{}' stopping on signal {}", config->node_id, signal);
  node->stop();
  return kExitOk;
}

}  // namespace pice::cli
