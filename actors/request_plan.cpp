#include "actors/request_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "actors/router.hpp"

namespace pice::actors {
namespace {

std::string fixed(double x, int digits) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

int lerp_round(int from, int to, double t) { return static_cast<int>(std::lround(from + (to - from) * t)); }

// 0 when the cloud is idle and quick, 1 at (or beyond) the configured queue depth or latency.
double cloud_pressure(const config::SchedulerConfig& s, const LoadSnapshot& load) {
  double queue = static_cast<double>(load.cloud_queue) / s.cloud_queue_high;
  double latency = load.cloud_first_point_ms / s.cloud_latency_high_ms;
  return std::clamp(std::max(queue, latency), 0.0, 1.0);
}

std::string router_words(const RouteDecision& d) {
  return std::string("router: ") + (d.progressive ? "list-like" : "not list-like") + " (score " +
         fixed(d.score, 2) + (d.reason.empty() ? "" : "; " + d.reason) + ")";
}

}  // namespace

std::string_view path_name(Path path) {
  switch (path) {
    case Path::sketch: return "sketch";
    case Path::sketch_cloud: return "sketch-cloud";
    case Path::direct: return "direct";
    case Path::direct_edge: return "direct-edge";
  }
  return "unknown";
}

Budget plan_budget(const messages::Request& request, const config::NodeConfig& config, const LoadSnapshot& load,
                   Path path) {
  const config::SchedulerConfig& s = config.scheduler;
  Budget b;
  b.max_points = config.sketch.max_points;
  b.words_per_point = config.sketch.max_words_per_point;
  std::string why;
  if (s.adaptive_budget) {
    b.pressure = cloud_pressure(s, load);
    // A congested cloud writes shorter sketches and leaves more of the answer to the edges.
    const int fewest_points = std::max(config.sketch.min_points, (config.sketch.max_points + 1) / 2);
    b.max_points = lerp_round(config.sketch.max_points, fewest_points, b.pressure);
    b.words_per_point = lerp_round(config.sketch.max_words_per_point, s.min_words_per_point, b.pressure);
    why = "cloud queue " + std::to_string(load.cloud_queue) + "/" + std::to_string(s.cloud_queue_high) +
          ", first point " + fixed(load.cloud_first_point_ms, 0) + "/" + std::to_string(s.cloud_latency_high_ms) +
          " ms: pressure " + fixed(b.pressure, 2);
    // Points beyond what the open boards can take would only wait in their queues.
    if (path == Path::sketch) {
      const int room = std::max(config.sketch.min_points, load.edge_room);
      if (room < b.max_points) {
        b.max_points = room;
        why += "; edges can take " + std::to_string(load.edge_room) + " more";
      }
    }
  } else {
    why = "configured";
  }
  if (request.max_points > 0) {
    b.max_points = request.max_points;
    why += "; points set by the request";
  }
  if (request.max_words_per_point > 0) {
    b.words_per_point = request.max_words_per_point;
    why += "; words set by the request";
  }
  b.min_points = std::min(config.sketch.min_points, b.max_points);
  b.reason = std::to_string(b.max_points) + " points x " + std::to_string(b.words_per_point) + " words (" + why + ")";
  return b;
}

bool needs_router(const messages::Request& request, const config::NodeConfig& config) {
  const std::string& mode = request.mode.empty() ? config.scheduler.mode : request.mode;
  return mode == "pice" || mode == "route";
}

Plan plan_request(const messages::Request& request, const config::NodeConfig& config, const LoadSnapshot& load,
                  const std::optional<RouteDecision>& decided) {
  Plan plan;
  plan.mode = request.mode.empty() ? config.scheduler.mode : request.mode;
  const bool edges = load.open_boards > 0;
  const std::string edge_words = edges ? "" : load.boards == 0 ? "no edge boards" : "every edge board is full";
  if (plan.mode == "cloud-only") {
    plan.path = Path::direct;
    plan.reason = "mode cloud-only: the cloud answers directly";
  } else if (plan.mode == "sot") {
    plan.path = Path::sketch_cloud;
    plan.reason = "mode sot: the cloud sketches and expands";
  } else {
    const RouteDecision d = decided ? *decided : route(request.question);
    plan.reason = router_words(d);
    if (!d.progressive) {
      plan.path = Path::direct;
      plan.reason += ": the cloud answers directly";
    } else if (plan.mode == "route") {
      plan.path = edges ? Path::direct_edge : Path::direct;
      plan.reason += edges ? ": an edge answers directly" : ", but " + edge_words + ": the cloud answers directly";
    } else if (edges) {
      plan.path = Path::sketch;
      plan.reason += ": the cloud sketches, edges expand";
    } else {
      const bool sot = config.scheduler.no_edges == "sot";
      plan.path = sot ? Path::sketch_cloud : Path::direct;
      plan.reason += ", but " + edge_words + ": " +
                     (sot ? "the cloud sketches and expands" : "the cloud answers directly") +
                     " (scheduler.no_edges = " + config.scheduler.no_edges + ")";
    }
  }
  if (!is_direct(plan.path)) plan.budget = plan_budget(request, config, load, plan.path);
  return plan;
}

}  // namespace pice::actors
