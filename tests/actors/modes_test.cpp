// The four modes end to end on a real in-process all-in-one node (synthetic models, inproc sockets):
// each answers completely by its path; the sketch budget shrinks when the cloud is loaded; edge
// expansions start while the sketch is still being written.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "actors/client.hpp"
#include "actors/node.hpp"
#include "config/node_config.hpp"
#include "messages/envelope.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

constexpr int kTimeoutMs = 240000;
constexpr const char* kListLike = "What are some tips for staying healthy and fit?";
constexpr const char* kCode = "Write a Python function that returns the nth Fibonacci number.";

config::NodeConfig node_config(const std::string& id, int edges, const std::string& llm, const std::string& extra) {
  return config::parse("[node]\nid = \"" + id + "\"\nrole = \"all-in-one\"\nlisten = \"inproc://" + id +
                           "\"\nlocal_edges = " + std::to_string(edges) + "\n[llm]\nmodel = \"" + llm +
                           "\"\n[slm]\nmodel = \"synth:tiny\"\n[expand]\nmax_tokens = 12\n" + extra,
                       "<test config " + id + ">");
}

std::unique_ptr<actors::Node> start(const config::NodeConfig& config) {
  auto node = actors::Node::start(config);
  EXPECT_TRUE(wait_until([&] { return node->known_boards() == config.local_edges; }, std::chrono::seconds(30)));
  return node;
}

messages::Request ask(const std::string& question, const std::string& mode) {
  messages::Request r;
  r.question = question;
  r.mode = mode;
  r.max_tokens_per_point = 12;
  return r;
}

bool on_an_edge(const std::string& node) { return node.find("-edge-") != std::string::npos; }

TEST(Modes, EveryModeAnswersCompletelyByItsPath) {
  auto node = start(node_config("modes", 2, "synth:tiny", "[sketch]\nmin_points = 2\nmax_points = 4\n"));
  actors::GatewayClient client(node->gateway_endpoint());

  auto pice = client.ask(ask(kListLike, "pice"), kTimeoutMs);
  ASSERT_TRUE(pice.complete()) << pice.error;
  EXPECT_EQ(pice.mode, "pice");
  EXPECT_EQ(pice.path, "sketch") << pice.reason;
  EXPECT_NE(pice.reason.find("router"), std::string::npos) << pice.reason;
  for (const auto& p : pice.points) EXPECT_TRUE(on_an_edge(p.node)) << p.node;
  EXPECT_GT(pice.done.budget_points, 0);
  EXPECT_GT(pice.done.tokens, 0);

  auto pice_code = client.ask(ask(kCode, "pice"), kTimeoutMs);
  ASSERT_TRUE(pice_code.complete()) << pice_code.error;
  EXPECT_EQ(pice_code.path, "direct") << pice_code.reason;
  EXPECT_EQ(pice_code.done.node, "modes");  // the cloud wrote it

  auto sot = client.ask(ask(kListLike, "sot"), kTimeoutMs);
  ASSERT_TRUE(sot.complete()) << sot.error;
  EXPECT_EQ(sot.path, "sketch-cloud");
  for (const auto& p : sot.points) EXPECT_EQ(p.node, "modes") << "sot expands on the cloud";

  auto route_easy = client.ask(ask(kListLike, "route"), kTimeoutMs);
  ASSERT_TRUE(route_easy.complete()) << route_easy.error;
  EXPECT_EQ(route_easy.path, "direct-edge") << route_easy.reason;
  EXPECT_TRUE(on_an_edge(route_easy.done.node)) << route_easy.done.node;
  EXPECT_TRUE(route_easy.sketch.empty());
  EXPECT_FALSE(route_easy.text.empty());

  auto route_hard = client.ask(ask(kCode, "route"), kTimeoutMs);
  ASSERT_TRUE(route_hard.complete()) << route_hard.error;
  EXPECT_EQ(route_hard.path, "direct");
  EXPECT_EQ(route_hard.done.node, "modes");

  messages::Request direct = ask(kListLike, "cloud-only");
  direct.max_tokens_per_point = 20;
  direct.ignore_eos = true;
  int text_chunks = 0;
  auto cloud = client.ask(direct, kTimeoutMs, [&](const messages::AnswerChunk& c) {
    if (c.kind == messages::ChunkKind::text) ++text_chunks;
  });
  ASSERT_TRUE(cloud.complete()) << cloud.error;
  EXPECT_EQ(cloud.path, "direct");
  EXPECT_TRUE(cloud.sketch.empty());
  EXPECT_GT(text_chunks, 1) << "a direct answer streams as it is written";
  EXPECT_EQ(cloud.done.tokens, 20) << "ignore_eos: exactly max_tokens tokens";
  EXPECT_GT(cloud.done.prompt_tokens, 0);
  node->stop();
}

TEST(Modes, TheConfiguredModeServesRequestsThatNameNone) {
  auto node = start(node_config("modes-default", 1, "synth:tiny", "[scheduler]\nmode = \"cloud-only\"\n"));
  actors::GatewayClient client(node->gateway_endpoint());
  auto answer = client.ask(ask(kListLike, ""), kTimeoutMs);
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_EQ(answer.mode, "cloud-only");
  EXPECT_EQ(answer.path, "direct");
  node->stop();
}

TEST(Modes, WithoutEdgesPiceFallsBackToSketchOnTheCloudWhenConfigured) {
  auto node = start(node_config("modes-noedge", 0, "synth:tiny", "[scheduler]\nno_edges = \"sot\"\n"));
  actors::GatewayClient client(node->gateway_endpoint());
  auto answer = client.ask(ask(kListLike, "pice"), kTimeoutMs);
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_EQ(answer.path, "sketch-cloud");
  EXPECT_NE(answer.reason.find("no edge boards"), std::string::npos) << answer.reason;
  node->stop();
}

// Direct answers of 300 tokens on the slower demo model keep the cloud busy; a request arriving
// meanwhile meets a queue and gets a smaller sketch budget than the same request on an idle cloud.
TEST(Modes, ALoadedCloudGetsASmallerSketchBudget) {
  auto node = start(node_config("modes-load", 1, "synth:demo",
                                "[sketch]\nmin_points = 2\nmax_points = 8\nmax_words_per_point = 8\n"
                                "[scheduler]\ncloud_queue_high = 2\nmin_words_per_point = 2\nedge_queue_limit = 16\n"
                                "cloud_latency_high_ms = 3600000\n"));
  actors::GatewayClient probe_client(node->gateway_endpoint());
  auto idle = probe_client.ask(ask(kListLike, "pice"), kTimeoutMs);
  ASSERT_TRUE(idle.complete()) << idle.error;
  EXPECT_EQ(idle.done.budget_points, 8) << idle.reason;
  EXPECT_EQ(idle.done.budget_words, 8) << idle.reason;

  constexpr int kLoaders = 3;
  std::atomic<int> started{0};
  std::vector<std::thread> loaders;
  for (int i = 0; i < kLoaders; ++i)
    loaders.emplace_back([&, i] {
      actors::GatewayClient c(node->gateway_endpoint());
      messages::Request r = ask("Load " + std::to_string(i) + ": tell a long story.", "cloud-only");
      r.max_tokens_per_point = 300;
      r.ignore_eos = true;
      c.ask(r, kTimeoutMs, [&](const messages::AnswerChunk&) { ++started; });
    });
  // Once the first loader streams, all three are queued at the cloud (they were sent before).
  ASSERT_TRUE(wait_until([&] { return started.load() > 0; }, std::chrono::seconds(120)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto loaded = probe_client.ask(ask(kListLike, "pice"), kTimeoutMs);
  for (auto& t : loaders) t.join();
  ASSERT_TRUE(loaded.complete()) << loaded.error;
  EXPECT_LT(loaded.done.budget_points, idle.done.budget_points) << loaded.reason;
  EXPECT_LT(loaded.done.budget_words, idle.done.budget_words) << loaded.reason;
  EXPECT_LE(static_cast<int>(loaded.sketch.size()), loaded.done.budget_points);
  EXPECT_NE(loaded.reason.find("cloud queue"), std::string::npos) << loaded.reason;
  node->stop();
}

// Pipelining, by timestamps: the cloud (demo model) writes a sketch of 6 points; the edges (tiny
// model) start expanding the first points before the last point of the sketch exists.
TEST(Modes, EdgeExpansionsStartBeforeTheSketchEnds) {
  auto node = start(node_config("modes-pipe", 2, "synth:demo",
                                "[sketch]\nmin_points = 6\nmax_points = 6\nmax_words_per_point = 10\n"
                                "[scheduler]\nadaptive_budget = false\n"));
  actors::GatewayClient client(node->gateway_endpoint());
  int64_t last_sketch_point_us = 0;
  std::vector<std::string> order;
  auto answer = client.ask(ask(kListLike, "pice"), kTimeoutMs, [&](const messages::AnswerChunk& c) {
    if (c.kind == messages::ChunkKind::sketch_point) {
      order.push_back("s" + std::to_string(c.point_index));
      if (c.point_index == 6) last_sketch_point_us = messages::now_us();
    }
    if (c.kind == messages::ChunkKind::expansion) order.push_back("e" + std::to_string(c.point_index));
  });
  ASSERT_TRUE(answer.complete()) << answer.error;
  ASSERT_EQ(answer.path, "sketch") << answer.reason;
  ASSERT_EQ(answer.sketch.size(), 6u);
  ASSERT_GT(last_sketch_point_us, 0);
  std::string seen;
  for (const auto& o : order) seen += o + " ";
  const auto& first = answer.points.front();
  EXPECT_TRUE(on_an_edge(first.node)) << first.node;
  ASSERT_GT(first.timings.started_us, 0);
  EXPECT_LT(first.timings.started_us, last_sketch_point_us)
      << "point 1 started " << (first.timings.started_us - last_sketch_point_us) / 1000.0
      << " ms after the last sketch point; chunk order: " << seen;
  node->stop();
}

}  // namespace
}  // namespace pice::testing
