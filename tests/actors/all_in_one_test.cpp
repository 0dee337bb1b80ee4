// The embedded all-in-one default, end to end: the real binary, and the same node in-process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "actors/client.hpp"
#include "actors/node.hpp"
#include "config/node_config.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/tiny_all_in_one.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

constexpr auto kAnswerTimeout = std::chrono::seconds(240);

TEST(AllInOne, PiceAskPrintsAProgressiveAnswerWithEveryPointExpanded) {
  TempDir logs;
  ChildProcess ask("ask", {pice_binary(), "ask", "--json-chunks", "What are good habits for staying healthy?"}, logs.path());
  auto status = ask.wait(kAnswerTimeout);
  ASSERT_TRUE(status.has_value()) << "pice ask did not finish";
  ASSERT_EQ(*status, 0) << ask.stderr_text();
  std::string out = ask.stdout_text();
  auto sketch = lines_with(out, "\"kind\":\"sketch_point\"");
  auto expansions = lines_with(out, "\"kind\":\"expansion\"");
  ASSERT_GE(sketch.size(), 2u) << out;
  ASSERT_EQ(expansions.size(), sketch.size()) << out;
  for (size_t i = 0; i < expansions.size(); ++i) {
    EXPECT_NE(expansions[i].find("\"point\":" + std::to_string(i + 1) + ","), std::string::npos)
        << "expansions must stream in point order: " << expansions[i];
    EXPECT_FALSE(json_field(expansions[i], "text").empty()) << expansions[i];
    // The built-in config runs two in-process edges; points go to them, not to the cloud fallback.
    EXPECT_NE(json_field(expansions[i], "node").find("-edge-"), std::string::npos) << expansions[i];
  }
  EXPECT_EQ(lines_with(out, "\"kind\":\"done\"").size(), 1u) << out;
}

TEST(AllInOne, PiceAskJsonPrintsTheFullResponseAsOneObject) {
  TempDir logs;
  ChildProcess ask("ask", {pice_binary(), "ask", "--json", "--mode", "sot", "--max-points", "3", "--max-tokens", "8",
                           "What are some tips for sleeping better?"},
                   logs.path());
  auto status = ask.wait(kAnswerTimeout);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << ask.stderr_text();
  std::string out = ask.stdout_text();
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
  auto body = nlohmann::json::parse(out);
  EXPECT_EQ(body["mode"], "sot");
  EXPECT_EQ(body["path"], "sketch-cloud");
  EXPECT_EQ(body["budget"]["max_points"], 3);
  ASSERT_GE(body["sketch"].size(), 2u);
  ASSERT_LE(body["sketch"].size(), 3u);
  ASSERT_EQ(body["points"].size(), body["sketch"].size());
  for (const auto& p : body["points"]) {
    EXPECT_FALSE(p["text"].get<std::string>().empty());
    EXPECT_FALSE(p["node"].get<std::string>().empty());
    EXPECT_LE(p["tokens"].get<int>(), 8);
  }
  EXPECT_NE(body["content"].get<std::string>().find("\n2. "), std::string::npos) << body["content"];
  EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), 0);
}

TEST(AllInOne, PiceAskTextOutputShowsSketchThenAnswer) {
  TempDir logs;
  ChildProcess ask("ask", {pice_binary(), "ask", "What are some tips for learning to cook?"}, logs.path());
  auto status = ask.wait(kAnswerTimeout);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << ask.stderr_text();
  std::string out = ask.stdout_text();
  EXPECT_NE(out.find("[sketch 1]"), std::string::npos) << out;
  EXPECT_NE(out.find("[sketch 2]"), std::string::npos) << out;
  EXPECT_NE(out.find("Answer (pice, "), std::string::npos) << out;
  EXPECT_NE(out.find("\n1. "), std::string::npos) << out;
  EXPECT_NE(out.find("\n2. "), std::string::npos) << out;
}

TEST(AllInOne, InProcessNodeServesConcurrentClients) {
  auto node = actors::Node::start(tiny_all_in_one("aio", 2));
  ASSERT_TRUE(wait_until([&] { return node->known_boards() == 2; }, std::chrono::seconds(30)));

  constexpr int kClients = 4;
  std::vector<actors::Answer> answers(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      actors::GatewayClient client(node->gateway_endpoint());
      messages::Request request;
      request.question = "Question number " + std::to_string(i) + ": what are some ways plants grow?";
      answers[i] = client.ask(request, 120000);
    });
  for (auto& t : clients) t.join();
  std::set<std::string> nodes;
  for (const auto& a : answers) {
    EXPECT_TRUE(a.complete()) << a.error;
    for (const auto& p : a.points) nodes.insert(p.node);
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"aio-edge-1", "aio-edge-2"}));
  node->stop();
}

TEST(AllInOne, BadRequestsGetAnErrorAndTheNodeGoesOn) {
  auto node = actors::Node::start(tiny_all_in_one("aio-bad", 1));
  actors::GatewayClient client(node->gateway_endpoint());
  messages::Request bad;
  bad.question = "   ";
  auto rejected = client.ask(bad, 10000);
  EXPECT_NE(rejected.error.find("question is empty"), std::string::npos) << rejected.error;
  bad.question = "fine";
  bad.mode = "telepathy";
  rejected = client.ask(bad, 10000);
  EXPECT_NE(rejected.error.find("mode 'telepathy'"), std::string::npos) << rejected.error;
  messages::Request good;
  good.question = "Still there?";
  auto answer = client.ask(good, 120000);
  EXPECT_TRUE(answer.complete()) << answer.error;
  node->stop();
}

}  // namespace
}  // namespace pice::testing
