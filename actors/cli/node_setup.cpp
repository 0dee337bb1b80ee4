#include "actors/cli/node_setup.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "actors/http/http_gateway.hpp"
#include "actors/security.hpp"
#include "config/key_files.hpp"
#include "brokers/endpoints.hpp"

namespace pice::cli {
namespace {

// The embedded default: what `pice ask` runs when no config is named. Same schema as any file.
constexpr const char* kBuiltInAllInOne = R"(
[node]
role = "all-in-one"
listen = "inproc://pice"
local_edges = 2

[llm]
model = "synth:demo"

[slm]
model = "synth:demo"
)";

}  // namespace

std::optional<config::NodeConfig> load_node_config(const std::string& path, const ServeOptions& overrides) {
  try {
    config::NodeConfig cfg = path.empty() ? config::parse(kBuiltInAllInOne, "<built-in all-in-one config>")
                                          : config::load_file(path);
    if (overrides.node_id) cfg.node_id = *overrides.node_id;
    if (overrides.listen) {
      brokers::derive_endpoints(*overrides.listen);
      cfg.listen = *overrides.listen;
    }
    if (overrides.connect) {
      brokers::derive_endpoints(*overrides.connect);
      cfg.connect = *overrides.connect;
    }
    if (overrides.http) {
      actors::http::parse_http_address(*overrides.http);
      if (!cfg.http) cfg.http.emplace();
      cfg.http->listen = *overrides.http;
    }
    // The key may come from the environment so it need not sit in a file; it is never logged.
    if (const char* key = std::getenv("PICE_API_KEY"); key && *key && cfg.http) cfg.http->api_key = key;
    if (cfg.http) actors::http::parse_http_address(cfg.http->listen);
    // Endpoints from the file are checked here too, so a bad one is a config error (exit 2).
    if (!cfg.listen.empty()) brokers::derive_endpoints(cfg.listen);
    if (!cfg.connect.empty()) brokers::derive_endpoints(cfg.connect);
    return cfg;
  } catch (const config::ConfigError& e) {
    std::cerr << "pice: config error: " << e.what() << "\n";
  } catch (const std::invalid_argument& e) {  // an HTTP address
    std::cerr << "pice: config error: " << (path.empty() ? std::string("command line") : path) << ": " << e.what()
              << "\n";
  } catch (const brokers::EndpointError& e) {
    std::cerr << "pice: config error: " << (path.empty() ? std::string("command line") : path) << ": " << e.what()
              << "\n";
  }
  return std::nullopt;
}

std::optional<brokers::CurveSecurity> load_client_security(const std::string& config_path, const std::string& key_file,
                                                           const std::string& server_key_file) {
  config::SecurityConfig security;
  if (!config_path.empty()) {
    config::NodeConfig cfg = config::load_file(config_path);
    if (cfg.security) {
      security = *cfg.security;
      if (security.server_key.empty()) security.server_key = security.public_key;   // a cloud's own config
    }
  }
  if (!key_file.empty()) {
    config::KeyPair pair = config::read_key_pair(key_file);
    security.public_key = pair.public_key;
    security.secret_key = pair.secret_key;
  }
  if (!server_key_file.empty()) security.server_key = config::read_public_key(server_key_file);
  if (security.public_key.empty()) {
    if (!security.server_key.empty())
      throw std::invalid_argument("--server-key needs --key (a key pair the cloud's security.allowed_keys lists)");
    return std::nullopt;
  }
  if (security.server_key.empty())
    throw std::invalid_argument("--key needs --server-key (the cloud's .pub file)");
  return actors::client_security(security);
}

void configure_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("pice");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace pice::cli
