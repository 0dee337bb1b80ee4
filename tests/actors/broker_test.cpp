// The broker role: one broker process; two clouds and two edges all connect to it. Each cloud's
// scheduler learns of both boards from heartbeats through the broker's proxy, sends tasks through
// the broker by board id, and gets its own results back (addressed to it); `pice top` at the broker
// lists every node of the fleet.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include "tests/actors/fleet_process_support.hpp"

namespace pice::testing {
namespace {

class Broker : public ::testing::Test {
 protected:
  void SetUp() override {
    // One free range for all three addresses: separate picks could return the same range before the
    // first node has bound it.
    const int base = free_port_range(3 * brokers::kServiceEndpointCount);
    auto address = [&](int i) { return "tcp://127.0.0.1:" + std::to_string(base + i * brokers::kServiceEndpointCount); };
    broker_address_ = address(0);
    broker_ = start_node(dir_, "broker", "[node]\nrole = \"broker\"\nlisten = \"" + broker_address_ + "\"\n");
    int next = 1;
    for (const char* id : {"cloud-a", "cloud-b"}) {
      cloud_addresses_[id] = address(next++);
      clouds_[id] = start_node(dir_, id,
                               cloud_toml("connect = \"" + broker_address_ + "\"\nlisten = \"" + cloud_addresses_[id] +
                                          "\"\n"));
    }
    for (const char* id : {"edge-a", "edge-b"}) edges_[id] = start_node(dir_, id, edge_toml(broker_address_));
    // Both clouds learn of both boards from their heartbeats, relayed by the broker.
    bool attached = wait_until(
        [&] {
          for (auto& [cloud_id, cloud] : clouds_)
            for (const char* edge : {"edge-a", "edge-b"})
              if (!log_has(*cloud, std::string("board '") + edge + "' attached")) return false;
          return true;
        },
        std::chrono::seconds(60));
    ASSERT_TRUE(attached) << "cloud-a log:\n" << clouds_["cloud-a"]->stderr_text() << "\nbroker log:\n"
                          << broker_->stderr_text();
  }

  TempDir dir_;
  std::string broker_address_;
  std::unique_ptr<ChildProcess> broker_;
  std::map<std::string, std::string> cloud_addresses_;
  std::map<std::string, std::unique_ptr<ChildProcess>> clouds_, edges_;
};

TEST_F(Broker, TwoCloudsShareTheBoardsOfOneBroker) {
  constexpr int kPerCloud = 4;
  std::vector<actors::Answer> answers(2 * kPerCloud);
  std::vector<std::thread> clients;
  for (int i = 0; i < 2 * kPerCloud; ++i)
    clients.emplace_back([&, i] {
      const std::string& address = cloud_addresses_[i % 2 ? "cloud-b" : "cloud-a"];
      answers[i] = ask(address, "Request " + std::to_string(i) + ": what are some tips for keeping a garden tidy?");
    });
  for (auto& t : clients) t.join();

  std::map<std::string, int> points_by_node;
  for (int i = 0; i < 2 * kPerCloud; ++i) {
    ASSERT_TRUE(answers[i].complete()) << "request " << i << ": " << answers[i].error << "\nbroker log:\n"
                                       << broker_->stderr_text();
    for (const auto& p : answers[i].points) ++points_by_node[p.node];
  }
  EXPECT_GT(points_by_node["edge-a"], 0) << "edge-a expanded no point";
  EXPECT_GT(points_by_node["edge-b"], 0) << "edge-b expanded no point";
  EXPECT_EQ(points_by_node.count("cloud-a") + points_by_node.count("cloud-b"), 0u)
      << "a cloud expanded points itself although both boards were attached";
  // Each result went back to the cloud that sent its task: no cloud saw a result it did not expect.
  for (auto& [id, cloud] : clouds_) EXPECT_FALSE(log_has(*cloud, "unexpected")) << cloud->stderr_text();
  EXPECT_FALSE(log_has(*broker_, "names no addressee")) << broker_->stderr_text();
}

TEST_F(Broker, TopAtTheBrokerListsEveryNode) {
  std::string out;
  // Telemetry is published every second; the first window may miss a node that just started.
  bool all = wait_until(
      [&] {
        ChildProcess top("top", {pice_binary(), "top", "--once", "--window-ms", "1500", "--connect", broker_address_},
                         dir_.path());
        top.wait(std::chrono::seconds(30));
        out = top.stdout_text();
        for (const char* node : {"broker ", "cloud-a ", "cloud-b ", "edge-a ", "edge-b "})
          if (lines_with(out, node).size() != 1) return false;
        return out.find("5 nodes, 2 edges") != std::string::npos;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(all) << out;
  EXPECT_NE(lines_with(out, "broker ")[0].find(" broker "), std::string::npos) << out;
}

TEST_F(Broker, AKilledCloudDoesNotDisturbTheOther) {
  kill(clouds_["cloud-a"]->pid(), SIGKILL);
  const actors::Answer answer = ask(cloud_addresses_["cloud-b"], "How do I learn to cook?");
  ASSERT_TRUE(answer.complete()) << answer.error;
  for (const auto& p : answer.points) EXPECT_TRUE(p.node == "edge-a" || p.node == "edge-b") << p.node;
  EXPECT_TRUE(broker_->running());
}

}  // namespace
}  // namespace pice::testing

namespace pice::testing {
namespace {

// An edge killed behind the broker: the broker refuses tasks for it (bounced back to their cloud) and
// its heartbeats stop; every request is still answered completely.
TEST_F(Broker, AnEdgeKilledBehindTheBrokerLosesNoRequest) {
  auto late = start_node(dir_, "edge-c", edge_toml(broker_address_));
  ASSERT_TRUE(wait_until([&] { return log_has(*clouds_["cloud-a"], "board 'edge-c' attached"); },
                         std::chrono::seconds(60)));
  constexpr int kRequests = 6;
  std::vector<actors::Answer> answers(kRequests);
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i)
    clients.emplace_back([&, i] {
      answers[i] = ask(cloud_addresses_[i % 2 ? "cloud-b" : "cloud-a"], "Request " + std::to_string(i) + ": what are some good reasons to rest?");
      ++finished;
    });
  EXPECT_TRUE(wait_until([&] { return finished.load() >= 1; }, std::chrono::seconds(120)));
  kill(edges_["edge-a"]->pid(), SIGKILL);
  for (auto& t : clients) t.join();
  for (int i = 0; i < kRequests; ++i)
    EXPECT_TRUE(answers[i].complete()) << "request " << i << ": " << answers[i].error << "\nbroker log:\n"
                                       << broker_->stderr_text();
  EXPECT_TRUE(wait_until([&] { return log_has(*clouds_["cloud-a"], "board 'edge-a' silent"); }, std::chrono::seconds(30)));
  EXPECT_TRUE(broker_->running());
}

}  // namespace
}  // namespace pice::testing
