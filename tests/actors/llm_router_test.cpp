// [scheduler] router = "llm": the cloud model's yes or no decides the path, its other answers leave the
// decision to the rules router, and none of the routing question's text reaches the client. The cloud
// model is a scripted OpenAI-compatible server on a real socket, so its answer is known in advance.
#include "actors/llm_router.hpp"

#include <gtest/gtest.h>

#include "actors/client.hpp"
#include "actors/node.hpp"
#include "actors/request_plan.hpp"
#include "config/node_config.hpp"
#include "tests/actors/scripted_chat_server.hpp"

namespace pice::actors {
namespace {

constexpr const char* kListLike = "What are some tips for staying healthy and fit?";
constexpr const char* kCode = "Write a Python function that returns the nth Fibonacci number.";

TEST(LlmRouter, ReadsYesAndNoAndNothingElse) {
  for (const char* yes : {"Yes", " yes.", "YES, it can", "\n**Yes**"}) {
    auto d = llm_route_decision(yes);
    ASSERT_TRUE(d) << yes;
    EXPECT_TRUE(d->progressive) << yes;
    EXPECT_EQ(d->reason, "the cloud model answered \"yes\"");
  }
  for (const char* no : {"No", "no - it is code", "  NO"}) {
    auto d = llm_route_decision(no);
    ASSERT_TRUE(d) << no;
    EXPECT_FALSE(d->progressive) << no;
  }
  for (const char* other : {"", "Maybe", "yesterday", "Not sure", "Y", "nope"}) EXPECT_FALSE(llm_route_decision(other)) << other;
  EXPECT_NE(llm_router_prompt(kCode).find(kCode), std::string::npos);
}

TEST(LlmRouter, ItsDecisionOverridesTheRules) {
  const config::NodeConfig config = config::parse(
      "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:tiny\"\n"
      "[scheduler]\nrouter = \"llm\"\n",
      "<llm router test>");
  EXPECT_EQ(config.scheduler.router, "llm");
  LoadSnapshot load;
  load.boards = load.open_boards = 2;
  load.edge_room = 8;
  messages::Request code;
  code.question = kCode;
  EXPECT_TRUE(needs_router(code, config));
  EXPECT_EQ(plan_request(code, config, load).path, Path::direct);   // the rules: code is answered directly
  const Plan plan = plan_request(code, config, load, llm_route_decision("Yes"));
  EXPECT_EQ(plan.path, Path::sketch);
  EXPECT_NE(plan.reason.find("the cloud model answered \"yes\""), std::string::npos) << plan.reason;
  code.mode = "cloud-only";
  EXPECT_FALSE(needs_router(code, config));
  EXPECT_THROW(config::parse("[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:tiny\"\n"
                             "[scheduler]\nrouter = \"coin\"\n",
                             "<llm router test>"),
               config::ConfigError);
}

// A cloud node whose model says `answer` to everything, in mode pice with the LLM router.
class LlmRouterNode {
 public:
  explicit LlmRouterNode(const std::string& id, const std::string& answer) : server_(answer) {
    node_ = Node::start(config::parse("[node]\nid = \"" + id + "\"\nrole = \"cloud\"\nlisten = \"inproc://" + id +
                                          "\"\n[llm]\nurl = \"" + server_.url() +
                                          "\"\nmodel = \"scripted\"\n[scheduler]\nrouter = \"llm\"\n",
                                      "<" + id + ">"));
  }
  ~LlmRouterNode() { node_->stop(); }
  Answer ask(const std::string& question) {
    GatewayClient client(node_->gateway_endpoint());
    messages::Request request;
    request.question = question;
    request.mode = "pice";
    return client.ask(request, 60000);
  }
  pice::testing::ScriptedChatServer& server() { return server_; }

 private:
  pice::testing::ScriptedChatServer server_;
  std::unique_ptr<Node> node_;
};

TEST(LlmRouter, TheCloudModelsNoMakesAListLikeQuestionADirectAnswer) {
  LlmRouterNode node("llm-router-no", "No");
  const Answer answer = node.ask(kListLike);   // the rules would sketch it
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_EQ(answer.path, "direct") << answer.reason;
  EXPECT_NE(answer.reason.find("the cloud model answered \"no\""), std::string::npos) << answer.reason;
  EXPECT_EQ(answer.text, "No");   // the direct answer; the routing answer was not streamed to the client
  const auto requests = node.server().requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::string routing = requests[0].dump();
  EXPECT_NE(routing.find("yes or no"), std::string::npos) << routing;
  EXPECT_NE(routing.find(kListLike), std::string::npos) << routing;
  EXPECT_EQ(requests[0]["max_tokens"], kLlmRouterTokens) << routing;
  EXPECT_EQ(requests[1].dump().find("yes or no"), std::string::npos) << "the answer was asked with the routing prompt";
}

TEST(LlmRouter, AnAnswerThatIsNeitherLeavesTheDecisionToTheRules) {
  LlmRouterNode node("llm-router-maybe", "Perhaps");
  const Answer answer = node.ask(kCode);
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_EQ(answer.path, "direct") << answer.reason;
  EXPECT_NE(answer.reason.find("router: not list-like"), std::string::npos) << answer.reason;
  EXPECT_EQ(answer.reason.find("cloud model"), std::string::npos) << answer.reason;
  EXPECT_EQ(node.server().requests().size(), 2u);
}

}  // namespace
}  // namespace pice::actors
