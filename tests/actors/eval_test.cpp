// `pice eval`: reading a judge's verdicts, combining both orders, and the whole command against a real
// node whose own HTTP API serves as the judge (its verdicts are noise with synthetic weights: the test
// checks the mechanics, that every question is answered in both modes and judged in both orders).
#include <gtest/gtest.h>

#include "actors/eval.hpp"
#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::actors::eval {
namespace {

TEST(EvalVerdict, ReadsTheFirstWordOfTheReplyInAnyCaseAndBrackets) {
  EXPECT_EQ(parse_verdict("A"), Verdict::a);
  EXPECT_EQ(parse_verdict("  b. Answer B is more specific."), Verdict::b);
  EXPECT_EQ(parse_verdict("[[A]]"), Verdict::a);
  EXPECT_EQ(parse_verdict("Tie"), Verdict::tie);
  EXPECT_EQ(parse_verdict("**B**"), Verdict::b);
  EXPECT_EQ(parse_verdict("Answer A is better"), Verdict::invalid);   // not a verdict word first
  EXPECT_EQ(parse_verdict("AB"), Verdict::invalid);
  EXPECT_EQ(parse_verdict(""), Verdict::invalid);
}

TEST(EvalVerdict, BothOrdersAreCombinedForTheFirstMode) {
  // first mode shown as A, then as B
  EXPECT_EQ(combine(Verdict::a, Verdict::b), Outcome::win);
  EXPECT_EQ(combine(Verdict::b, Verdict::a), Outcome::loss);
  EXPECT_EQ(combine(Verdict::a, Verdict::a), Outcome::tie);     // the judge preferred a position, not an answer
  EXPECT_EQ(combine(Verdict::a, Verdict::tie), Outcome::win);
  EXPECT_EQ(combine(Verdict::tie, Verdict::a), Outcome::loss);
  EXPECT_EQ(combine(Verdict::invalid, Verdict::b), Outcome::win);
  EXPECT_EQ(combine(Verdict::invalid, Verdict::invalid), Outcome::invalid);
  Tally t;
  for (Outcome o : {Outcome::win, Outcome::win, Outcome::loss, Outcome::invalid}) t.add(o);
  EXPECT_EQ(t.win, 2);
  EXPECT_EQ(t.loss, 1);
  EXPECT_EQ(t.total(), 4);
}

TEST(EvalVerdict, ThePromptShowsTheQuestionAndBothAnswersInTheirPlaces) {
  const std::string prompt = judge_prompt("Why?", "first answer", "second answer");
  EXPECT_LT(prompt.find("Why?"), prompt.find("[Answer A]\nfirst answer"));
  EXPECT_LT(prompt.find("[Answer A]\nfirst answer"), prompt.find("[Answer B]\nsecond answer"));
}

TEST(EvalCommand, JudgesEveryQuestionInBothOrdersAgainstARealEndpoint) {
  using namespace pice::testing;
  TempDir dir;
  const int base = free_port_range(brokers::kServiceEndpointCount + 1);
  const std::string address = "tcp://127.0.0.1:" + std::to_string(base);
  const int http_port = base + brokers::kServiceEndpointCount;
  ChildProcess node("node",
                    {pice_binary(), "serve", "--config", source_path("config/all-in-one.toml"), "--listen", address,
                     "--http", "127.0.0.1:" + std::to_string(http_port)},
                    dir.path());
  ASSERT_TRUE(wait_until([&] { return node.stderr_text().find("http: serving") != std::string::npos; },
                         std::chrono::seconds(120)))
      << node.stderr_text();

  ChildProcess eval("eval",
                    {pice_binary(), "eval", "--connect", address, "--modes", "pice,pice", "--judge",
                     "http://127.0.0.1:" + std::to_string(http_port) + "/v1", "--judge-model", "pice", "--text", "How do I learn to cook?",
                     "--text", "What makes a city walkable?", "--csv", (dir.path() / "verdicts.csv").string()},
                    dir.path());
  auto status = eval.wait(std::chrono::seconds(480));
  ASSERT_TRUE(status.has_value()) << "pice eval did not finish\n" << eval.stderr_text();
  EXPECT_EQ(*status, 0) << eval.stderr_text() << eval.stdout_text();
  const std::string out = eval.stdout_text();
  EXPECT_NE(out.find("judge calls: 4, questions not answered by both modes: 0"), std::string::npos) << out;
  ASSERT_EQ(lines_with(out, "given").size(), 1u) << out;
  EXPECT_NE(lines_with(out, "given")[0].find("         2"), std::string::npos) << out;   // both questions tallied
  const std::string csv = read_file(dir.path() / "verdicts.csv");
  EXPECT_EQ(lines_with(csv, ",given,").size(), 2u) << csv;
  // The judge really was asked: the node's HTTP API counts four successful chat completions.
  HttpConnection metrics(http_port);
  const std::string counters = metrics.request("GET", "/metrics").body;
  EXPECT_NE(counters.find("pice_http_requests_total{code=\"200\"} 4\n"), std::string::npos) << counters;
  EXPECT_TRUE(node.running());
}

TEST(EvalCommand, AJudgeThatCannotBeReachedIsAnErrorNamingIt) {
  using namespace pice::testing;
  TempDir dir;
  ChildProcess eval("eval",
                    {pice_binary(), "eval", "--connect", "tcp://127.0.0.1:1", "--modes", "pice,sot", "--judge",
                     "https://judge.example/v1", "--text", "Why?"},
                    dir.path());
  auto status = eval.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_NE(eval.stderr_text().find("https is not supported"), std::string::npos) << eval.stderr_text();
}

}  // namespace
}  // namespace pice::actors::eval
