#pragma once
// The scheduler's decisions without the actor: the fleet learned from heartbeats, the cloud's queue
// and recent latencies, and from them each request's plan (request_plan.hpp) and each point's place
// (fleet.hpp). The scheduler actor (scheduler.cpp) and the simulator (simulator.hpp) both call this one
// class, so `pice sim` measures the policy the nodes run, not a copy of it.
#include <set>
#include <string>
#include <vector>

#include "actors/fleet.hpp"
#include "actors/request_plan.hpp"
#include "config/node_config.hpp"

namespace pice::actors {

class SchedulerPolicy {
 public:
  explicit SchedulerPolicy(config::NodeConfig config)
      : config_(std::move(config)), fleet_(config_.scheduler.edge_queue_limit) {}

  // How a request that arrives now is served (mode, path, sketch budget).
  // `decided`: the cloud model's routing answer ([scheduler] router = "llm"), else the rules decide.
  Plan plan(const messages::Request& request, const std::optional<RouteDecision>& decided = std::nullopt) const {
    return plan_request(request, config_, load(), decided);
  }

  // Where the copies of a point of a request on `path` go (k > 1 for an ensemble): up to `copies`
  // distinct boards, each counted in its in-flight tasks, none of them in `avoid` (the boards the last
  // attempt failed on); fewer when fewer are open. Empty for the cloud worker (counted in the cloud's
  // queue): only sketch and direct-edge work goes to boards, and only while one can take it.
  // `holding`: boards that have other points of the same request ([scheduler] prefix_affinity).
  std::vector<std::string> place_copies(Path path, size_t copies, const std::set<std::string>& avoid = {},
                                        const std::set<std::string>& holding = {});

  // The load a new request meets: the cloud's queue and recent latency, the room left on the boards.
  LoadSnapshot load() const;

  // A job (a sketch) was sent to the cloud worker, or the cloud worker answered one.
  void cloud_job_sent() { ++cloud_queue_; }
  void cloud_job_done();
  // Samples of the recent latencies the budget follows.
  void first_point_after(double ms) { smooth(cloud_first_point_ms_, ms); }
  void edge_result_after(double ms) { smooth(edge_point_ms_, ms); }

  Fleet& fleet() { return fleet_; }
  const Fleet& fleet() const { return fleet_; }
  const config::NodeConfig& config() const { return config_; }
  int cloud_queue() const { return cloud_queue_; }
  double cloud_first_point_ms() const { return cloud_first_point_ms_; }
  double edge_point_ms() const { return edge_point_ms_; }

 private:
  static constexpr double kLatencySmoothing = 0.3;  // weight of the newest sample in the recent latencies
  static void smooth(double& average, double sample) {
    average = average == 0 ? sample : average + kLatencySmoothing * (sample - average);
  }

  config::NodeConfig config_;
  Fleet fleet_;
  int cloud_queue_ = 0;              // jobs sent to the cloud worker and not yet answered
  double cloud_first_point_ms_ = 0;  // recent time from asking for a sketch to its first point
  double edge_point_ms_ = 0;         // recent time from dispatching a point to a board to its result
};

}  // namespace pice::actors
