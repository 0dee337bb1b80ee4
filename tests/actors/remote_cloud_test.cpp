// A cloud node whose model is a remote engine ([llm] url): its sketches, direct answers and fallback
// expansions are streamed chat completions of an OpenAI-compatible server (here another PICE node's
// HTTP API, standing in for vLLM, llama-server or Ollama). Four real processes on loopback: the
// server, the cloud, an edge that expands the points, and `pice ask`.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

class RemoteCloud : public ::testing::Test {
 protected:
  void SetUp() override {
    http_port_ = free_port_range(1);
    server_ = std::make_unique<ChildProcess>(
        "server",
        std::vector<std::string>{pice_binary(), "serve", "--config", source_path("config/all-in-one.toml"), "--http",
                                 "127.0.0.1:" + std::to_string(http_port_)},
        dir_.path());
    address_ = "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
    url_ = "http://127.0.0.1:" + std::to_string(http_port_) + "/v1";
    const std::filesystem::path cloud_config = dir_.path() / "cloud.toml";
    std::ofstream(cloud_config) << "[node]\nrole = \"cloud\"\nid = \"remote-cloud\"\nlisten = \"" << address_
                                << "\"\n[llm]\nurl = \"" << url_ << "\"\nmodel = \"pice\"\n";
    ASSERT_TRUE(wait_until([&] { return server_->stderr_text().find("http: serving") != std::string::npos; },
                           std::chrono::seconds(120)))
        << server_->stderr_text();
    cloud_ = std::make_unique<ChildProcess>(
        "cloud", std::vector<std::string>{pice_binary(), "serve", "--config", cloud_config.string()}, dir_.path());
  }

  // `pice ask --json` against the remote-model cloud; the parsed response.
  nlohmann::json ask(const std::string& mode, const std::string& question) {
    ChildProcess ask("ask",
                     {pice_binary(), "ask", "--connect", address_, "--mode", mode, "--json", "--timeout-ms", "300000",
                      question},
                     dir_.path());
    const auto status = ask.wait(std::chrono::seconds(320));
    EXPECT_EQ(status, std::optional<int>(0)) << ask.stderr_text() << "\ncloud log:\n" << cloud_->stderr_text();
    return nlohmann::json::parse(ask.stdout_text(), nullptr, false);
  }

  int server_completions() {
    HttpConnection metrics(http_port_);
    const std::string counters = metrics.request("GET", "/metrics").body;
    const std::string key = "pice_http_requests_total{code=\"200\"} ";
    const size_t at = counters.find(key);
    return at == std::string::npos ? 0 : std::stoi(counters.substr(at + key.size()));
  }

  TempDir dir_;
  int http_port_ = 0;
  std::string address_, url_;
  std::unique_ptr<ChildProcess> server_, cloud_;
};

TEST_F(RemoteCloud, TheServerWritesTheSketchAndTheEdgeExpandsIt) {
  ChildProcess edge("edge",
                    {pice_binary(), "serve", "--config", source_path("config/edge.toml"), "--connect", address_,
                     "--node-id", "board-1"},
                    dir_.path());
  ASSERT_TRUE(wait_until([&] { return cloud_->stderr_text().find("board 'board-1' attached") != std::string::npos; },
                         std::chrono::seconds(90)))
      << "cloud log:\n" << cloud_->stderr_text() << "\nedge log:\n" << edge.stderr_text();
  EXPECT_NE(cloud_->stderr_text().find("cloud model: remote engine pice@" + url_), std::string::npos)
      << cloud_->stderr_text();

  const nlohmann::json answer = ask("pice", "What are some tips for keeping houseplants healthy?");
  ASSERT_TRUE(answer.is_object()) << cloud_->stderr_text();
  EXPECT_EQ(answer["path"], "sketch") << answer.dump();
  ASSERT_FALSE(answer["sketch"].empty()) << answer.dump();
  ASSERT_EQ(answer["points"].size(), answer["sketch"].size()) << answer.dump();
  for (const auto& point : answer["points"]) {
    EXPECT_EQ(point["node"], "board-1") << answer.dump();
    EXPECT_FALSE(point["text"].get<std::string>().empty()) << answer.dump();
  }
  for (const auto& point : answer["sketch"]) EXPECT_FALSE(point.get<std::string>().empty()) << answer.dump();
  // The sketch was one streamed chat completion on the server; the edge's expansions ran on the edge.
  EXPECT_EQ(server_completions(), 1);
}

TEST_F(RemoteCloud, ADirectAnswerIsTheServersStreamedText) {
  const nlohmann::json answer = ask("cloud-only", "What is 2 + 2?");
  ASSERT_TRUE(answer.is_object()) << cloud_->stderr_text();
  EXPECT_EQ(answer["path"], "direct") << answer.dump();
  EXPECT_FALSE(answer["content"].get<std::string>().empty()) << answer.dump();
  ASSERT_EQ(answer["points"].size(), 1u) << answer.dump();
  EXPECT_EQ(answer["points"][0]["model"], "pice@" + url_) << answer.dump();
  EXPECT_EQ(answer["points"][0]["node"], "remote-cloud") << answer.dump();
  EXPECT_EQ(server_completions(), 1);
}

}  // namespace
}  // namespace pice::testing
