#include "actors/fleet.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace pice::actors {
namespace {

messages::Heartbeat beat(const std::string& id, double tokens_per_s = 0, int queue = 0, int slots = 1) {
  messages::Heartbeat hb;
  hb.node_id = id;
  hb.tokens_per_s = tokens_per_s;
  hb.queue_depth = queue;
  hb.batch_slots = slots;
  return hb;
}

TEST(Fleet, LearnsBoardsFromHeartbeatsOnly) {
  Fleet fleet;
  EXPECT_FALSE(fleet.place().has_value());
  EXPECT_TRUE(fleet.heard(beat("a"), 1000));
  EXPECT_FALSE(fleet.heard(beat("a"), 2000));  // the same board again is not new
  EXPECT_EQ(fleet.size(), 1u);
  EXPECT_EQ(fleet.place(), "a");
}

TEST(Fleet, NeverPlacesOnADrainingBoard) {
  Fleet fleet;
  messages::Heartbeat fast = beat("fast", 100);
  fleet.heard(fast, 0);
  fleet.heard(beat("slow", 1), 0);
  EXPECT_EQ(fleet.place(), "fast");
  fast.draining = true;
  fleet.heard(fast, 1);
  EXPECT_TRUE(fleet.knows("fast"));   // still known: its tasks are still being finished
  EXPECT_EQ(fleet.place(), "slow");
  fleet.forget("slow");
  EXPECT_FALSE(fleet.place().has_value());   // only draining boards left: the cloud takes the point
}

TEST(Fleet, ForgetsSilentBoards) {
  Fleet fleet;
  fleet.heard(beat("a"), 0);
  fleet.heard(beat("b"), 2'000'000);
  auto gone = fleet.expire(3'500'000, 3'000'000);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], "a");
  EXPECT_FALSE(fleet.knows("a"));
  EXPECT_TRUE(fleet.knows("b"));
}

TEST(Fleet, SpreadsPointsOverEqualBoards) {
  Fleet fleet;
  fleet.heard(beat("a"), 0);
  fleet.heard(beat("b"), 0);
  std::map<std::string, int> placed;
  for (int i = 0; i < 6; ++i) {
    auto board = fleet.place();
    ASSERT_TRUE(board);
    fleet.task_sent(*board);
    ++placed[*board];
  }
  EXPECT_EQ(placed["a"], 3);
  EXPECT_EQ(placed["b"], 3);
}

TEST(Fleet, PrefersTheFasterBoardUntilItsQueueOutweighsItsSpeed) {
  Fleet fleet;
  fleet.heard(beat("slow", 10), 0);
  fleet.heard(beat("fast", 30), 0);
  EXPECT_EQ(fleet.place(), "fast");
  fleet.task_sent("fast");
  EXPECT_EQ(fleet.place(), "fast");  // 2 waiting at 30 tok/s finish before 1 at 10
  fleet.task_sent("fast");
  fleet.task_sent("fast");
  EXPECT_EQ(fleet.place(), "slow");  // 4 at 30 tok/s finish after 1 at 10
}

TEST(Fleet, CountsTheBoardsOwnQueue) {
  Fleet fleet;
  fleet.heard(beat("busy", 0, 5), 0);
  fleet.heard(beat("idle", 0, 0), 0);
  EXPECT_EQ(fleet.place(), "idle");
}

TEST(Fleet, BatchSlotsKeepPointsTogether) {
  Fleet fleet;
  fleet.heard(beat("a", 0, 0, 4), 0);
  fleet.heard(beat("b", 0, 0, 4), 0);
  for (int i = 0; i < 3; ++i) fleet.task_sent(*fleet.place());
  EXPECT_EQ(fleet.boards().at("a").inflight, 3);  // one batch on one board, not spread
}

TEST(Fleet, UnmeasuredBoardsAreAssumedAverage) {
  Fleet fleet;
  fleet.heard(beat("measured", 20), 0);
  fleet.heard(beat("new", 0), 0);
  fleet.task_sent("measured");
  EXPECT_EQ(fleet.place(), "new");
}

TEST(Fleet, AvoidsTheBoardThatFailedAPoint) {
  Fleet fleet;
  fleet.heard(beat("a"), 0);
  EXPECT_FALSE(fleet.place("a").has_value());
  fleet.heard(beat("b"), 0);
  EXPECT_EQ(fleet.place("a"), "b");
}

TEST(Fleet, FinishedTasksFreeTheBoard) {
  Fleet fleet;
  fleet.heard(beat("a"), 0);
  fleet.task_sent("a");
  fleet.task_finished("a");
  fleet.task_finished("a");  // a duplicate result never drives the count negative
  EXPECT_EQ(fleet.boards().at("a").inflight, 0);
  EXPECT_EQ(fleet.boards().at("a").completed, 2u);
}

// The ensemble's copies of a point go to distinct boards, the fastest first; fewer boards, fewer copies.
TEST(Fleet, PlacesCopiesOnDistinctBoards) {
  Fleet fleet;
  EXPECT_TRUE(fleet.place_distinct(3).empty());
  fleet.heard(beat("slow", 5), 0);
  fleet.heard(beat("fast", 50), 0);
  fleet.heard(beat("mid", 20), 0);
  fleet.heard(beat("busy", 50, 20), 0);  // fast but 20 tasks queued: last
  EXPECT_EQ(fleet.place_distinct(3), (std::vector<std::string>{"fast", "mid", "slow"}));
  EXPECT_EQ(fleet.place_distinct(2, {"fast"}), (std::vector<std::string>{"mid", "slow"}));
  EXPECT_EQ(fleet.place_distinct(1), (std::vector<std::string>{"fast"}));
  const auto all = fleet.place_distinct(10);
  EXPECT_EQ(all.size(), 4u);  // only four boards: four copies, none twice
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 4u);
  EXPECT_TRUE(fleet.place_distinct(2, {"slow", "fast", "mid", "busy"}).empty());
}

// The index gives what a scan of every board gives, through any sequence of heartbeats, tasks sent and
// finished, and boards forgotten: the expected-finish rule written out plainly here is the reference.
std::optional<std::string> place_by_scan(const Fleet& fleet, const std::set<std::string>& avoid) {
  double speed_sum = 0;
  int measured = 0;
  for (const auto& [id, board] : fleet.boards())
    if (board.last.tokens_per_s > 0) speed_sum += board.last.tokens_per_s, ++measured;
  const double default_speed = measured ? speed_sum / measured : 1.0;
  std::optional<std::string> best;
  double best_cost = 0;
  for (const auto& [id, board] : fleet.boards()) {
    if (avoid.count(id) || board.last.draining) continue;
    const int slots = std::max(1, board.last.batch_slots);
    const int waiting = std::max(board.inflight, board.last.queue_depth) + 1;
    const double speed = board.last.tokens_per_s > 0 ? board.last.tokens_per_s : default_speed;
    const double cost = static_cast<double>((waiting + slots - 1) / slots) / speed;
    if (!best || cost < best_cost) best = id, best_cost = cost;
  }
  return best;
}

TEST(Fleet, IndexedPlacementMatchesAScanOfEveryBoard) {
  constexpr int kQueueLimit = 3;
  Fleet fleet(kQueueLimit);
  std::mt19937 rng(20261122);
  const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const auto board_id = [&] { return "edge-" + std::to_string(pick(40)); };
  for (int step = 0; step < 20'000; ++step) {
    const int op = pick(10);
    if (op < 3) {
      messages::Heartbeat hb = beat(board_id(), pick(3) == 0 ? 0.0 : 5.0 * pick(8), pick(6), 1 + pick(4));
      hb.draining = pick(12) == 0;
      fleet.heard(hb, step);
    } else if (op < 6) {
      if (auto board = fleet.place()) fleet.task_sent(*board);
    } else if (op < 9) {
      fleet.task_finished(board_id());
    } else {
      fleet.forget(board_id());
    }
    const std::set<std::string> avoid = {board_id(), board_id()};
    ASSERT_EQ(fleet.place(), place_by_scan(fleet, {})) << "step " << step;
    ASSERT_EQ(fleet.place(avoid), place_by_scan(fleet, avoid)) << "step " << step;
    int open = 0;
    int64_t room = 0;
    for (const auto& [id, board] : fleet.boards()) {
      const int limit = kQueueLimit * std::max(1, board.last.batch_slots);
      const int waiting = std::max(board.inflight, board.last.queue_depth);
      if (board.last.draining || waiting >= limit) continue;
      ++open;
      room += limit - waiting;
    }
    ASSERT_EQ(fleet.open_boards(), open) << "step " << step;
    ASSERT_EQ(fleet.edge_room(), room) << "step " << step;
  }
  EXPECT_GT(fleet.size(), 0u);
}

// A draining board takes no new tasks, so it is no room for a sketch's points either.
TEST(Fleet, ADrainingBoardIsNoRoom) {
  Fleet fleet(4);
  messages::Heartbeat hb = beat("a", 10, 1, 2);
  fleet.heard(hb, 0);
  EXPECT_EQ(fleet.open_boards(), 1);
  EXPECT_EQ(fleet.edge_room(), 7);   // 4 per slot, 2 slots, 1 waiting
  hb.draining = true;
  fleet.heard(hb, 1);
  EXPECT_EQ(fleet.open_boards(), 0);
  EXPECT_EQ(fleet.edge_room(), 0);
  fleet.forget("a");
  EXPECT_EQ(fleet.edge_room(), 0);
}

// A board that holds the request's other points (their shared prompt prefix is in its cache) keeps
// the next one unless another board is expected to finish it sooner by more than the affinity.
TEST(Fleet, KeepsARequestsPointsWhereItsPrefixIsUnlessAnotherFinishesSooner) {
  Fleet fleet;
  fleet.heard(beat("a", 9), 0);
  fleet.heard(beat("b", 10), 0);
  EXPECT_EQ(fleet.place(std::set<std::string>{}), "b");                      // 1/10 before 1/9
  EXPECT_EQ(fleet.place(std::set<std::string>{}, {"a"}, 0.0), "b");          // no affinity: finish time only
  EXPECT_EQ(fleet.place(std::set<std::string>{}, {"a"}, 0.25), "a");         // (1 - 0.25)/9 before 1/10
  fleet.heard(beat("a", 9, 1), 1);                                            // a task queued on a
  EXPECT_EQ(fleet.place(std::set<std::string>{}, {"a"}, 0.25), "b");         // (2 - 0.25)/9 after 1/10
  EXPECT_EQ(fleet.place(std::set<std::string>{"b"}, {"a"}, 0.25), "a");      // b avoided
  EXPECT_EQ(fleet.place(std::set<std::string>{"a"}, {"a"}, 0.25), "b");      // a failed this point: never a
  fleet.heard(beat("gone", 100), 1);
  fleet.forget("gone");
  EXPECT_EQ(fleet.place(std::set<std::string>{}, {"gone"}, 0.25), "b");      // a forgotten board holds nothing
  // The ensemble's copies: the holding board first, then by finish time.
  fleet.heard(beat("a", 9, 0), 2);
  EXPECT_EQ(fleet.place_distinct(2, {}, {"a"}, 0.25), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace pice::actors
