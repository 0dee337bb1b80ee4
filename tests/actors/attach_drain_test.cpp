// Boards come and go at runtime: one started after the cloud takes work within a bounded time, and
// one told to stop (SIGTERM) drains: its heartbeats say so, the scheduler places nothing new on it,
// it finishes what it has and exits cleanly, and no request notices.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include "tests/actors/fleet_process_support.hpp"

namespace pice::testing {
namespace {

// Generous: the test machines are small and shared. The point is that attaching is not open-ended.
constexpr auto kAttachBound = std::chrono::seconds(20);

TEST(AttachAtRuntime, ABoardStartedAfterTheCloudTakesWorkWithinABoundedTime) {
  TempDir dir;
  const std::string address = loopback_address();
  auto cloud = start_node(dir, "cloud", cloud_toml("listen = \"" + address + "\"\n"));
  // No board yet: the cloud expands every point itself.
  const actors::Answer alone = ask(address, "What makes bread rise?");
  ASSERT_TRUE(alone.complete()) << alone.error << "\n" << cloud->stderr_text();
  for (const auto& p : alone.points) EXPECT_EQ(p.node, "cloud");

  const auto started = std::chrono::steady_clock::now();
  auto edge = start_node(dir, "late-edge", edge_toml(address));
  ASSERT_TRUE(wait_until([&] { return log_has(*cloud, "board 'late-edge' attached"); }, kAttachBound))
      << cloud->stderr_text() << "\nedge log:\n" << edge->stderr_text();
  const actors::Answer answer = ask(address, "How do birds find their way?");
  ASSERT_TRUE(answer.complete()) << answer.error;
  for (const auto& p : answer.points) EXPECT_EQ(p.node, "late-edge");
  EXPECT_LT(std::chrono::steady_clock::now() - started, kAttachBound + std::chrono::seconds(240));
}

TEST(Drain, ADrainedBoardFinishesItsTasksTakesNoMoreAndExits) {
  TempDir dir;
  const std::string address = loopback_address();
  auto cloud = start_node(dir, "cloud", cloud_toml("listen = \"" + address + "\"\n", 160));
  std::map<std::string, std::unique_ptr<ChildProcess>> edges;
  for (const char* id : {"edge-a", "edge-b"}) edges[id] = start_node(dir, id, edge_toml(address));
  ASSERT_TRUE(wait_until(
      [&] { return log_has(*cloud, "board 'edge-a' attached") && log_has(*cloud, "board 'edge-b' attached"); },
      std::chrono::seconds(60)))
      << cloud->stderr_text();

  constexpr int kRequests = 6;
  std::vector<actors::Answer> answers(kRequests);
  std::atomic<int> sketched{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i)
    clients.emplace_back([&, i] {
      actors::GatewayClient client(brokers::derive_endpoints(address).gateway);
      messages::Request request;
      request.question = "Request " + std::to_string(i) + ": what are some tips for training for a long run?";
      bool counted = false;
      answers[i] = client.ask(request, 240000, [&](const messages::AnswerChunk& chunk) {
        if (chunk.kind == messages::ChunkKind::sketch_point && !counted) counted = (++sketched, true);
      });
    });
  // Drain while points are queued on both boards. EXPECT, not ASSERT: the clients must be joined.
  EXPECT_TRUE(wait_until([&] { return sketched.load() >= kRequests; }, std::chrono::seconds(120)));
  kill(edges["edge-a"]->pid(), SIGTERM);
  const auto exit_status = edges["edge-a"]->wait(std::chrono::seconds(200));
  for (auto& t : clients) t.join();

  ASSERT_TRUE(exit_status.has_value()) << "edge-a did not exit after draining:\n" << edges["edge-a"]->stderr_text();
  EXPECT_EQ(*exit_status, 0) << edges["edge-a"]->stderr_text();
  EXPECT_TRUE(log_has(*edges["edge-a"], "'edge-a' drained")) << edges["edge-a"]->stderr_text();
  EXPECT_TRUE(log_has(*cloud, "board 'edge-a' is draining")) << cloud->stderr_text();
  int on_a = 0;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(answers[i].complete()) << "request " << i << ": " << answers[i].error;
    for (const auto& p : answers[i].points) on_a += p.node == "edge-a";
  }
  EXPECT_GT(on_a, 0) << "edge-a expanded nothing";
  // The drain hit queued work (the edge logs how much it had), and that work was finished there.
  const std::string edge_log = edges["edge-a"]->stderr_text();
  const size_t at = edge_log.find("draining with ");
  ASSERT_NE(at, std::string::npos) << edge_log;
  EXPECT_GT(std::stoi(edge_log.substr(at + std::string("draining with ").size())), 0) << edge_log;
  // What edge-a had, it finished: none of its points had to be sent again.
  EXPECT_FALSE(log_has(*cloud, "on 'edge-a' lost its board")) << cloud->stderr_text();
  EXPECT_FALSE(log_has(*cloud, "on 'edge-a' passed its deadline")) << cloud->stderr_text();

  // After the drain, new work goes to the remaining board only.
  const actors::Answer after = ask(address, "What keeps a bicycle upright?");
  ASSERT_TRUE(after.complete()) << after.error;
  for (const auto& p : after.points) EXPECT_EQ(p.node, "edge-b");
}

}  // namespace
}  // namespace pice::testing

namespace pice::testing {
namespace {

// `pice drain` reaches the board through the cloud it is attached to; the board drains and exits.
TEST(Drain, PiceDrainTellsABoardToDrainRemotely) {
  TempDir dir;
  const std::string address = loopback_address();
  auto cloud = start_node(dir, "cloud", cloud_toml("listen = \"" + address + "\"\n"));
  auto edge = start_node(dir, "edge-r", edge_toml(address));
  ASSERT_TRUE(wait_until([&] { return log_has(*cloud, "board 'edge-r' attached"); }, std::chrono::seconds(60)));
  ChildProcess drain("drain", {pice_binary(), "drain", "--connect", address, "--node", "edge-r"}, dir.path());
  const auto status = drain.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << drain.stderr_text();
  EXPECT_NE(drain.stdout_text().find("board 'edge-r' is draining"), std::string::npos) << drain.stdout_text();
  const auto edge_status = edge->wait(std::chrono::seconds(60));
  ASSERT_TRUE(edge_status.has_value()) << edge->stderr_text();
  EXPECT_EQ(*edge_status, 0);
  EXPECT_TRUE(log_has(*edge, "drain requested by 'pice-drain'")) << edge->stderr_text();
  EXPECT_TRUE(log_has(*cloud, "board 'edge-r' is draining")) << cloud->stderr_text();
  // A board nobody knows: a clear failure, not a hang.
  ChildProcess unknown("unknown", {pice_binary(), "drain", "--connect", address, "--node", "no-such-board",
                                   "--timeout-ms", "1500"},
                       dir.path());
  const auto unknown_status = unknown.wait(std::chrono::seconds(30));
  ASSERT_TRUE(unknown_status.has_value());
  EXPECT_EQ(*unknown_status, 1);
  EXPECT_NE(unknown.stderr_text().find("no draining heartbeat from board 'no-such-board'"), std::string::npos);
}

}  // namespace
}  // namespace pice::testing
