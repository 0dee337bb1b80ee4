#include "actors/security.hpp"

#include <set>

#include "brokers/zap_handler.hpp"

namespace pice::actors {

brokers::CurveSecurity client_security(const config::SecurityConfig& security) {
  brokers::CurveSecurity curve;
  curve.own = {security.public_key, security.secret_key};
  curve.server_key = security.server_key.empty() ? security.public_key : security.server_key;
  return curve;
}

std::optional<brokers::CurveSecurity> node_security(const config::NodeConfig& config) {
  if (!config.security) return std::nullopt;
  brokers::CurveSecurity curve = client_security(*config.security);
  std::set<std::string> allowed(config.security->allowed_keys.begin(), config.security->allowed_keys.end());
  allowed.insert(config.security->public_key);
  curve.access = std::make_shared<brokers::AccessList>(config.node_id, std::move(allowed));
  return curve;
}

}  // namespace pice::actors
