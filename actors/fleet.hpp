#pragma once
// The scheduler's view of the edge boards: learned from heartbeats, forgotten after silence.
// No list of boards is configured anywhere; a board exists here only while it keeps talking.
//
// Placement and the load summary are asked for once per point and once per request, with up to
// thousands of boards (`pice sim --boards 1000`), so neither scans the boards: every change to a board
// (heartbeat, task sent or finished, forgotten) moves it in an ordered index of expected finish times
// and updates the fleet's totals, and a placement reads the front of the index.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "messages/bodies.hpp"

namespace pice::actors {

struct Board {
  messages::Heartbeat last;  // the most recent heartbeat
  int64_t first_seen_us = 0;  // when it attached (its first heartbeat)
  int64_t last_seen_us = 0;
  int inflight = 0;          // tasks this scheduler sent and has no result for yet
  uint64_t completed = 0;
};

class Fleet {
 public:
  // queue_limit: tasks waiting per batch slot at which a board counts as full ([scheduler]
  // edge_queue_limit); only the load summary (open_boards, edge_room) uses it.
  explicit Fleet(int queue_limit = 4) : queue_limit_(queue_limit) {}

  // Records a heartbeat; returns true when the board is new.
  bool heard(const messages::Heartbeat& heartbeat, int64_t now_us);
  // Forgets boards silent for longer than timeout_us; returns their ids.
  std::vector<std::string> expire(int64_t now_us, int64_t timeout_us);
  void forget(const std::string& id);

  // The board where one more point is expected to finish first: fewest rounds of its batch slots
  // (counting the tasks we sent that it may not have reported yet) per unit of measured speed. A board
  // that has not measured its speed is assumed as fast as the measured ones on average. Ties go to the
  // lower id, so placement is deterministic. nullopt when no board can take it.
  // `avoid`: boards that just failed this point; they are never chosen, so the point goes elsewhere.
  // A board whose heartbeat says it is draining is never chosen either.
  std::optional<std::string> place(const std::string& avoid = {}) const;
  // `holding`: boards that already have other points of this request. Each counts `affinity` of a task
  // less (their shared prompt prefix is in its cache, and the points can share a batch), so the
  // request's points stay together unless another board is expected to finish sooner by more than that.
  std::optional<std::string> place(const std::set<std::string>& avoid, const std::set<std::string>& holding = {},
                                   double affinity = 0) const;

  // Up to n distinct boards for n copies of one point (the ensemble), in the order place() would pick
  // them. Fewer when fewer boards are known (never the same board twice: two copies on one board would
  // queue behind each other and agree by construction).
  std::vector<std::string> place_distinct(size_t n, const std::set<std::string>& avoid = {},
                                          const std::set<std::string>& holding = {}, double affinity = 0) const;

  void task_sent(const std::string& id);
  void task_finished(const std::string& id);

  bool knows(const std::string& id) const { return boards_.count(id) > 0; }
  size_t size() const { return boards_.size(); }
  const std::map<std::string, Board>& boards() const { return boards_; }

  // Boards that are not draining and have room below queue_limit per slot, and that room in tasks.
  int open_boards() const { return open_boards_; }
  int64_t edge_room() const { return edge_room_; }

 private:
  // What the index and the totals hold for one board; taken out before a change, put back after.
  void unindex(const std::string& id, const Board& board);
  void index(const std::string& id, const Board& board);
  struct Choice {
    std::string id;
    double cost;   // expected finish of one more task, in tasks per token/s
  };
  std::optional<Choice> best_indexed(const std::set<std::string>& avoid) const;
  double speed(const Board& board) const {
    return board.last.tokens_per_s > 0 ? board.last.tokens_per_s : default_speed();
  }
  // Rounds of batch slots one more task waits for on this board.
  static int rounds(const Board& board);
  int room(const Board& board) const;
  double default_speed() const { return measured_count_ ? measured_speed_sum_ / measured_count_ : 1.0; }

  int queue_limit_;
  std::map<std::string, Board> boards_;
  std::set<std::pair<double, std::string>> by_cost_;      // measured boards: rounds / tokens_per_s
  std::set<std::pair<int, std::string>> unmeasured_;      // the others, by rounds (at the default speed)
  double measured_speed_sum_ = 0;
  int measured_count_ = 0;
  int open_boards_ = 0;
  int64_t edge_room_ = 0;
};

}  // namespace pice::actors
