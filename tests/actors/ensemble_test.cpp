// The ensemble end to end: a cloud with [ensemble] k = 3, two real edge expanders in the process and
// a third board on real sockets that answers every copy too late. Every point must still complete,
// from the two that answered, after the ensemble's wait; the late candidate is dropped even though it
// would have won, and the chosen candidate is the one with the best reported score.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "actors/client.hpp"
#include "actors/node.hpp"
#include "brokers/endpoints.hpp"
#include "brokers/pump.hpp"
#include "config/node_config.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

// Generous for a loaded machine: the two local edges must answer within kWaitMs of each other, and the
// whole answer must be done before the third board's first answer, kLateBy after its task.
constexpr int kWaitMs = 2000;         // the ensemble's wait after a point's first candidate
constexpr auto kLateBy = std::chrono::seconds(12);   // the third board answers this late

config::NodeConfig ensemble_cloud(const std::string& listen) {
  return config::parse("[node]\nid = \"ens\"\nrole = \"all-in-one\"\nlisten = \"" + listen +
                           "\"\nlocal_edges = 2\n[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:tiny\"\n"
                           "[sketch]\nmin_points = 2\nmax_points = 3\n[expand]\nmax_tokens = 8\n"
                           "[fleet]\nheartbeat_ms = 100\nboard_timeout_ms = 60000\ntask_deadline_ms = 600000\n"
                           "[ensemble]\nk = 3\nwait_ms = " + std::to_string(kWaitMs) + "\n",
                       "<ensemble test config>");
}

// A board on real sockets that announces itself like an edge and answers each task kLateBy after it
// came, with a candidate no real one can beat (certain tokens, the point's own words).
class LateBoard {
 public:
  explicit LateBoard(const std::string& cloud) : pump_("late-board") {
    const auto endpoints = brokers::derive_endpoints(cloud);
    pump_.add_socket({"tasks", zmq::socket_type::dealer, endpoints.tasks, brokers::Direction::connect, kId},
                     [this](brokers::Inbound&& in) {
                       std::lock_guard lock(mutex_);
                       pending_.push_back({std::chrono::steady_clock::now() + kLateBy, std::move(in.envelope)});
                       ++tasks_;
                     });
    pump_.add_socket({"results", zmq::socket_type::push, endpoints.results, brokers::Direction::connect});
    pump_.add_socket({"events", zmq::socket_type::pub, endpoints.events, brokers::Direction::connect});
    pump_.start();
    thread_ = std::thread([this] { run(); });
  }
  ~LateBoard() {
    stop_ = true;
    thread_.join();
    pump_.stop();
  }
  int tasks() const { return tasks_; }
  int answered() const { return answered_; }
  static constexpr const char* kId = "late-board";

 private:
  struct Pending {
    std::chrono::steady_clock::time_point due;
    messages::Envelope task;
  };

  void run() {
    while (!stop_) {
      messages::Heartbeat hb;
      hb.node_id = kId;
      hb.role = "edge";
      hb.models = {"late-model"};
      hb.batch_slots = 1;
      hb.tokens_per_s = 1e6;  // it claims to be the fastest board: it gets a copy of every point
      messages::Envelope beat;
      beat.sender = kId;
      beat.body = hb;
      pump_.send("events", beat);
      answer_due();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void answer_due() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      const auto& task = std::get<messages::ExpansionTask>(it->task.body);
      messages::ExpansionResult result;
      result.point_index = task.point_index;
      result.text = task.point + " " + task.question;
      result.tokens = 5;
      result.mean_logprob = 0;
      result.model = "late-model";
      result.node = kId;
      messages::Envelope reply;
      reply.request_id = it->task.request_id;
      reply.task_id = it->task.task_id;
      reply.sender = kId;
      reply.body = result;
      pump_.send("results", reply);
      ++answered_;
      it = pending_.erase(it);
    }
  }

  brokers::Pump pump_;
  std::mutex mutex_;
  std::vector<Pending> pending_;
  std::atomic<int> tasks_{0}, answered_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(Ensemble, PointsCompleteWithoutTheLateCopyAndKeepTheBestScore) {
  const std::string listen = "tcp://127.0.0.1:" + std::to_string(free_port_range(5));
  auto node = actors::Node::start(ensemble_cloud(listen));
  LateBoard late(listen);
  ASSERT_TRUE(wait_until([&] { return node->known_boards() == 3; }, std::chrono::seconds(60)));

  actors::GatewayClient client(brokers::local_connect_endpoint(node->gateway_endpoint()));
  messages::Request request;
  request.question = "What are some tips for sleeping well?";
  const actors::Answer answer = client.ask(request, 240000);
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_EQ(late.answered(), 0) << "the answer waited for the late board";

  const std::set<std::string> local_edges = {"ens-edge-1", "ens-edge-2"};
  for (const auto& point : answer.points) {
    SCOPED_TRACE("point " + std::to_string(point.point_index));
    EXPECT_EQ(point.copies, 3);  // one copy on each board
    // The two local edges (both, unless one took longer than kWaitMs after the other); never the late one.
    ASSERT_GE(point.candidates.size(), 1u);
    EXPECT_LE(point.candidates.size(), 2u);
    double best = -1;
    int chosen = 0;
    for (const auto& c : point.candidates) {
      EXPECT_TRUE(local_edges.count(c.node)) << c.node;
      EXPECT_GT(c.fluency, 0.0);
      EXPECT_LE(c.fluency, 1.0);
      EXPECT_GE(c.relevance, 0.0);
      EXPECT_GE(c.agreement, 0.0);
      best = std::max(best, c.score);
      if (c.chosen) {
        ++chosen;
        EXPECT_EQ(c.node, point.node);
        EXPECT_DOUBLE_EQ(c.score, point.score);
      }
    }
    EXPECT_EQ(chosen, 1);
    EXPECT_DOUBLE_EQ(point.score, best);
  }
  EXPECT_EQ(late.tasks(), static_cast<int>(answer.points.size()));
  // Its answers do arrive (and are dropped): the node goes on serving.
  EXPECT_TRUE(wait_until([&] { return late.answered() == late.tasks(); }, std::chrono::seconds(60)));
  request.question = "What are some tips for staying focused at work?";   // list-like: the router sketches it
  request.ensemble = 1;   // a request may ask for fewer copies than the node's k
  const actors::Answer single = client.ask(request, 240000);
  ASSERT_TRUE(single.complete()) << single.error;
  for (const auto& point : single.points) {
    EXPECT_EQ(point.copies, 1);
    ASSERT_EQ(point.candidates.size(), 1u);
    EXPECT_TRUE(point.candidates[0].chosen);
  }
  node->stop();
}

}  // namespace
}  // namespace pice::testing
