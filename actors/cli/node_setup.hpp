#pragma once
// Start-up steps shared by the commands that run a node (serve, ask).
#include <optional>
#include <string>

#include "actors/cli/commands.hpp"
#include "config/node_config.hpp"

namespace pice::cli {

// Loads the config (or the built-in all-in-one default when path is empty) and applies the command
// line's overrides. On a bad file or override, prints the error to stderr and returns nullopt.
std::optional<config::NodeConfig> load_node_config(const std::string& path, const ServeOptions& overrides);

// Log lines go to stderr, so stdout carries only a command's answer.
void configure_logging(const std::string& level);

}  // namespace pice::cli
