#pragma once
// A node's configuration: read once from a TOML file at start-up, validated completely, then handed
// down as plain structs. Every mistake in the file is a ConfigError naming file, line, column and key.
//
// File layout (see config/all-in-one.toml, cloud.toml, edge.toml for commented examples):
//   [node] id, role, listen, connect, local_edges
//   [llm] / [slm] model, threads, context, load, kv_window, kv_keep, url, api_key_env
//   [sketch] min_points, max_points, max_words_per_point     [expand] max_tokens
//   [sampling] temperature, top_p, seed     [fleet] heartbeat_ms, board_timeout_ms, task_deadline_ms,
//   drain_timeout_ms
//   [scheduler] mode, no_edges, direct_max_tokens, adaptive_budget, min_words_per_point,
//               cloud_queue_high, cloud_latency_high_ms, edge_queue_limit
//   [ensemble] k, wait_ms, fluency_weight, relevance_weight, agreement_weight
//   [log] level     [http] listen, threads, max_inflight, api_key
//   [security] key, server_key, allowed_keys (CURVE on every tcp socket; config/key_files.hpp)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"

namespace pice::config {

enum class Role { all_in_one, cloud, edge, broker };
std::string_view role_name(Role role);   // "all-in-one", "cloud", "edge", "broker"

struct ModelConfig {
  // A GGUF file (relative paths in a file: relative to the file's folder) or "synth:<shape>"; with
  // `url`, the model's name on that server.
  std::string path;
  std::string url;           // a remote engine: an OpenAI-compatible server's base URL (http://HOST:PORT/v1)
  std::string api_key_env;   // with url: the environment variable holding the server's API key (never the key itself)
  int threads = 1;
  int context = 1024;
  // How the weights are held: "read" into memory (default), "mmap" (mapped and locked; a failed lock
  // is a warning), "mmap-lock-required" (a failed lock is an error).
  std::string load = "read";
  // The bounded KV cache (after A-VL), off by default: each sequence keeps its last kv_window positions
  // and the kv_keep earlier ones attention used most.
  int kv_window = 0;
  int kv_keep = 0;
};
struct SketchConfig {
  int min_points = 2;
  int max_points = 5;
  int max_words_per_point = 6;
};
struct ExpandConfig {
  int max_tokens = 48;
};
struct SamplingConfig {
  double temperature = 0.8;
  double top_p = 0.95;
  uint64_t seed = 0;
};
struct FleetConfig {
  int heartbeat_ms = 500;
  int board_timeout_ms = 3000;
  int task_deadline_ms = 60000;
  int drain_timeout_ms = 60000;   // edge: on SIGTERM/SIGINT, finish queued tasks for at most this long, then exit
};

// [scheduler]: how requests are served (cloud, all-in-one). Modes: "pice" (the router sends list-like
// questions to sketch-then-expand with edge expansions, the rest to a direct cloud answer), "sot"
// (sketch and expansions on the cloud), "route" (list-like questions answered wholly by an edge SLM,
// the rest by the cloud), "cloud-only" (the cloud answers every question directly).
struct SchedulerConfig {
  std::string mode = "pice";        // the default; a request may choose another
  std::string no_edges = "direct";  // pice with no edge capacity: "direct" (cloud answers) or "sot"
  // Who decides whether a question is list-like (modes pice and route): "rules" (actors/router.hpp) or
  // "llm" (the cloud model is asked first, one short greedy answer; the rules decide if it says
  // neither yes nor no).
  std::string router = "rules";
  int direct_max_tokens = 256;      // tokens of a direct answer when the request does not say
  // The sketch budget follows load: a busy cloud writes fewer, shorter points (down to half the
  // points and min_words_per_point words at full pressure), busy edges take fewer points.
  bool adaptive_budget = true;
  int min_words_per_point = 3;
  int cloud_queue_high = 4;          // cloud jobs queued at which pressure is full
  int cloud_latency_high_ms = 3000;  // recent time to a sketch's first point at which pressure is full
  int edge_queue_limit = 4;          // a board with this many tasks waiting per batch slot is full
  // Placement keeps a request's points together where that pays: a board already holding one of its
  // points has the shared prompt prefix (question and sketch) in its cache and can batch the points,
  // so it counts this fraction of a task less than its expected finish. 0: spread by finish time only.
  // 0.25: edge-135m Q8_0 prefills an 80-token shared prefix in ~0.47 s of a ~2 s point (BENCHMARKS).
  double prefix_affinity = 0.25;
};

struct EnsembleConfig {        // [ensemble]: expand each point on k boards and keep the best candidate
  int k = 1;                   // copies of each point, on k distinct boards when that many are attached
  int wait_ms = 1000;          // after the first candidate, how long to wait for the others (late ones are dropped)
  double fluency_weight = 1;   // the score's weights (actors/ensemble_scoring.hpp); >= 0, positive sum
  double relevance_weight = 1;
  double agreement_weight = 1;
};

struct HttpConfig {             // [http]: the OpenAI-compatible HTTP API (cloud, all-in-one)
  std::string listen = "127.0.0.1:8080";   // HOST:PORT
  int threads = 1;
  int max_inflight = 256;     // requests answered at once; more get 503
  std::string api_key;        // empty: no key required; the PICE_API_KEY environment variable overrides
};

struct SecurityConfig {        // [security]: CURVE on every tcp socket of the node
  std::string key_file;        // security.key: this node's key pair (a .key file), resolved
  std::string public_key;      // from key_file (Z85)
  std::string secret_key;      // from key_file (Z85); never logged
  std::string server_key_file;   // security.server_key: the server's .pub (edges; optional elsewhere), resolved
  std::string server_key;      // from server_key_file; empty: none given (a cloud's own clients use its public key)
  std::string allowed_keys_path;   // security.allowed_keys: a key list or a directory of .pub files, resolved
  std::vector<std::string> allowed_keys;   // from allowed_keys_path: who may connect besides this node itself
};

struct NodeConfig {
  std::string source;          // file it came from
  std::string node_id;         // default "<role>-<hostname>-<pid>"
  Role role = Role::all_in_one;
  std::string listen;          // cloud, all-in-one, broker: base endpoint to bind (all-in-one default "inproc://pice");
                               // a cloud with `connect` binds only its gateway there (optional)
  std::string connect;         // edge: the cloud's or broker's base endpoint; cloud: a broker's (shared fleet)
  int local_edges = 1;         // all-in-one: how many in-process edge expanders
  std::optional<ModelConfig> llm;   // [llm]: cloud model (sketches, direct answers, fallback expansions); cloud & all-in-one need it
  std::optional<ModelConfig> slm;   // [slm]: edge model (expansions); edge & all-in-one need it
  SketchConfig sketch;
  ExpandConfig expand;
  SamplingConfig sampling;
  FleetConfig fleet;
  SchedulerConfig scheduler;
  EnsembleConfig ensemble;
  std::optional<HttpConfig> http;   // absent: no HTTP API (clients use the ZeroMQ gateway)
  std::optional<SecurityConfig> security;   // absent: plain tcp (no encryption, no authentication)
  std::string log_level = "info";
};

// Reads and validates a file. Throws ConfigError: "FILE: cannot open: REASON", TOML syntax errors,
// and every schema or consistency problem at its line and column.
NodeConfig load_file(const std::filesystem::path& path);

// Same, for text already in memory; source_name is used in errors and NodeConfig::source, and its
// folder (if it has one) anchors relative model and key paths.
NodeConfig parse(std::string_view text, const std::string& source_name);

}  // namespace pice::config
