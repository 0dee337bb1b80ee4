#include "actors/fleet.hpp"

#include <algorithm>

namespace pice::actors {

bool Fleet::heard(const messages::Heartbeat& heartbeat, int64_t now_us) {
  auto [it, inserted] = boards_.try_emplace(heartbeat.node_id);
  if (inserted) it->second.first_seen_us = now_us;
  it->second.last = heartbeat;
  it->second.last_seen_us = now_us;
  return inserted;
}

std::vector<std::string> Fleet::expire(int64_t now_us, int64_t timeout_us) {
  std::vector<std::string> gone;
  for (auto it = boards_.begin(); it != boards_.end();) {
    if (now_us - it->second.last_seen_us > timeout_us) {
      gone.push_back(it->first);
      it = boards_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

void Fleet::forget(const std::string& id) { boards_.erase(id); }

std::optional<std::string> Fleet::place(const std::string& avoid) const {
  return avoid.empty() ? place(std::set<std::string>{}) : place(std::set<std::string>{avoid});
}

std::vector<std::string> Fleet::place_distinct(size_t n, const std::set<std::string>& avoid) const {
  std::set<std::string> taken = avoid;
  std::vector<std::string> chosen;
  while (chosen.size() < n) {
    std::optional<std::string> board = place(taken);
    if (!board) break;
    taken.insert(*board);
    chosen.push_back(*board);
  }
  return chosen;
}

std::optional<std::string> Fleet::place(const std::set<std::string>& avoid) const {
  // A board that has not measured its speed yet is assumed to be as fast as the others on average.
  double known_speed = 0;
  int measured = 0;
  for (const auto& entry : boards_)
    if (entry.second.last.tokens_per_s > 0) known_speed += entry.second.last.tokens_per_s, ++measured;
  const double default_speed = measured ? known_speed / measured : 1.0;

  std::optional<std::string> best;
  double best_cost = 0;
  for (const auto& [id, board] : boards_) {
    if (avoid.count(id) || board.last.draining) continue;
    // The board's own queue may include tasks of other schedulers; ours are in inflight.
    int waiting = std::max(board.inflight, board.last.queue_depth) + 1;
    int slots = std::max(1, board.last.batch_slots);
    double speed = board.last.tokens_per_s > 0 ? board.last.tokens_per_s : default_speed;
    double cost = static_cast<double>((waiting + slots - 1) / slots) / speed;
    if (!best || cost < best_cost) {
      best = id;
      best_cost = cost;
    }
  }
  return best;
}

void Fleet::task_sent(const std::string& id) {
  if (auto it = boards_.find(id); it != boards_.end()) ++it->second.inflight;
}

void Fleet::task_finished(const std::string& id) {
  if (auto it = boards_.find(id); it != boards_.end()) {
    it->second.inflight = std::max(0, it->second.inflight - 1);
    ++it->second.completed;
  }
}

}  // namespace pice::actors
