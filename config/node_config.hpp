#pragma once
// A node's configuration: read once from a TOML file at start-up, validated completely, then handed
// down as plain structs. Every mistake in the file is a ConfigError naming file, line, column and key.
//
// File layout (see config/all-in-one.toml, cloud.toml, edge.toml for commented examples):
//   [node] id, role, listen, connect, local_edges     [llm] / [slm] model, threads, context
//   [sketch] min_points, max_points, max_words_per_point     [expand] max_tokens
//   [sampling] temperature, top_p, seed     [fleet] heartbeat_ms, board_timeout_ms, task_deadline_ms
//   [scheduler] mode, no_edges, direct_max_tokens, adaptive_budget, min_words_per_point,
//               cloud_queue_high, cloud_latency_high_ms, edge_queue_limit
//   [log] level
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_error.hpp"

namespace pice::config {

enum class Role { all_in_one, cloud, edge };
std::string_view role_name(Role role);   // "all-in-one", "cloud", "edge"

struct ModelConfig {
  std::string path;   // a GGUF file (relative paths in a file: relative to the file's folder) or "synth:<shape>"
  int threads = 1;
  int context = 1024;
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
};

// [scheduler]: how requests are served (cloud, all-in-one). Modes: "pice" (the router sends list-like
// questions to sketch-then-expand with edge expansions, the rest to a direct cloud answer), "sot"
// (sketch and expansions on the cloud), "route" (list-like questions answered wholly by an edge SLM,
// the rest by the cloud), "cloud-only" (the cloud answers every question directly).
struct SchedulerConfig {
  std::string mode = "pice";        // the default; a request may choose another
  std::string no_edges = "direct";  // pice with no edge capacity: "direct" (cloud answers) or "sot"
  int direct_max_tokens = 256;      // tokens of a direct answer when the request does not say
  // The sketch budget follows load: a busy cloud writes fewer, shorter points (down to half the
  // points and min_words_per_point words at full pressure), busy edges take fewer points.
  bool adaptive_budget = true;
  int min_words_per_point = 3;
  int cloud_queue_high = 4;          // cloud jobs queued at which pressure is full
  int cloud_latency_high_ms = 3000;  // recent time to a sketch's first point at which pressure is full
  int edge_queue_limit = 4;          // a board with this many tasks waiting per batch slot is full
};

struct HttpConfig {             // [http]: the OpenAI-compatible HTTP API (cloud, all-in-one)
  std::string listen = "127.0.0.1:8080";   // HOST:PORT
  int threads = 1;
  int max_inflight = 256;     // requests answered at once; more get 503
  std::string api_key;        // empty: no key required; the PICE_API_KEY environment variable overrides
};

struct NodeConfig {
  std::string source;          // file it came from
  std::string node_id;         // default "<role>-<hostname>-<pid>"
  Role role = Role::all_in_one;
  std::string listen;          // cloud, all-in-one: base endpoint to bind (all-in-one default "inproc://pice")
  std::string connect;         // edge: the cloud's base endpoint
  int local_edges = 1;         // all-in-one: how many in-process edge expanders
  std::optional<ModelConfig> llm;   // [llm]: cloud model (sketches, direct answers, fallback expansions); cloud & all-in-one need it
  std::optional<ModelConfig> slm;   // [slm]: edge model (expansions); edge & all-in-one need it
  SketchConfig sketch;
  ExpandConfig expand;
  SamplingConfig sampling;
  FleetConfig fleet;
  SchedulerConfig scheduler;
  std::optional<HttpConfig> http;   // absent: no HTTP API (clients use the ZeroMQ gateway)
  std::string log_level = "info";
};

// Reads and validates a file. Throws ConfigError: "FILE: cannot open: REASON", TOML syntax errors,
// and every schema or consistency problem at its line and column.
NodeConfig load_file(const std::filesystem::path& path);

// Same, for text already in memory; source_name is used in errors and NodeConfig::source, and its
// folder (if it has one) anchors relative model paths.
NodeConfig parse(std::string_view text, const std::string& source_name);

}  // namespace pice::config
