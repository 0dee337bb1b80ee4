#pragma once
// How one request is served, decided by the scheduler when it arrives: the mode (the request's or the
// node's default), the path the work takes (router decision, edge capacity), and the sketch budget
// (points, words per point) from load. Pure functions of their inputs, so they are tested directly.
#include <optional>
#include <string>
#include <string_view>

#include "actors/router.hpp"
#include "config/node_config.hpp"
#include "messages/bodies.hpp"

namespace pice::actors {

enum class Path {
  sketch,        // the cloud sketches, edges expand (PICE)
  sketch_cloud,  // the cloud sketches and expands (Skeleton-of-Thought on one model)
  direct,        // the cloud answers directly
  direct_edge,   // an edge SLM answers directly (mode "route", easy questions)
};
std::string_view path_name(Path path);  // "sketch", "sketch-cloud", "direct", "direct-edge"
inline bool is_direct(Path path) { return path == Path::direct || path == Path::direct_edge; }

// The load the scheduler sees when a request arrives.
struct LoadSnapshot {
  int cloud_queue = 0;              // jobs queued at or running on the cloud model
  double cloud_first_point_ms = 0;  // recent time from asking for a sketch to its first point; 0 = unknown
  int boards = 0;                   // boards known from heartbeats
  int open_boards = 0;              // boards below the edge queue limit
  int edge_room = 0;                // tasks the open boards can still take before they are full
  double edge_point_ms = 0;         // recent time from dispatching a point to its result; 0 = unknown
};

struct Budget {
  int min_points = 2;
  int max_points = 5;
  int words_per_point = 6;
  double pressure = 0;  // 0..1: how congested the cloud is
  std::string reason;   // how the numbers were reached, for the response
};

// The sketch budget of a request: the request's own max_points / max_words_per_point when given, else
// the [sketch] values shrunk by cloud pressure (up to half the points and down to
// scheduler.min_words_per_point) and capped by the room on open edge boards (path kSketch only).
Budget plan_budget(const messages::Request& request, const config::NodeConfig& config, const LoadSnapshot& load,
                   Path path);

struct Plan {
  std::string mode;    // the mode served: the request's, or the node's default
  Path path = Path::sketch;
  std::string reason;  // why this path (router score and cues, edge capacity)
  Budget budget;       // meaningful for the sketch paths
};

// Whether a request in this mode needs the router's decision ("pice" and "route").
bool needs_router(const messages::Request& request, const config::NodeConfig& config);

// Runs the rules router for "pice" and "route", unless `decided` is given (the cloud model's answer).
Plan plan_request(const messages::Request& request, const config::NodeConfig& config, const LoadSnapshot& load,
                  const std::optional<RouteDecision>& decided = std::nullopt);

}  // namespace pice::actors
