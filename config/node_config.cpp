// NodeConfig from TOML: the schema of the file, then the rules that span keys (what each role
// needs, min <= max), then defaults that depend on other values (node id, all-in-one endpoint).
#include "config/node_config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "config/toml_schema.hpp"
#include "config/toml_text_check.hpp"

namespace pice::config {
namespace {

constexpr std::string_view kAllInOneListen = "inproc://pice";   // all actors in one process
const std::vector<std::string> kRoleNames = {"all-in-one", "cloud", "edge"};
// Only the scheme is checked here; brokers::derive_endpoints validates the rest when binding.
const std::vector<std::string> kEndpointSchemes = {"tcp://", "ipc://", "inproc://"};
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
};

std::vector<KeyRule> model_keys(ModelConfig& model) {
  return {
      KeyRule::text("model", &model.path).required(),
      KeyRule::integer("threads", &model.threads, 1, 256),
      KeyRule::integer("context", &model.context, 16, 1 << 20),
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
  };
}

Role role_from_name(const std::string& name) {
  if (name == "cloud") return Role::cloud;
  if (name == "edge") return Role::edge;
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
  const bool needs_llm = role != Role::edge;
  const bool needs_slm = role != Role::cloud;
  if (needs_llm && !raw.has_llm) checks.fail("node.role", "llm", quoted + " needs an [llm] table (the cloud model)");
  if (needs_slm && !raw.has_slm) checks.fail("node.role", "slm", quoted + " needs an [slm] table (the edge model)");
  if (!needs_llm && raw.has_llm) checks.fail("llm", "llm", "not used by " + quoted + " (an edge runs only its [slm])");
  if (!needs_slm && raw.has_slm) checks.fail("slm", "slm", "not used by " + quoted + " (the cloud runs only its [llm])");

  if (role == Role::cloud && !checks.has("node.listen")) {
    checks.fail("node", "node.listen", quoted + " needs node.listen (the endpoint edges connect to)");
  }
  if (role == Role::edge && !checks.has("node.connect")) {
    checks.fail("node", "node.connect", quoted + " needs node.connect (the cloud's endpoint)");
  }
  if (role == Role::edge && checks.has("node.listen")) {
    checks.fail("node.listen", "node.listen", "not used by " + quoted + " (an edge connects, with node.connect)");
  }
  if (role != Role::edge && checks.has("node.connect")) {
    checks.fail("node.connect", "node.connect", "not used by " + quoted + " (only edges connect)");
  }
  if (role == Role::edge && raw.has_http) {
    checks.fail("http", "http", "not used by " + quoted + " (the HTTP API is served by the cloud)");
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

  NodeConfig config = std::move(raw.config);
  config.source = source;

  if (raw.has_llm) config.llm = raw.llm;
  if (raw.has_slm) config.slm = raw.slm;
  if (raw.has_http) config.http = raw.http;
  for (auto* model : {&config.llm, &config.slm}) {
    if (*model) (*model)->path = resolve_model_path((*model)->path, model_base);
  }
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
  }
  return "unknown";
}

NodeConfig load_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(name, 0, 0, "", "cannot open: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(name, 0, 0, "", "cannot open: " + std::string(std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(name, 0, 0, "", "cannot read: " + std::string(std::strerror(errno)));
  return build(text.str(), name, std::filesystem::absolute(path, ec).parent_path());
}

NodeConfig parse(std::string_view text, const std::string& source_name) {
  return build(text, source_name, std::filesystem::path(source_name).parent_path());
}

}  // namespace pice::config
