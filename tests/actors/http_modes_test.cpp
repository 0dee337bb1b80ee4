// The HTTP API end to end for what the pipeline applies: modes and their `pice` object, sampling
// (seed), stop strings, ignore_eos and max_tokens, usage token counts, and cancellation of the work of
// a client that leaves, observed on the node's own telemetry.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "brokers/endpoints.hpp"
#include "brokers/pump.hpp"
#include "config/node_config.hpp"
#include "messages/envelope.hpp"
#include "tests/actors/gateway_node.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

using nlohmann::json;

constexpr const char* kListLike = "What are some tips for staying healthy and fit?";
constexpr const char* kCode = "Write a Python function that returns the nth Fibonacci number.";

config::NodeConfig node_config(const std::string& id, int edges, const std::string& llm, const std::string& extra) {
  return config::parse("[node]\nid = \"" + id + "\"\nrole = \"all-in-one\"\nlisten = \"inproc://" + id +
                           "\"\nlocal_edges = " + std::to_string(edges) + "\n[llm]\nmodel = \"" + llm +
                           "\"\n[slm]\nmodel = \"synth:tiny\"\n" + extra,
                       "<test config " + id + ">");
}

std::string chat(const std::string& question, json extra) {
  json body = {{"model", "pice"}, {"messages", {{{"role", "user"}, {"content", question}}}}};
  body.merge_patch(extra);
  return body.dump();
}

json post(int port, const std::string& body) {
  HttpConnection c(port);
  HttpResponse r = c.request("POST", "/v1/chat/completions", body);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? json::parse(r.body) : json::object();
}

std::string content(const json& body) { return body["choices"][0]["message"]["content"].get<std::string>(); }

class HttpModesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    served_ = std::make_unique<GatewayNode>(
        node_config("http-modes", 1, "synth:tiny", "[sketch]\nmin_points = 2\nmax_points = 4\n"), 1);
  }
  static void TearDownTestSuite() { served_.reset(); }
  static int port() { return served_->port(); }

  static inline std::unique_ptr<GatewayNode> served_;
};

TEST_F(HttpModesTest, EveryModeAnswersAndSaysHowAndWhy) {
  struct Case {
    const char* mode;
    const char* question;
    const char* path;
  };
  const Case cases[] = {{"pice", kListLike, "sketch"},   {"pice", kCode, "direct"},
                        {"sot", kListLike, "sketch-cloud"}, {"route", kListLike, "direct-edge"},
                        {"route", kCode, "direct"},      {"cloud-only", kListLike, "direct"}};
  for (const Case& c : cases) {
    json body = post(port(), chat(c.question, {{"max_tokens", 12}, {"pice", {{"mode", c.mode}}}}));
    const json& pice = body["pice"];
    EXPECT_EQ(pice["mode"], c.mode);
    EXPECT_EQ(pice["path"], c.path) << c.mode << ": " << pice["reason"];
    EXPECT_FALSE(pice["reason"].get<std::string>().empty());
    EXPECT_FALSE(content(body).empty()) << c.mode;
    EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), 0) << c.mode;
    EXPECT_GT(body["usage"]["prompt_tokens"].get<int>(), 0) << c.mode;
    ASSERT_GE(pice["points"].size(), 1u) << c.mode;
    for (const json& p : pice["points"]) {
      EXPECT_FALSE(p["node"].get<std::string>().empty()) << p;
      EXPECT_FALSE(p["model"].get<std::string>().empty()) << p;
      EXPECT_GT(p["tokens"].get<int>(), 0) << p;
      EXPECT_TRUE(p["timings"]["decode_ms"].is_number()) << p;
    }
    if (std::string(c.path).starts_with("sketch")) {
      EXPECT_EQ(pice["points"].size(), pice["sketch"].size());
      EXPECT_GT(pice["budget"]["max_points"].get<int>(), 0);
      int expansion_tokens = 0;
      for (const json& p : pice["points"]) expansion_tokens += p["tokens"].get<int>();
      EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), expansion_tokens) << "the sketch's tokens count too";
    } else {
      EXPECT_TRUE(pice["sketch"].empty());
      EXPECT_EQ(pice["points"][0]["text"], content(body));
    }
  }
}

TEST_F(HttpModesTest, StreamsADirectAnswerAsItIsWritten) {
  HttpConnection c(port());
  c.send_request("POST", "/v1/chat/completions",
                 chat(kCode, {{"max_tokens", 24}, {"ignore_eos", true}, {"stream", true},
                              {"stream_options", {{"include_usage", true}}}, {"pice", {{"mode", "cloud-only"}}}}));
  ASSERT_EQ(c.read_head().status, 200);
  SseReader events(c);
  std::vector<std::string> data;
  while (auto e = events.next()) data.push_back(*e);
  ASSERT_GE(data.size(), 5u);
  std::string text;
  int pieces = 0;
  json usage;
  for (size_t i = 1; i + 1 < data.size(); ++i) {
    json e = json::parse(data[i]);
    if (e.contains("usage")) usage = e["usage"];
    if (e["choices"].empty()) continue;
    std::string piece = e["choices"][0]["delta"].value("content", "");
    if (!piece.empty()) ++pieces, text += piece;
    if (i == 1) {
      EXPECT_EQ(e["pice"]["path"], "direct") << "the first event says how the answer is served";
    }
  }
  EXPECT_GT(pieces, 1);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(usage["completion_tokens"], 24);
}

// seed, temperature, stop, ignore_eos and max_tokens reach the model: the same seed writes the same
// answer; a stop string taken from that answer cuts it exactly there; ignore_eos writes max_tokens.
TEST_F(HttpModesTest, SeedStopIgnoreEosAndMaxTokensAreApplied) {
  const json base = {{"max_tokens", 48}, {"ignore_eos", true}, {"seed", 7}, {"temperature", 0.9},
                     {"pice", {{"mode", "cloud-only"}}}};
  json first = post(port(), chat(kCode, base));
  json again = post(port(), chat(kCode, base));
  const std::string text = content(first);
  EXPECT_EQ(content(again), text) << "the same seed must write the same answer";
  EXPECT_EQ(first["usage"]["completion_tokens"], 48) << "ignore_eos: exactly max_tokens";
  json other_seed = base;
  other_seed["seed"] = 8;
  EXPECT_NE(content(post(port(), chat(kCode, other_seed))), text);

  // A stop string from the middle of the answer: three printable non-space ASCII bytes, first found
  // there (the first token is never cut, so not too near the start).
  size_t at = std::string::npos;
  for (size_t p = 16; p + 3 <= text.size() && at == std::string::npos; ++p) {
    std::string s = text.substr(p, 3);
    bool plain = std::all_of(s.begin(), s.end(), [](char ch) { return ch > ' ' && ch < 127; });
    if (plain && text.find(s) == p) at = p;
  }
  ASSERT_NE(at, std::string::npos) << "no usable stop string in: " << text;
  json stopped = base;
  stopped["stop"] = json::array({text.substr(at, 3)});
  json cut = post(port(), chat(kCode, stopped));
  EXPECT_EQ(content(cut), text.substr(0, at)) << "stop " << text.substr(at, 3);
  EXPECT_LT(cut["usage"]["completion_tokens"].get<int>(), 48);
}

TEST_F(HttpModesTest, TheBudgetOfARequestOverridesTheNodes) {
  json body = post(port(), chat(kListLike, {{"max_tokens", 8}, {"pice", {{"mode", "sot"}, {"max_points", 3},
                                                                          {"max_words_per_point", 2}}}}));
  EXPECT_EQ(body["pice"]["budget"]["max_points"], 3);
  EXPECT_EQ(body["pice"]["budget"]["max_words_per_point"], 2);
  EXPECT_LE(body["pice"]["sketch"].size(), 3u);
}

TEST_F(HttpModesTest, BadModesAndStopsAre400NamingTheField) {
  HttpConnection c(port());
  HttpResponse r = c.request("POST", "/v1/chat/completions", chat(kListLike, {{"pice", {{"mode", "fast"}}}}));
  EXPECT_EQ(r.status, 400);
  json e = json::parse(r.body)["error"];
  EXPECT_EQ(e["param"], "pice.mode");
  EXPECT_NE(e["message"].get<std::string>().find("known: pice, sot, route, cloud-only"), std::string::npos) << e;
  r = c.request("POST", "/v1/chat/completions", chat(kListLike, {{"stop", json::array({std::string(300, 'x')})}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["param"], "stop");
}

// The node's telemetry, read on its monitor socket: the scheduler's counters and gauges.
class Telemetry {
 public:
  explicit Telemetry(const std::string& listen) : sub_(brokers::shared_context(), zmq::socket_type::sub) {
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, "");
    sub_.connect(brokers::derive_endpoints(listen).monitor);
  }
  // The next report of a part in `role` ("cloud", "edge") that satisfies `ok`, or nullopt after `timeout`.
  std::optional<messages::Telemetry> wait_for(const std::function<bool(const messages::Telemetry&)>& ok,
                                              std::chrono::seconds timeout, const std::string& role = "cloud") {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::message_t msg;
      zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(200));
      if (!(item.revents & ZMQ_POLLIN) || !sub_.recv(msg, zmq::recv_flags::dontwait)) continue;
      auto env = messages::decode(msg.to_string_view());
      auto* t = std::get_if<messages::Telemetry>(&env.body);
      if (!t || t->role != role) continue;
      last_ = *t;
      if (ok(*t)) return *t;
    }
    return std::nullopt;
  }

  // The latest report seen, for failure messages.
  std::string last() const {
    std::string out;
    for (const auto& [k, v] : last_.counters) out += k + "=" + std::to_string(v) + " ";
    for (const auto& [k, v] : last_.gauges) out += k + "=" + std::to_string(v) + " ";
    return out;
  }

 private:
  zmq::socket_t sub_;
  messages::Telemetry last_;
};

uint64_t counter(const messages::Telemetry& t, const std::string& name) {
  auto it = t.counters.find(name);
  return it == t.counters.end() ? 0 : it->second;
}
double gauge(const messages::Telemetry& t, const std::string& name) {
  auto it = t.gauges.find(name);
  return it == t.gauges.end() ? -1 : it->second;
}

// A client that leaves stops its request's work: the cloud (the demo model, slow enough that the
// whole answer takes seconds) writes far fewer tokens than the answer would need, then nothing more.
class HttpCancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    served_ = std::make_unique<GatewayNode>(
        node_config("http-cancel", 0, "synth:demo", "[sketch]\nmin_points = 6\nmax_points = 6\n"), 0);
    telemetry_ = std::make_unique<Telemetry>("inproc://http-cancel");
  }
  void TearDown() override { served_.reset(); }

  // Waits for the cancelled request to be gone and the cloud idle; returns the cloud's token count,
  // after checking that it no longer grows.
  uint64_t tokens_after_cancel(uint64_t cancelled) {
    auto settled = telemetry_->wait_for(
        [&](const messages::Telemetry& t) {
          return counter(t, "requests_cancelled") >= cancelled && gauge(t, "cloud_queue") == 0 &&
                 gauge(t, "requests_running") == 0;
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(settled) << "the cancelled request never left the scheduler, or the cloud stayed busy: "
                         << telemetry_->last();
    if (!settled) return UINT64_MAX;
    const uint64_t tokens = counter(*settled, "cloud_tokens");
    // Two more reports (a second apart): the count stays where it is.
    for (int i = 0; i < 2; ++i) {
      auto later = telemetry_->wait_for([](const messages::Telemetry&) { return true; }, std::chrono::seconds(10));
      EXPECT_TRUE(later);
      if (later) {
        EXPECT_EQ(counter(*later, "cloud_tokens"), tokens) << "work went on after the cancellation";
      }
    }
    return tokens;
  }

  std::unique_ptr<GatewayNode> served_;
  std::unique_ptr<Telemetry> telemetry_;
};

TEST_F(HttpCancelTest, AClientLeavingAStreamStopsTheCloudMidAnswer) {
  {
    HttpConnection leaver(served_->port());
    // About 1000 tokens (the demo model's context) if it ran to the end.
    leaver.send_request("POST", "/v1/chat/completions",
                        chat(kCode, {{"max_tokens", 4096}, {"ignore_eos", true}, {"stream", true},
                                     {"pice", {{"mode", "cloud-only"}}}}));
    ASSERT_EQ(leaver.read_head().status, 200);
    SseReader events(leaver);
    ASSERT_TRUE(events.next());  // the role
    ASSERT_TRUE(events.next());  // the first piece of text
  }
  uint64_t tokens = tokens_after_cancel(1);
  EXPECT_LT(tokens, 900u);
  HttpConnection c(served_->port());
  HttpResponse metrics = c.request("GET", "/metrics");
  EXPECT_NE(metrics.body.find("pice_http_errors_total{kind=\"disconnect\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("pice_http_inflight_requests 0"), std::string::npos) << metrics.body;
}

TEST_F(HttpCancelTest, AClientLeavingBeforeANonStreamedAnswerStopsItsQueuedWork) {
  {
    HttpConnection leaver(served_->port());
    // Six points of about 900 tokens each, all on the cloud: thousands of tokens if it ran to the end.
    leaver.send_request("POST", "/v1/chat/completions",
                        chat(kListLike, {{"max_tokens", 4096}, {"ignore_eos", true}, {"pice", {{"mode", "sot"}}}}));
    ASSERT_TRUE(telemetry_->wait_for([](const messages::Telemetry& t) { return gauge(t, "requests_running") == 1; },
                                     std::chrono::seconds(60)));
  }
  uint64_t tokens = tokens_after_cancel(1);
  EXPECT_LT(tokens, 2000u);
}

// A client that leaves stops its points on the boards too: the scheduler tells each board holding one
// to drop the request, and the board's expander takes them out of its batch at once. The board (the
// demo model, about a thousand tokens a point when run to the end) reports the tasks cancelled, none
// done, and an empty queue long before those points could have been written.
TEST(HttpEdgeCancel, AClientLeavingStopsItsPointsOnTheBoards) {
  GatewayNode served(config::parse("[node]\nid = \"http-edge-cancel\"\nrole = \"all-in-one\"\n"
                                   "listen = \"inproc://http-edge-cancel\"\nlocal_edges = 1\n"
                                   "[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:demo\"\n"
                                   "[sketch]\nmin_points = 2\nmax_points = 2\n",
                                   "<test config http-edge-cancel>"),
                     1);
  Telemetry telemetry("inproc://http-edge-cancel");
  {
    HttpConnection leaver(served.port());
    leaver.send_request("POST", "/v1/chat/completions",
                        chat(kListLike, {{"max_tokens", 4096}, {"ignore_eos", true}, {"stream", true},
                                         {"pice", {{"mode", "pice"}}}}));
    ASSERT_EQ(leaver.read_head().status, 200);
    // Leave once the board is working on the request's points.
    ASSERT_TRUE(telemetry.wait_for([](const messages::Telemetry& t) { return gauge(t, "queue_depth") >= 1; },
                                   std::chrono::seconds(60), "edge"))
        << "the board never got the points: " << telemetry.last();
  }
  auto cloud = telemetry.wait_for([](const messages::Telemetry& t) { return counter(t, "cancels_sent") >= 1; },
                                  std::chrono::seconds(60));
  ASSERT_TRUE(cloud) << "the scheduler sent the board no cancel: " << telemetry.last();
  auto board = telemetry.wait_for(
      [](const messages::Telemetry& t) { return counter(t, "tasks_cancelled") >= 1 && gauge(t, "queue_depth") == 0; },
      std::chrono::seconds(30), "edge");
  ASSERT_TRUE(board) << "the board kept the cancelled points: " << telemetry.last();
  EXPECT_EQ(counter(*board, "tasks_done"), 0u) << "a point ran to its end: " << telemetry.last();
  EXPECT_EQ(counter(*board, "tokens_generated"), 0u) << telemetry.last();
  // The board is free for the next client.
  HttpConnection next(served.port());
  HttpResponse r = next.request("POST", "/v1/chat/completions",
                                chat(kListLike, {{"max_tokens", 8}, {"pice", {{"mode", "pice"}}}}));
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace pice::testing
