// One cloud and two edge processes on loopback tcp, started from the example configs.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

class MultiProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    base_port_ = free_port_range(brokers::kServiceEndpointCount);
    address_ = "tcp://127.0.0.1:" + std::to_string(base_port_);
    cloud_ = std::make_unique<ChildProcess>(
        "cloud", std::vector<std::string>{pice_binary(), "serve", "--config", source_path("config/cloud.toml"),
                                          "--listen", address_, "--node-id", "cloud"},
        logs_.path());
    for (const char* id : {"edge-a", "edge-b"})
      edges_.push_back(std::make_unique<ChildProcess>(
          id, std::vector<std::string>{pice_binary(), "serve", "--config", source_path("config/edge.toml"),
                                       "--connect", address_, "--node-id", id},
          logs_.path()));
    // The cloud logs each board it learns of from heartbeats; wait for both (no fixed sleep).
    bool attached = wait_until(
        [&] {
          std::string log = cloud_->stderr_text();
          return log.find("board 'edge-a' attached") != std::string::npos &&
                 log.find("board 'edge-b' attached") != std::string::npos;
        },
        std::chrono::seconds(60));
    ASSERT_TRUE(attached) << "cloud log:\n" << cloud_->stderr_text() << "\nedge-a log:\n" << edges_[0]->stderr_text();
  }

  TempDir logs_;
  int base_port_ = 0;
  std::string address_;
  std::unique_ptr<ChildProcess> cloud_;
  std::vector<std::unique_ptr<ChildProcess>> edges_;
};

TEST_F(MultiProcess, TenRequestsAreAnsweredCompletelyByBothEdges) {
  const std::string gateway = brokers::derive_endpoints(address_).gateway;
  constexpr int kRequests = 10;
  std::vector<actors::Answer> answers(kRequests);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i)
    clients.emplace_back([&, i] {
      actors::GatewayClient client(gateway);
      messages::Request request;
      request.question = "Request " + std::to_string(i) + ": what are some tips for building a good team?";
      answers[i] = client.ask(request, 240000);
    });
  for (auto& t : clients) t.join();

  std::map<std::string, int> points_by_node;
  for (int i = 0; i < kRequests; ++i) {
    const auto& a = answers[i];
    ASSERT_TRUE(a.complete()) << "request " << i << ": " << a.error << "\ncloud log:\n" << cloud_->stderr_text();
    ASSERT_GE(a.sketch.size(), 2u);
    for (const auto& p : a.points) {
      EXPECT_FALSE(p.text.empty());
      ++points_by_node[p.node];
    }
  }
  EXPECT_GT(points_by_node["edge-a"], 0) << "edge-a expanded no point";
  EXPECT_GT(points_by_node["edge-b"], 0) << "edge-b expanded no point";
  EXPECT_EQ(points_by_node.count("cloud"), 0u) << "the cloud fell back although both edges were attached";
  EXPECT_TRUE(cloud_->running());
}

TEST_F(MultiProcess, PiceAskConnectsToTheCloud) {
  ChildProcess ask("ask", {pice_binary(), "ask", "--json-chunks", "--connect", address_, "What are some reasons cats purr?"}, logs_.path());
  auto status = ask.wait(std::chrono::seconds(240));
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << ask.stderr_text();
  auto expansions = lines_with(ask.stdout_text(), "\"kind\":\"expansion\"");
  ASSERT_GE(expansions.size(), 2u) << ask.stdout_text();
  for (const auto& line : expansions) {
    std::string node = json_field(line, "node");
    EXPECT_TRUE(node == "edge-a" || node == "edge-b") << line;
  }
}

TEST_F(MultiProcess, PiceTopListsEveryLiveNode) {
  ChildProcess top("top", {pice_binary(), "top", "--once", "--connect", address_}, logs_.path());
  auto status = top.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << top.stderr_text();
  const std::string out = top.stdout_text();
  EXPECT_EQ(lines_with(out, "cloud ").size(), 1u) << out;  // the cloud reports telemetry
  ASSERT_EQ(lines_with(out, "edge-a ").size(), 1u) << out;
  ASSERT_EQ(lines_with(out, "edge-b ").size(), 1u) << out;
  EXPECT_NE(lines_with(out, "edge-a ")[0].find(" edge "), std::string::npos) << out;
  EXPECT_NE(out.find("3 nodes, 2 edges"), std::string::npos) << out;
}

TEST_F(MultiProcess, TelemetryCountsTheWorkDone) {
  const std::string gateway = brokers::derive_endpoints(address_).gateway;
  actors::GatewayClient client(gateway);
  messages::Request request;
  request.question = "What are some tips to help a seedling grow?";
  auto answer = client.ask(request, 120000);
  ASSERT_TRUE(answer.complete()) << answer.error;
  // Telemetry is published every second; wait until the cloud reports the finished request.
  std::string out;
  bool counted = wait_until(
      [&] {
        ChildProcess top("top", {pice_binary(), "top", "--once", "--window-ms", "1200", "--connect", address_},
                         logs_.path());
        top.wait(std::chrono::seconds(30));
        out = top.stdout_text();
        auto cloud = lines_with(out, "cloud ");
        return !cloud.empty() && out.find(", 1 requests") != std::string::npos &&
               out.find(std::to_string(answer.points.size()) + " points expanded") != std::string::npos;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(counted) << out;
}

}  // namespace
}  // namespace pice::testing
