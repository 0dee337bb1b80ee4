#include "actors/scheduler_policy.hpp"

#include <algorithm>

namespace pice::actors {

std::vector<std::string> SchedulerPolicy::place_copies(Path path, size_t copies, const std::set<std::string>& avoid,
                                                      const std::set<std::string>& holding) {
  // Sketch-cloud and direct answers run on the cloud; a point whose board failed may too.
  const bool on_boards = path == Path::sketch || path == Path::direct_edge;
  std::vector<std::string> boards;
  if (on_boards) boards = fleet_.place_distinct(copies, avoid, holding, config_.scheduler.prefix_affinity);
  for (const std::string& board : boards) fleet_.task_sent(board);
  if (boards.empty()) ++cloud_queue_;
  return boards;
}

LoadSnapshot SchedulerPolicy::load() const {
  LoadSnapshot l;
  l.cloud_queue = cloud_queue_;
  l.cloud_first_point_ms = cloud_first_point_ms_;
  l.edge_point_ms = edge_point_ms_;
  l.boards = static_cast<int>(fleet_.size());
  l.open_boards = fleet_.open_boards();
  l.edge_room = static_cast<int>(fleet_.edge_room());
  return l;
}

void SchedulerPolicy::cloud_job_done() { cloud_queue_ = std::max(0, cloud_queue_ - 1); }

}  // namespace pice::actors
