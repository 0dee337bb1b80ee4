#pragma once
// Start-up steps shared by the commands that run a node (serve, ask).
#include <optional>
#include <string>

#include "actors/cli/commands.hpp"
#include "brokers/curve.hpp"
#include "config/node_config.hpp"

namespace pice::cli {

// Loads the config (or the built-in all-in-one default when path is empty) and applies the command
// line's overrides. On a bad file or override, prints the error to stderr and returns nullopt.
std::optional<config::NodeConfig> load_node_config(const std::string& path, const ServeOptions& overrides);

// CURVE keys for a client (`pice ask --connect`, `pice top`): [security] of the config file, if one
// is named, with --key / --server-key (key_file / server_key_file) taking precedence; nullopt when
// none of them gives keys. The server key defaults to the config's own public key (a client run
// with a cloud's config talks to that cloud). Throws config::ConfigError for a bad file or key,
// std::invalid_argument for a key pair without server key or the reverse.
std::optional<brokers::CurveSecurity> load_client_security(const std::string& config_path, const std::string& key_file,
                                                           const std::string& server_key_file);

// Log lines go to stderr, so stdout carries only a command's answer.
void configure_logging(const std::string& level);

}  // namespace pice::cli
