// `pice serve --config FILE`: runs one node until SIGINT or SIGTERM.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "actors/cli/commands.hpp"
#include "actors/cli/node_setup.hpp"
#include "actors/node.hpp"

namespace pice::cli {

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
  if (config->role == config::Role::edge)
    spdlog::info("node '{}' ({}) serving; attached to {}", config->node_id, config::role_name(config->role),
                 config->connect);
  else
    spdlog::info("node '{}' ({}) serving; clients connect to {}", config->node_id, config::role_name(config->role),
                 config->listen);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("node '{}' stopping on signal {}", config->node_id, signal);
  node->stop();
  return kExitOk;
}

}  // namespace pice::cli
