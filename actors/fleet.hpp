#pragma once
// The scheduler's view of the edge boards: learned from heartbeats, forgotten after silence.
// No list of boards is configured anywhere; a board exists here only while it keeps talking.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
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
  // Records a heartbeat; returns true when the board is new.
  bool heard(const messages::Heartbeat& heartbeat, int64_t now_us);
  // Forgets boards silent for longer than timeout_us; returns their ids.
  std::vector<std::string> expire(int64_t now_us, int64_t timeout_us);
  void forget(const std::string& id);

  // The board where one more point is expected to finish first: fewest tasks per unit of measured
  // speed, counting the tasks we sent that it may not have reported yet. Ties go to the lower id,
  // so placement is deterministic. nullopt when no board is known.
  // `avoid`: a board that just failed this point; it is never chosen, so the point goes elsewhere.
  // A board whose heartbeat says it is draining is never chosen either.
  std::optional<std::string> place(const std::string& avoid = {}) const;
  std::optional<std::string> place(const std::set<std::string>& avoid) const;

  // Up to n distinct boards for n copies of one point (the ensemble), each chosen as place() would
  // with the copies already placed counted as sent. Fewer when fewer boards are known (never the
  // same board twice: two copies on one board would queue behind each other and agree by construction).
  std::vector<std::string> place_distinct(size_t n, const std::set<std::string>& avoid = {}) const;

  void task_sent(const std::string& id);
  void task_finished(const std::string& id);

  bool knows(const std::string& id) const { return boards_.count(id) > 0; }
  size_t size() const { return boards_.size(); }
  const std::map<std::string, Board>& boards() const { return boards_; }

 private:
  std::map<std::string, Board> boards_;
};

}  // namespace pice::actors
