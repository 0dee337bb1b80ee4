// An edge node whose model is a remote engine: it sends each point to an OpenAI-compatible server (here
// another PICE node's HTTP API, standing in for llama-server on a board's GPU) and answers the cloud
// with what the server wrote. Three real processes on loopback.
#include <gtest/gtest.h>

#include <fstream>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

TEST(RemoteEdge, PointsAreExpandedByTheServerTheEdgeNames) {
  TempDir dir;
  const int http_port = free_port_range(1);
  ChildProcess server("server",
                      {pice_binary(), "serve", "--config", source_path("config/all-in-one.toml"), "--http",
                       "127.0.0.1:" + std::to_string(http_port)},
                      dir.path());
  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
  ChildProcess cloud("cloud",
                     {pice_binary(), "serve", "--config", source_path("config/cloud.toml"), "--listen", address,
                      "--node-id", "cloud"},
                     dir.path());
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/v1";
  const std::filesystem::path edge_config = dir.path() / "edge.toml";
  std::ofstream(edge_config) << "[node]\nrole = \"edge\"\nid = \"remote-edge\"\nconnect = \"" << address
                             << "\"\n[slm]\nurl = \"" << url << "\"\nmodel = \"pice\"\nthreads = 2\n";
  ASSERT_TRUE(wait_until([&] { return server.stderr_text().find("http: serving") != std::string::npos; },
                         std::chrono::seconds(120)))
      << server.stderr_text();
  ChildProcess edge("edge", {pice_binary(), "serve", "--config", edge_config.string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return cloud.stderr_text().find("board 'remote-edge' attached") != std::string::npos; },
                         std::chrono::seconds(90)))
      << "cloud log:\n" << cloud.stderr_text() << "\nedge log:\n" << edge.stderr_text();

  actors::GatewayClient client(brokers::derive_endpoints(address).gateway);
  messages::Request request;
  request.question = "What are some tips for keeping houseplants healthy?";
  request.mode = "pice";
  actors::Answer answer = client.ask(request, 300000);
  ASSERT_TRUE(answer.complete()) << answer.error << "\ncloud log:\n" << cloud.stderr_text() << "\nedge log:\n"
                                 << edge.stderr_text();
  ASSERT_FALSE(answer.points.empty()) << "path " << answer.path << ": " << answer.reason;
  for (const auto& point : answer.points) {
    EXPECT_EQ(point.node, "remote-edge");
    EXPECT_EQ(point.model, "pice@" + url);
    EXPECT_FALSE(point.text.empty());
  }
  // Every point was one chat completion on the server.
  HttpConnection metrics(http_port);
  const std::string counters = metrics.request("GET", "/metrics").body;
  EXPECT_NE(counters.find("pice_http_requests_total{code=\"200\"} " + std::to_string(answer.points.size()) + "\n"),
            std::string::npos)
      << counters;
}

TEST(RemoteEdge, AServerThatIsDownFailsThePointsOverToTheCloud) {
  TempDir dir;
  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
  ChildProcess cloud("cloud",
                     {pice_binary(), "serve", "--config", source_path("config/cloud.toml"), "--listen", address,
                      "--node-id", "cloud"},
                     dir.path());
  const std::filesystem::path edge_config = dir.path() / "edge.toml";
  std::ofstream(edge_config) << "[node]\nrole = \"edge\"\nid = \"remote-edge\"\nconnect = \"" << address
                             << "\"\n[slm]\nurl = \"http://127.0.0.1:" << free_port_range(1) << "/v1\"\nmodel = \"m\"\n";
  ChildProcess edge("edge", {pice_binary(), "serve", "--config", edge_config.string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return cloud.stderr_text().find("board 'remote-edge' attached") != std::string::npos; },
                         std::chrono::seconds(90)))
      << cloud.stderr_text();
  actors::GatewayClient client(brokers::derive_endpoints(address).gateway);
  messages::Request request;
  request.question = "What are some tips for keeping houseplants healthy?";
  request.mode = "pice";
  actors::Answer answer = client.ask(request, 300000);
  ASSERT_TRUE(answer.complete()) << answer.error << "\nedge log:\n" << edge.stderr_text();
  for (const auto& point : answer.points) EXPECT_EQ(point.node, "cloud") << "a failed remote point was not redone";
  EXPECT_TRUE(edge.running());
}

}  // namespace
}  // namespace pice::testing
