// NodeConfig from TOML: the schema of the file, then the rules that span keys (what each role
// needs, min <= max), then defaults that depend on other values (node id, all-in-one endpoint).
#include "config/node_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "config/key_files.hpp"
#include "config/toml_schema.hpp"
#include "config/toml_text_check.hpp"

namespace pice::config {
namespace {

constexpr std::string_view kAllInOneListen = "inproc://pice";   // all actors in one process
const std::vector<std::string> kRoleNames = {"all-in-one", "cloud", "edge", "broker"};
// Only the scheme is checked here; brokers::derive_endpoints validates the rest when binding.
const std::vector<std::string> kEndpointSchemes = {"tcp://", "ipc://", "inproc://"};
const std::vector<std::string> kModes = {"pice", "sot", "route", "cloud-only"};
const std::vector<std::string> kNoEdgeFallbacks = {"direct", "sot"};
const std::vector<std::string> kRouters = {"rules", "llm"};
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};

// The file's values before the cross-key rules: the role as written, and both model tables
// whether or not the role uses them.
struct RawConfig {
  NodeConfig config;
  std::string role;
  ModelConfig llm;
  ModelConfig slm;
  bool has_llm = false;
  bool has_slm = false;
  HttpConfig http;
  bool has_http = false;
  SecurityConfig security;
  bool has_security = false;
};

std::vector<KeyRule> model_keys(ModelConfig& model) {
  return {
      KeyRule::text("model", &model.path).required(),
      KeyRule::integer("threads", &model.threads, 1, 256),
      KeyRule::integer("context", &model.context, 16, 1 << 20),
      KeyRule::text("load", &model.load).one_of({"read", "mmap", "mmap-lock-required"}),
      KeyRule::integer("kv_window", &model.kv_window, 0, 1 << 20),
      KeyRule::integer("kv_keep", &model.kv_keep, 0, 1 << 20),
      KeyRule::text("url", &model.url).starts_with({"http://"}, "URL"),
      KeyRule::text("api_key_env", &model.api_key_env),
  };
}

std::vector<TableRule> schema(RawConfig& raw) {
  NodeConfig& c = raw.config;
  constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();   // TOML integers are signed 64-bit
  return {
      {"node",
       {
           KeyRule::text("id", &c.node_id),
           KeyRule::text("role", &raw.role).one_of(kRoleNames).required(),
           KeyRule::text("listen", &c.listen).starts_with(kEndpointSchemes, "endpoint"),
           KeyRule::text("connect", &c.connect).starts_with(kEndpointSchemes, "endpoint"),
           KeyRule::integer("local_edges", &c.local_edges, 0, 64),
       },
       true},
      {"llm", model_keys(raw.llm), false, &raw.has_llm},
      {"slm", model_keys(raw.slm), false, &raw.has_slm},
      {"sketch",
       {
           KeyRule::integer("min_points", &c.sketch.min_points, 1, 64),
           KeyRule::integer("max_points", &c.sketch.max_points, 1, 64),
           KeyRule::integer("max_words_per_point", &c.sketch.max_words_per_point, 1, 64),
       }},
      {"expand", {KeyRule::integer("max_tokens", &c.expand.max_tokens, 1, 8192)}},
      {"sampling",
       {
           KeyRule::number("temperature", &c.sampling.temperature, 0, 2),
           KeyRule::number("top_p", &c.sampling.top_p, 0, 1),
           KeyRule::integer("seed", &c.sampling.seed, 0, kMaxSeed),
       }},
      {"fleet",
       {
           KeyRule::integer("heartbeat_ms", &c.fleet.heartbeat_ms, 10, 60'000),
           KeyRule::integer("board_timeout_ms", &c.fleet.board_timeout_ms, 50, 600'000),
           KeyRule::integer("task_deadline_ms", &c.fleet.task_deadline_ms, 100, 3'600'000),
           KeyRule::integer("drain_timeout_ms", &c.fleet.drain_timeout_ms, 0, 3'600'000),
       }},
      {"ensemble",
       {
           KeyRule::integer("k", &c.ensemble.k, 1, 16),
           KeyRule::integer("wait_ms", &c.ensemble.wait_ms, 0, 600'000),
           KeyRule::number("fluency_weight", &c.ensemble.fluency_weight, 0, 1000),
           KeyRule::number("relevance_weight", &c.ensemble.relevance_weight, 0, 1000),
           KeyRule::number("agreement_weight", &c.ensemble.agreement_weight, 0, 1000),
       }},
      {"log", {KeyRule::text("level", &c.log_level).one_of(kLogLevels)}},
      {"http",
       {
           KeyRule::text("listen", &raw.http.listen),
           KeyRule::integer("threads", &raw.http.threads, 1, 64),
           KeyRule::integer("max_inflight", &raw.http.max_inflight, 1, 100'000),
           KeyRule::text("api_key", &raw.http.api_key),
       },
       false, &raw.has_http},
      {"security",
       {
           KeyRule::text("key", &raw.security.key_file).required(),
           KeyRule::text("server_key", &raw.security.server_key_file),
           KeyRule::text("allowed_keys", &raw.security.allowed_keys_path),
       },
       false, &raw.has_security},
      {"scheduler",
       {
           KeyRule::text("mode", &c.scheduler.mode).one_of(kModes),
           KeyRule::text("no_edges", &c.scheduler.no_edges).one_of(kNoEdgeFallbacks),
           KeyRule::text("router", &c.scheduler.router).one_of(kRouters),
           KeyRule::integer("direct_max_tokens", &c.scheduler.direct_max_tokens, 1, 8192),
           KeyRule::boolean("adaptive_budget", &c.scheduler.adaptive_budget),
           KeyRule::integer("min_words_per_point", &c.scheduler.min_words_per_point, 1, 64),
           KeyRule::integer("cloud_queue_high", &c.scheduler.cloud_queue_high, 1, 100'000),
           KeyRule::integer("cloud_latency_high_ms", &c.scheduler.cloud_latency_high_ms, 1, 3'600'000),
           KeyRule::integer("edge_queue_limit", &c.scheduler.edge_queue_limit, 1, 100'000),
           KeyRule::number("prefix_affinity", &c.scheduler.prefix_affinity, 0, 1),
       }},
  };
}

Role role_from_name(const std::string& name) {
  if (name == "cloud") return Role::cloud;
  if (name == "edge") return Role::edge;
  if (name == "broker") return Role::broker;
  return Role::all_in_one;   // the schema admits only the three names
}

// Rules between keys. Each failure points at the most useful place: the key at fault if the file
// has it, else its table, else 1:1.
class CrossChecks {
 public:
  CrossChecks(const toml::table& root, const std::string& source) : root_(root), source_(source) {}

  bool has(std::string_view dotted) const { return static_cast<bool>(root_.at_path(dotted)); }

  [[noreturn]] void fail(std::string_view at, const std::string& key, const std::string& problem) const {
    const Position where = locate(at);
    throw ConfigError(source_, where.line, where.column, key, key + ": " + problem);
  }

 private:
  Position locate(std::string_view dotted) const {
    if (const toml::node* node = root_.at_path(dotted).node()) return position_of(node->source());
    const auto dot = dotted.rfind('.');
    if (dot != std::string_view::npos) return locate(dotted.substr(0, dot));
    return {};
  }

  const toml::table& root_;
  const std::string& source_;
};

void check_role(const RawConfig& raw, const CrossChecks& checks) {
  const Role role = raw.config.role;
  const std::string quoted = "role \"" + std::string(role_name(role)) + "\"";
  const bool broker = role == Role::broker;
  const bool needs_llm = role != Role::edge && !broker;
  const bool needs_slm = role != Role::cloud && !broker;
  if (needs_llm && !raw.has_llm) checks.fail("node.role", "llm", quoted + " needs an [llm] table (the cloud model)");
  if (needs_slm && !raw.has_slm) checks.fail("node.role", "slm", quoted + " needs an [slm] table (the edge model)");
  if (!needs_llm && raw.has_llm)
    checks.fail("llm", "llm", "not used by " + quoted + (broker ? " (a broker runs no model)" : " (an edge runs only its [slm])"));
  if (!needs_slm && raw.has_slm)
    checks.fail("slm", "slm", "not used by " + quoted + (broker ? " (a broker runs no model)" : " (the cloud runs only its [llm])"));

  if (role == Role::cloud && !checks.has("node.listen") && !checks.has("node.connect")) {
    checks.fail("node", "node.listen",
                quoted + " needs node.listen (the endpoint edges connect to) or node.connect (a broker's endpoint)");
  }
  if (broker && !checks.has("node.listen")) {
    checks.fail("node", "node.listen", quoted + " needs node.listen (the endpoint clouds and edges connect to)");
  }
  if (broker && raw.has_http) {
    checks.fail("http", "http", "not used by " + quoted + " (the HTTP API is served by a cloud)");
  }
  if (role == Role::edge && !checks.has("node.connect")) {
    checks.fail("node", "node.connect", quoted + " needs node.connect (the cloud's endpoint)");
  }
  if (role == Role::edge && checks.has("node.listen")) {
    checks.fail("node.listen", "node.listen", "not used by " + quoted + " (an edge connects, with node.connect)");
  }
  if (role != Role::edge && role != Role::cloud && checks.has("node.connect")) {
    checks.fail("node.connect", "node.connect", "not used by " + quoted + " (only edges and clouds connect)");
  }
  if (role == Role::edge && raw.has_http) {
    checks.fail("http", "http", "not used by " + quoted + " (the HTTP API is served by the cloud)");
  }
  // Edges, and clouds behind a broker, connect to another node: they must know its public key.
  const bool connects_out = role == Role::edge || (role == Role::cloud && checks.has("node.connect"));
  if (connects_out && raw.has_security && !checks.has("security.server_key")) {
    checks.fail("security", "security.server_key",
                quoted + " with [security] needs security.server_key (the .pub file of the node it connects to)");
  }
  if (role == Role::edge && checks.has("security.allowed_keys")) {
    checks.fail("security.allowed_keys", "security.allowed_keys", "not used by " + quoted + " (an edge accepts no connections)");
  }
  if (!connects_out && checks.has("security.server_key")) {
    checks.fail("security.server_key", "security.server_key",
                "not used by " + quoted + " (it connects only to itself, with its own key)");
  }
  if (role == Role::edge && checks.has("ensemble")) {
    checks.fail("ensemble", "ensemble", "not used by " + quoted + " (the cloud's ensemble picks among candidates)");
  }
  if (role != Role::all_in_one && checks.has("node.local_edges")) {
    checks.fail("node.local_edges", "node.local_edges", "not used by " + quoted + " (only all-in-one runs local edges)");
  }
}

void check_ranges(const NodeConfig& c, const CrossChecks& checks) {
  if (c.sketch.min_points > c.sketch.max_points) {
    if (checks.has("sketch.min_points")) {
      checks.fail("sketch.min_points", "sketch.min_points",
                  "must not exceed sketch.max_points (" + std::to_string(c.sketch.max_points) + "), got " +
                      std::to_string(c.sketch.min_points));
    }
    checks.fail("sketch.max_points", "sketch.max_points",
                "must be at least sketch.min_points (" + std::to_string(c.sketch.min_points) + "), got " +
                    std::to_string(c.sketch.max_points));
  }
  if (c.scheduler.min_words_per_point > c.sketch.max_words_per_point && checks.has("scheduler.min_words_per_point")) {
    checks.fail("scheduler.min_words_per_point", "scheduler.min_words_per_point",
                "must not exceed sketch.max_words_per_point (" + std::to_string(c.sketch.max_words_per_point) +
                    "), got " + std::to_string(c.scheduler.min_words_per_point));
  }
  if (c.role == Role::edge && checks.has("scheduler")) {
    checks.fail("scheduler", "scheduler", "not used by role \"edge\" (the cloud's scheduler serves requests)");
  }
  const EnsembleConfig& e = c.ensemble;
  if (e.fluency_weight + e.relevance_weight + e.agreement_weight <= 0) {
    checks.fail("ensemble", "ensemble", "fluency_weight, relevance_weight and agreement_weight are all 0: "
                                        "at least one must be positive to rank candidates");
  }
  // A board is forgotten after board_timeout_ms without a heartbeat: it must span several heartbeats.
  if (c.fleet.board_timeout_ms <= c.fleet.heartbeat_ms) {
    const bool timeout_given = checks.has("fleet.board_timeout_ms");
    checks.fail(timeout_given ? "fleet.board_timeout_ms" : "fleet.heartbeat_ms",
                timeout_given ? "fleet.board_timeout_ms" : "fleet.heartbeat_ms",
                timeout_given ? "must be greater than fleet.heartbeat_ms (" + std::to_string(c.fleet.heartbeat_ms) +
                                    "), got " + std::to_string(c.fleet.board_timeout_ms)
                              : "must be less than fleet.board_timeout_ms (" +
                                    std::to_string(c.fleet.board_timeout_ms) + "), got " +
                                    std::to_string(c.fleet.heartbeat_ms));
  }
}

std::string default_node_id(Role role) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  return std::string(role_name(role)) + "-" + host + "-" + std::to_string(getpid());
}

// A model path written relative to the config file means relative to the file's folder, not to
// wherever the node happens to be started. Synthetic specs and URLs are not paths.
std::string resolve_model_path(const std::string& spec, const std::filesystem::path& base) {
  if (spec.starts_with("synth:") || spec.find("://") != std::string::npos) return spec;
  const std::filesystem::path path(spec);
  if (path.is_absolute() || base.empty()) return spec;
  return (base / path).lexically_normal().string();
}

// A key path written relative to the config file: relative to the file's folder, like model paths.
std::filesystem::path resolve_path(const std::string& spec, const std::filesystem::path& base) {
  const std::filesystem::path path(spec);
  if (path.is_absolute() || base.empty()) return path;
  return (base / path).lexically_normal();
}

// Reads the key files [security] names. A file that cannot be read or holds a bad key is reported at
// the key naming it, with the file's own error (its path, and line and column for a bad key) after it.
SecurityConfig load_security(SecurityConfig security, const std::filesystem::path& base, const CrossChecks& checks) {
  auto at_key = [&](const char* key, auto read) {
    try {
      read();
    } catch (const ConfigError& e) {
      checks.fail(std::string("security.") + key, std::string("security.") + key, e.what());
    }
  };
  at_key("key", [&] {
    security.key_file = resolve_path(security.key_file, base).string();
    KeyPair pair = read_key_pair(security.key_file);
    security.public_key = std::move(pair.public_key);
    security.secret_key = std::move(pair.secret_key);
  });
  if (!security.server_key_file.empty()) {
    at_key("server_key", [&] {
      security.server_key_file = resolve_path(security.server_key_file, base).string();
      security.server_key = read_public_key(security.server_key_file);
    });
  }
  if (!security.allowed_keys_path.empty()) {
    at_key("allowed_keys", [&] {
      security.allowed_keys_path = resolve_path(security.allowed_keys_path, base).string();
      security.allowed_keys = read_public_keys(security.allowed_keys_path);
    });
  }
  return security;
}

NodeConfig build(std::string_view text, const std::string& source, const std::filesystem::path& model_base) {
  check_toml_text(text, source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const Position where = position_of(error.source());
    throw ConfigError(source, where.line, where.column, "", std::string(error.description()));
  }

  RawConfig raw;
  apply_schema(root, schema(raw), source);
  raw.config.role = role_from_name(raw.role);
  const CrossChecks checks(root, source);
  check_role(raw, checks);
  check_ranges(raw.config, checks);
  for (const auto& [table, model] : {std::pair{"llm", &raw.llm}, std::pair{"slm", &raw.slm}})
    if (model->url.empty() && !model->api_key_env.empty())
      checks.fail(std::string(table) + ".api_key_env", std::string(table) + ".api_key_env",
                  "only used with " + std::string(table) + ".url (a remote engine's API key)");
  for (const auto& [table, model] : {std::pair{"llm", &raw.llm}, std::pair{"slm", &raw.slm}})
    if (model->kv_keep > 0 && model->kv_window == 0)
      checks.fail(std::string(table) + ".kv_keep", std::string(table) + ".kv_keep",
                  std::to_string(model->kv_keep) + " needs " + table + ".kv_window above 0 (the bounded cache's recent window)");

  NodeConfig config = std::move(raw.config);
  config.source = source;

  if (raw.has_llm) config.llm = raw.llm;
  if (raw.has_slm) config.slm = raw.slm;
  if (raw.has_http) config.http = raw.http;
  if (raw.has_security) config.security = load_security(std::move(raw.security), model_base, checks);
  for (auto* model : {&config.llm, &config.slm}) {
    if (*model && (*model)->url.empty()) (*model)->path = resolve_model_path((*model)->path, model_base);
  }
  // The default floor never exceeds a smaller configured maximum.
  config.scheduler.min_words_per_point = std::min(config.scheduler.min_words_per_point, config.sketch.max_words_per_point);
  if (config.node_id.empty()) config.node_id = default_node_id(config.role);
  if (config.role == Role::all_in_one && config.listen.empty()) config.listen = kAllInOneListen;
  return config;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::all_in_one: return "all-in-one";
    case Role::cloud: return "cloud";
    case Role::edge: return "edge";
    case Role::broker: return "broker";
  }
  return "unknown";
}

NodeConfig load_file(const std::filesystem::path& path) {
  std::error_code ec;
  return build(read_config_file(path), path.string(), std::filesystem::absolute(path, ec).parent_path());
}

NodeConfig parse(std::string_view text, const std::string& source_name) {
  return build(text, source_name, std::filesystem::path(source_name).parent_path());
}

}  // namespace pice::config
