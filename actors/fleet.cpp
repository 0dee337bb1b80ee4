#include "actors/fleet.hpp"

#include <algorithm>

namespace pice::actors {

int Fleet::rounds(const Board& board) {
  // The board's own queue may include tasks of other schedulers; ours are in inflight.
  const int waiting = std::max(board.inflight, board.last.queue_depth) + 1;
  const int slots = std::max(1, board.last.batch_slots);
  return (waiting + slots - 1) / slots;
}

int Fleet::room(const Board& board) const {
  if (board.last.draining) return 0;
  const int limit = queue_limit_ * std::max(1, board.last.batch_slots);
  return std::max(0, limit - std::max(board.inflight, board.last.queue_depth));
}

void Fleet::unindex(const std::string& id, const Board& board) {
  if (board.last.tokens_per_s > 0) {
    measured_speed_sum_ -= board.last.tokens_per_s;
    --measured_count_;
    if (measured_count_ == 0) measured_speed_sum_ = 0;   // no rounding left over from earlier speeds
    by_cost_.erase({static_cast<double>(rounds(board)) / board.last.tokens_per_s, id});
  } else {
    unmeasured_.erase({rounds(board), id});
  }
  if (const int r = room(board); r > 0) {
    --open_boards_;
    edge_room_ -= r;
  }
}

void Fleet::index(const std::string& id, const Board& board) {
  if (board.last.tokens_per_s > 0) {
    measured_speed_sum_ += board.last.tokens_per_s;
    ++measured_count_;
    if (!board.last.draining) by_cost_.insert({static_cast<double>(rounds(board)) / board.last.tokens_per_s, id});
  } else if (!board.last.draining) {
    unmeasured_.insert({rounds(board), id});
  }
  if (const int r = room(board); r > 0) {
    ++open_boards_;
    edge_room_ += r;
  }
}

bool Fleet::heard(const messages::Heartbeat& heartbeat, int64_t now_us) {
  auto [it, inserted] = boards_.try_emplace(heartbeat.node_id);
  Board& board = it->second;
  board.last_seen_us = now_us;
  if (inserted) {
    board.first_seen_us = now_us;
  } else if (board.last.tokens_per_s == heartbeat.tokens_per_s && board.last.queue_depth == heartbeat.queue_depth &&
             board.last.batch_slots == heartbeat.batch_slots && board.last.draining == heartbeat.draining) {
    board.last = heartbeat;   // most heartbeats: nothing placement reads has changed
    return false;
  } else {
    unindex(it->first, board);
  }
  board.last = heartbeat;
  index(it->first, board);
  return inserted;
}

std::vector<std::string> Fleet::expire(int64_t now_us, int64_t timeout_us) {
  std::vector<std::string> gone;
  for (const auto& [id, board] : boards_)
    if (now_us - board.last_seen_us > timeout_us) gone.push_back(id);
  for (const std::string& id : gone) forget(id);
  return gone;
}

void Fleet::forget(const std::string& id) {
  auto it = boards_.find(id);
  if (it == boards_.end()) return;
  unindex(it->first, it->second);
  boards_.erase(it);
}

std::optional<std::string> Fleet::place(const std::string& avoid) const {
  return avoid.empty() ? place(std::set<std::string>{}) : place(std::set<std::string>{avoid});
}

std::optional<Fleet::Choice> Fleet::best_indexed(const std::set<std::string>& avoid) const {
  // The best of each index that is not avoided; `avoid` holds at most the copies of one point.
  const auto first_allowed = [&](const auto& index) {
    return std::find_if(index.begin(), index.end(), [&](const auto& entry) { return !avoid.count(entry.second); });
  };
  const auto measured = first_allowed(by_cost_);
  const auto unmeasured = first_allowed(unmeasured_);
  std::optional<Choice> best;
  if (measured != by_cost_.end()) best = Choice{measured->second, measured->first};
  if (unmeasured != unmeasured_.end()) {
    const double cost = static_cast<double>(unmeasured->first) / default_speed();
    if (!best || cost < best->cost || (cost == best->cost && unmeasured->second < best->id))
      best = Choice{unmeasured->second, cost};
  }
  return best;
}

std::optional<std::string> Fleet::place(const std::set<std::string>& avoid, const std::set<std::string>& holding,
                                        double affinity) const {
  std::optional<Choice> best = best_indexed(avoid);
  for (const std::string& id : holding) {
    const auto it = boards_.find(id);
    if (it == boards_.end() || it->second.last.draining || avoid.count(id)) continue;
    const double cost = (static_cast<double>(rounds(it->second)) - affinity) / speed(it->second);
    if (!best || cost < best->cost || (cost == best->cost && id < best->id)) best = Choice{id, cost};
  }
  if (!best) return std::nullopt;
  return best->id;
}

std::vector<std::string> Fleet::place_distinct(size_t n, const std::set<std::string>& avoid,
                                               const std::set<std::string>& holding, double affinity) const {
  std::set<std::string> taken = avoid;
  std::vector<std::string> chosen;
  while (chosen.size() < n) {
    std::optional<std::string> board = place(taken, holding, affinity);
    if (!board) break;
    taken.insert(*board);
    chosen.push_back(*board);
  }
  return chosen;
}

void Fleet::task_sent(const std::string& id) {
  auto it = boards_.find(id);
  if (it == boards_.end()) return;
  unindex(it->first, it->second);
  ++it->second.inflight;
  index(it->first, it->second);
}

void Fleet::task_finished(const std::string& id) {
  auto it = boards_.find(id);
  if (it == boards_.end()) return;
  unindex(it->first, it->second);
  it->second.inflight = std::max(0, it->second.inflight - 1);
  ++it->second.completed;
  index(it->first, it->second);
}

}  // namespace pice::actors
