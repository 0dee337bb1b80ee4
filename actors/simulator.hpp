#pragma once
// The simulator behind `pice sim`: the scheduler's own policy (SchedulerPolicy: the router, plan_request's
// budget, Fleet::place from heartbeats) driven in simulated time by a discrete-event loop, with a
// simulated cloud model (one job at a time, as the cloud worker serves them), simulated boards (a queue
// and a batch that steps all its points at once, as the expander does), links with latency and bandwidth,
// and Poisson arrivals. Engine speeds come from measured profiles (sim_profile.hpp).
//
// What it models: queueing at the cloud and on each board; batch step time growing with the batch
// (the profile's aggregate tokens/s per batch size); prefill of the prompt once per request and board
// (later points of that request share the prefix); sketch points leaving the cloud as they are written;
// heartbeats every [fleet] heartbeat_ms carrying the board's queue and measured tokens/s, reaching the
// scheduler one link latency later. What it does not: token-level text (every point and answer is as
// long as its budget allows, as with ignore_eos), link contention (each message pays latency plus its
// own serialisation), failures and re-dispatch, the gateway and the client's link.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/sim_profile.hpp"
#include "config/node_config.hpp"

namespace pice::actors {

struct LinkModel {
  double rtt_ms = 20;
  double mbit_per_s = 100;
  // Microseconds for a message of `bytes` to cross one way: half the round trip plus serialisation.
  int64_t one_way_us(size_t bytes) const;
};

// What requests arrive and how many tokens their parts take beyond what the plan decides.
struct SimWorkload {
  double rate = 1;                     // offered requests per second (Poisson arrivals)
  int requests = 200;
  uint64_t seed = 1;
  std::vector<std::string> questions;  // drawn uniformly at random; the router reads their text
  double tokens_per_word = 1.4;        // a sketch point is words x this + 3 tokens (number, period, newline)
  int prompt_tokens = 60;              // the template and instructions around a question (sketch, direct)
  int expand_prompt_tokens = 80;       // the same around question, sketch and point in an expansion
  int direct_tokens = 0;               // tokens of a direct answer; 0: [scheduler] direct_max_tokens
  int point_tokens = 0;                // tokens of an expansion; 0: [expand] max_tokens
};

struct SimSettings {
  config::NodeConfig node;               // [scheduler], [sketch], [expand], [fleet] as the cloud reads them
  std::string mode;                      // every request's mode; empty: [scheduler] mode
  int boards = 2;
  std::vector<double> board_speeds{1.0};  // each board's speed relative to its profile, cycled over boards
  double edge_cores = 0;                 // > 0: the boards share this many cores (busy boards slow each other)
  EngineProfile cloud;
  EngineProfile edge;
  int edge_batch = 16;                   // points a board steps at once (the expander's kExpanderBatch)
  LinkModel link;
  SimWorkload workload;
};

struct SimResult {
  std::string mode;
  int boards = 0;
  double rate = 0;
  int requests = 0;
  int completed = 0;
  double seconds = 0;      // simulated: from the first possible arrival to the last completion
  double throughput = 0;   // completed requests per simulated second
  double p50_ms = 0, p95_ms = 0;              // arrival -> answer complete
  double p50_first_ms = 0, p95_first_ms = 0;  // arrival -> first chunk (sketch point or answer text)
  double cloud_tokens_per_request = 0;        // generated on the cloud
  double edge_tokens_per_request = 0;         // generated on boards
  double bytes_per_request = 0;               // tasks and results on the cloud-edge links
  std::map<std::string, int> paths;           // requests by path (sketch, sketch-cloud, direct, direct-edge)
  std::vector<int> points_per_board;          // points (and direct answers) each board expanded
  int points_on_cloud = 0;                    // expansions and direct answers the cloud wrote
  uint64_t decisions = 0;                     // plans and placements made by SchedulerPolicy
  double wall_seconds = 0;                    // real time of the whole run
  double policy_seconds = 0;                  // real time spent inside the policy's decisions and heartbeats
  double decisions_per_s() const { return wall_seconds > 0 ? decisions / wall_seconds : 0; }
};

// Runs one simulation to the completion of every request. Throws std::invalid_argument on settings
// that cannot run (no questions, no boards' speeds, a rate or count <= 0).
SimResult simulate(const SimSettings& settings);

// A small mixed question set (list-like advice and knowledge questions, and math, code and writing
// ones the router answers directly) for runs without a question file.
const std::vector<std::string>& builtin_sim_questions();

}  // namespace pice::actors
