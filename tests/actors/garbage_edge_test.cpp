// An "edge" that answers garbage: a cloud process and a real edge process on loopback tcp, plus a fake
// board in this test that attaches like an edge (heartbeats with its id, a tasks DEALER under that id)
// and answers every task it is given with garbage on the cloud's results socket: bytes that are not
// msgpack, a message over the size limit, truncated envelopes, a wrong schema version, a message of the
// wrong type, results under an unknown task id or with another point's index, an empty expansion. It
// also sprays bytes at the cloud's tasks and events sockets. Every request must still be answered
// completely, by the real edge or the cloud, and the cloud must say what it dropped.
#include <gtest/gtest.h>

#include <zmq.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "messages/envelope.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

constexpr const char* kGarbageId = "garbage-edge";

// The fake board. Its thread owns all its sockets (as a pump would); it claims to be fast and idle so
// that the scheduler keeps choosing it.
class GarbageEdge {
 public:
  explicit GarbageEdge(const brokers::ServiceEndpoints& cloud) : thread_([this, cloud] { run(cloud); }) {}
  ~GarbageEdge() {
    stop_ = true;
    thread_.join();
  }
  int tasks_received() const { return tasks_.load(); }

 private:
  void run(const brokers::ServiceEndpoints& cloud) {
    zmq::context_t context;
    zmq::socket_t tasks(context, zmq::socket_type::dealer), results(context, zmq::socket_type::push),
        events(context, zmq::socket_type::pub);
    for (auto* s : {&tasks, &results, &events}) s->set(zmq::sockopt::linger, 0);
    tasks.set(zmq::sockopt::routing_id, kGarbageId);
    tasks.connect(cloud.tasks);
    results.connect(cloud.results);
    events.connect(cloud.events);
    auto next_heartbeat = std::chrono::steady_clock::now();
    while (!stop_) {
      if (std::chrono::steady_clock::now() >= next_heartbeat) {
        (void)events.send(zmq::buffer(messages::encode(heartbeat())), zmq::send_flags::dontwait);
        (void)events.send(zmq::buffer(std::string("\x91\xc1 not a heartbeat")), zmq::send_flags::dontwait);
        next_heartbeat += std::chrono::milliseconds(100);
      }
      zmq::pollitem_t item{tasks.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t frame;
      if (!tasks.recv(frame, zmq::recv_flags::dontwait)) continue;
      messages::Envelope task = messages::decode(frame.to_string_view());
      for (const std::string& bytes : garbage_for(task, tasks_++))
        (void)results.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
      (void)tasks.send(zmq::buffer(std::string("\xff\x00garbage on the tasks socket", 28)), zmq::send_flags::dontwait);
    }
  }

  static messages::Envelope heartbeat() {
    messages::Heartbeat hb;
    hb.node_id = kGarbageId;
    hb.role = "edge";
    hb.models = {"garbage"};
    hb.batch_slots = 8;
    hb.tokens_per_s = 1e6;
    messages::Envelope env;
    env.sender = kGarbageId;
    env.body = hb;
    return env;
  }

  // Everything that answers `task` wrongly; n varies the mix from task to task.
  static std::vector<std::string> garbage_for(const messages::Envelope& task, int n) {
    const auto& body = std::get<messages::ExpansionTask>(task.body);
    auto result_env = [&](const std::string& task_id, int32_t index, const std::string& text) {
      messages::ExpansionResult r;
      r.point_index = index;
      r.text = text;
      r.node = kGarbageId;
      r.model = "garbage";
      messages::Envelope env;
      env.request_id = task.request_id;
      env.task_id = task_id;
      env.sender = kGarbageId;
      env.body = r;
      return env;
    };
    std::vector<std::string> out;
    // Over the size limit: the cloud's socket drops this connection (ZMQ_MAXMSGSIZE) and the PUSH
    // socket connects again by itself.
    if (n == 0) out.push_back(std::string(messages::kMaxMessageBytes + 1, 'x'));
    out.push_back(std::string("\xde\xad\xbe\xef", 4));
    std::string valid = messages::encode(result_env(task.task_id, body.point_index, "a real-looking expansion"));
    out.push_back(valid.substr(0, valid.size() / 2));  // truncated
    messages::Envelope future = result_env(task.task_id, body.point_index, "from a future schema");
    future.version = messages::kSchemaVersion + 1;
    out.push_back(messages::encode(future));
    out.push_back(std::string(1, '\x81') + "not an envelope");
    messages::Envelope wrong_type = result_env(task.task_id, body.point_index, "");
    messages::Request misplaced;
    misplaced.question = "a question where a result belongs";
    wrong_type.body = misplaced;
    out.push_back(messages::encode(wrong_type));
    out.push_back(messages::encode(result_env(task.request_id + "/999", 999, "a point that does not exist")));
    out.push_back(messages::encode(result_env("no-such-request/1", 1, "nobody asked")));
    // The last word is either a result under this task's id with another point's index, or an empty
    // expansion of the right point (alternating): neither may close the point.
    if (n % 2 == 0)
      out.push_back(messages::encode(result_env(task.task_id, body.point_index + 1, "the wrong point")));
    else
      out.push_back(messages::encode(result_env(task.task_id, body.point_index, "")));
    return out;
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> tasks_{0};
  std::thread thread_;
};

TEST(GarbageEdge, RequestsAreAnsweredByTheRealEdgeAndTheGarbageIsDropped) {
  TempDir dir;
  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
  const brokers::ServiceEndpoints endpoints = brokers::derive_endpoints(address);
  // Short deadlines: a point the garbage board holds is sent elsewhere within a second or two.
  const std::string fleet = "[fleet]\nheartbeat_ms = 100\nboard_timeout_ms = 1000\ntask_deadline_ms = 1500\n";
  std::ofstream(dir.path() / "cloud.toml") << "[node]\nrole = \"cloud\"\nid = \"cloud\"\nlisten = \"" << address
                                           << "\"\n[llm]\nmodel = \"synth:tiny\"\n[expand]\nmax_tokens = 12\n" << fleet;
  std::ofstream(dir.path() / "edge.toml") << "[node]\nrole = \"edge\"\nid = \"real-edge\"\nconnect = \"" << address
                                          << "\"\n[slm]\nmodel = \"synth:tiny\"\n" << fleet;
  ChildProcess cloud("cloud", {pice_binary(), "serve", "--config", (dir.path() / "cloud.toml").string()}, dir.path());
  ChildProcess edge("edge", {pice_binary(), "serve", "--config", (dir.path() / "edge.toml").string()}, dir.path());
  GarbageEdge garbage(endpoints);
  ASSERT_TRUE(wait_until(
      [&] {
        std::string log = cloud.stderr_text();
        return log.find("board 'real-edge' attached") != std::string::npos &&
               log.find("board 'garbage-edge' attached") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << cloud.stderr_text();

  constexpr int kRequests = 8;
  std::vector<actors::Answer> answers(kRequests);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i)
    clients.emplace_back([&, i] {
      actors::GatewayClient client(endpoints.gateway);
      messages::Request request;
      request.question = "Request " + std::to_string(i) + ": what are some tips for fixing a bicycle chain?";
      request.max_points = 3;
      answers[i] = client.ask(request, 240000);
    });
  for (auto& t : clients) t.join();

  const std::string log = cloud.stderr_text();
  EXPECT_GT(garbage.tasks_received(), 0) << "the garbage board was never given a task, so nothing was tested\n" << log;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(answers[i].complete()) << "request " << i << ": " << answers[i].error << "\ncloud log:\n" << log;
    for (const auto& p : answers[i].points) {
      EXPECT_NE(p.node, kGarbageId) << "request " << i << " point " << p.point_index << ": " << p.text;
      EXPECT_FALSE(p.text.empty()) << "request " << i << " point " << p.point_index;
    }
  }
  EXPECT_TRUE(cloud.running());
  EXPECT_TRUE(edge.running());
  EXPECT_NE(log.find("matches no open point; dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("an empty expansion"), std::string::npos) << log;
  EXPECT_NE(log.find("socket 'results' rejected"), std::string::npos) << "the pump names the garbage it rejects\n" << log;
}

}  // namespace
}  // namespace pice::testing
