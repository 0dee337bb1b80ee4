// The gateway's /metrics exports the fleet's telemetry: a cloud process serving HTTP and an edge
// process; after one request, /metrics lists both nodes, the edge's counters and gauges, and the
// cloud's request-latency histogram counting that request.
#include <gtest/gtest.h>

#include <zmq.hpp>

#include <map>
#include <optional>

#include "messages/envelope.hpp"
#include "tests/actors/fleet_process_support.hpp"
#include "tests/actors/http_test_client.hpp"

namespace pice::testing {
namespace {

TEST(FleetMetrics, SlashMetricsListsEveryLiveNodeWithHistograms) {
  TempDir dir;
  const std::string address = loopback_address();
  const int http_port = free_port_range(1);
  auto cloud = start_node(dir, "cloud",
                          cloud_toml("listen = \"" + address + "\"\n") + "[http]\nlisten = \"127.0.0.1:" +
                              std::to_string(http_port) + "\"\n");
  auto edge = start_node(dir, "edge-m", edge_toml(address));
  ASSERT_TRUE(wait_until([&] { return log_has(*cloud, "board 'edge-m' attached"); }, std::chrono::seconds(60)))
      << cloud->stderr_text();
  const actors::Answer answer = ask(address, "What are some tips for keeping houseplants alive?");
  ASSERT_TRUE(answer.complete()) << answer.error;

  // Telemetry is published every second by each node: wait until both report the finished work.
  const std::string edge_done = "pice_node_tasks_done_total{node=\"edge-m\",role=\"edge\"} " +
                                std::to_string(answer.points.size()) + "\n";
  std::string text;
  const bool exported = wait_until(
      [&] {
        HttpConnection c(http_port);
        text = c.request("GET", "/metrics").body;
        return text.find("pice_node_request_ms_count{node=\"cloud\",role=\"cloud\"} 1\n") != std::string::npos &&
               text.find(edge_done) != std::string::npos;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(exported) << text;
  EXPECT_NE(text.find("pice_node_up{node=\"cloud\",role=\"cloud\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pice_node_up{node=\"edge-m\",role=\"edge\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pice_node_queue_depth{node=\"edge-m\",role=\"edge\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("pice_node_expand_ms_bucket{node=\"edge-m\",role=\"edge\",le=\"+Inf\"} " +
                      std::to_string(answer.points.size()) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pice_node_redispatches_total{node=\"cloud\",role=\"cloud\"} 0\n"), std::string::npos) << text;
  // The gateway's own metrics are still there.
  EXPECT_NE(text.find("pice_http_inflight_requests"), std::string::npos) << text;
}

// Every step of a request is published as a span on the events socket, so a monitor can follow it;
// the edge's heartbeats there carry its capacity (batch slots, free KV, speed) and version.
TEST(FleetSpans, OneRequestYieldsRequestPointAndExpandSpans) {
  TempDir dir;
  const std::string address = loopback_address();
  auto cloud = start_node(dir, "cloud", cloud_toml("listen = \"" + address + "\"\n"));
  auto edge = start_node(dir, "edge-s", edge_toml(address));
  ASSERT_TRUE(wait_until([&] { return log_has(*cloud, "board 'edge-s' attached"); }, std::chrono::seconds(60)));

  zmq::context_t context;
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(brokers::derive_endpoints(address).monitor);
  // A subscription takes a moment to reach the publisher: wait until something (telemetry) arrives.
  zmq::message_t msg;
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  ASSERT_TRUE(sub.recv(msg));

  const actors::Answer answer = ask(address, "What are some ways to make a good habit stick?");
  ASSERT_TRUE(answer.complete()) << answer.error;
  std::multimap<std::string, messages::Envelope> spans;   // by span name
  std::optional<messages::Heartbeat> heartbeat;           // the edge's, with every capacity field
  bool request_seen = false;
  sub.set(zmq::sockopt::rcvtimeo, 200);
  wait_until(
      [&] {
        while (sub.recv(msg, zmq::recv_flags::dontwait)) {
          messages::Envelope env = messages::decode(msg.to_string_view());
          if (const auto* span = std::get_if<messages::Span>(&env.body)) {
            request_seen |= span->name == "request";
            spans.emplace(span->name, env);
          }
          if (const auto* hb = std::get_if<messages::Heartbeat>(&env.body)) heartbeat = *hb;
        }
        // A heartbeat published after the board's first expansion, so that it reports a speed.
        return request_seen && spans.count("expand") >= answer.points.size() && heartbeat && heartbeat->tokens_per_s > 0;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(heartbeat.has_value());
  EXPECT_EQ(heartbeat->node_id, "edge-s");
  EXPECT_EQ(heartbeat->role, "edge");
  EXPECT_EQ(heartbeat->models.size(), 1u);
  EXPECT_GE(heartbeat->batch_slots, 1);
  EXPECT_GT(heartbeat->free_kv_tokens, 0);
  EXPECT_GT(heartbeat->tokens_per_s, 0);   // it has expanded points by now
  EXPECT_FALSE(heartbeat->version.empty());
  EXPECT_FALSE(heartbeat->draining);
  ASSERT_EQ(spans.count("request"), 1u);
  EXPECT_EQ(spans.count("point"), answer.points.size());
  EXPECT_EQ(spans.count("expand"), answer.points.size());
  const std::string request_id = spans.find("request")->second.request_id;
  for (const auto& [name, env] : spans) {
    const auto& span = std::get<messages::Span>(env.body);
    EXPECT_EQ(env.request_id, request_id) << name;
    EXPECT_LE(span.start_us, span.end_us) << name;
    if (name == "point") {
      EXPECT_EQ(span.node, "cloud");
      EXPECT_EQ(span.attributes.at("board"), "edge-s");
      EXPECT_EQ(span.attributes.at("attempts"), "1");
    }
    if (name == "expand") {
      EXPECT_EQ(span.node, "edge-s");
      EXPECT_FALSE(env.task_id.empty());
      EXPECT_GT(std::stoi(span.attributes.at("tokens")), 0);
    }
  }
}

}  // namespace
}  // namespace pice::testing
