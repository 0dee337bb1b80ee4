// Bad clients of the HTTP API while good ones are being served, over real sockets in front of a real
// in-process all-in-one node (synth:tiny, context 512 tokens): a question longer than the model's
// context, absurd max_tokens, and clients that hang up mid-stream. Each bad one gets a clear error (or
// costs nothing but its own answer) and every good request running beside it is answered completely.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "config/node_config.hpp"
#include "tests/actors/gateway_node.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

using nlohmann::json;
using actors::http::HttpOptions;

std::string chat_body(const std::string& question, bool stream, const json& max_tokens = 12) {
  return json{{"model", "pice"},
              {"messages", {{{"role", "user"}, {"content", question}}}},
              {"stream", stream},
              {"max_tokens", max_tokens},
              {"pice", {{"max_points", 3}}}}
      .dump();
}

// Well under the 16 KiB the gateway accepts, far over 512 tokens.
std::string long_question() {
  std::string q;
  for (int i = 0; q.size() < 8000; ++i) q += "word" + std::to_string(i) + " ";
  return q;
}

double metric(int port, const std::string& sample) {
  HttpConnection c(port);
  HttpResponse r = c.request("GET", "/metrics");
  size_t at = r.body.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(r.body.substr(at + sample.size() + 2));
}

// The data of every event of a streamed answer, read to its end.
std::vector<std::string> read_stream(HttpConnection& c) {
  HttpResponse head = c.read_head();
  EXPECT_EQ(head.status, 200);
  std::vector<std::string> data;
  SseReader events(c);
  while (auto e = events.next()) data.push_back(*e);
  return data;
}

// A streamed answer that ends with [DONE], after as many expansions as sketch points, and no error.
void expect_complete_stream(const std::vector<std::string>& data, const std::string& who) {
  ASSERT_FALSE(data.empty()) << who;
  EXPECT_EQ(data.back(), "[DONE]") << who;
  int sketch = 0, expansions = 0;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    json e = json::parse(data[i]);
    EXPECT_FALSE(e.contains("error")) << who << ": " << data[i];
    if (e.contains("pice") && e["pice"].contains("sketch_point")) ++sketch;
    if (e.contains("pice") && e["pice"].contains("point")) ++expansions;
  }
  EXPECT_GE(sketch, 1) << who;
  EXPECT_EQ(expansions, sketch) << who;
}

void expect_complete_answer(const HttpResponse& r, const std::string& who) {
  ASSERT_EQ(r.status, 200) << who << ": " << r.body;
  json body = json::parse(r.body);
  EXPECT_GE(body["pice"]["sketch"].size(), 1u) << who;
  EXPECT_EQ(body["pice"]["points"].size(), body["pice"]["sketch"].size()) << who << ": " << r.body;
}

class HttpBadClients : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    HttpOptions options;
    options.threads = 2;
    served_ = std::make_unique<GatewayNode>(
        config::parse("[node]\nid = \"bad-clients\"\nrole = \"all-in-one\"\nlisten = \"inproc://bad-clients\"\n"
                      "local_edges = 2\n[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:tiny\"\n"
                      "[sketch]\nmin_points = 2\nmax_points = 3\n[expand]\nmax_tokens = 12\n",
                      "<bad clients config>"),
        2, options);
  }
  static void TearDownTestSuite() { served_.reset(); }
  static int port() { return served_->port(); }

  static inline std::unique_ptr<GatewayNode> served_;
};

TEST_F(HttpBadClients, AQuestionLongerThanTheContextFailsClearlyWhileOthersAreAnswered) {
  HttpResponse good, too_long;
  std::vector<std::string> good_stream, long_stream;
  std::vector<std::thread> clients;
  clients.emplace_back([&] { good = HttpConnection(port()).request("POST", "/v1/chat/completions", chat_body("What are some ways tides shape coastlines?", false)); });
  clients.emplace_back([&] {
    too_long = HttpConnection(port()).request("POST", "/v1/chat/completions", chat_body(long_question(), false));
  });
  clients.emplace_back([&] {
    HttpConnection c(port());
    c.send_request("POST", "/v1/chat/completions", chat_body(long_question(), true));
    long_stream = read_stream(c);
  });
  clients.emplace_back([&] {
    HttpConnection c(port());
    c.send_request("POST", "/v1/chat/completions", chat_body("What are some reasons leaves fall?", true));
    good_stream = read_stream(c);
  });
  for (auto& t : clients) t.join();

  // The pipeline, not the HTTP gateway, knows the model's context: a failed answer (500 / error event)
  // whose message says why in tokens.
  EXPECT_EQ(too_long.status, 500) << too_long.body;
  const std::string message = json::parse(too_long.body)["error"]["message"];
  EXPECT_NE(message.find("the question is too long for the model"), std::string::npos) << message;
  EXPECT_NE(message.find("context of 512 tokens"), std::string::npos) << message;
  ASSERT_GE(long_stream.size(), 2u);
  EXPECT_EQ(long_stream.back(), "[DONE]");
  EXPECT_NE(long_stream[long_stream.size() - 2].find("the question is too long"), std::string::npos)
      << long_stream[long_stream.size() - 2];

  expect_complete_answer(good, "the plain request beside it");
  expect_complete_stream(good_stream, "the streamed request beside it");
}

TEST_F(HttpBadClients, AbsurdMaxTokensAreRefusedByNameWhileOthersAreAnswered) {
  HttpConnection c(port());
  for (const json& absurd : {json(1000000), json(-5), json(1e300), json(uint64_t{18446744073709551615u}),
                             json("lots"), json::array({1})}) {
    HttpResponse r = c.request("POST", "/v1/chat/completions", chat_body("What are some ways tides shape coastlines?", false, absurd));
    ASSERT_EQ(r.status, 400) << absurd << ": " << r.body;
    json error = json::parse(r.body)["error"];
    EXPECT_EQ(error["param"], "max_tokens") << absurd << ": " << r.body;
    EXPECT_NE(error["message"].get<std::string>().find("max_tokens"), std::string::npos) << r.body;
  }
  // The largest allowed value is served: the expansion stops where the model's context does.
  expect_complete_answer(c.request("POST", "/v1/chat/completions", chat_body("What are some ways tides shape coastlines?", false, 4096)),
                         "max_tokens 4096 on the same connection");
}

TEST_F(HttpBadClients, ClientsHangingUpMidStreamDoNotDisturbTheOthers) {
  const double disconnects_before = metric(port(), "pice_http_errors_total{kind=\"disconnect\"}");
  constexpr int kStayers = 4, kLeavers = 4;
  std::vector<std::vector<std::string>> stayed(kStayers);
  std::vector<HttpResponse> plain(kStayers);
  std::vector<std::thread> clients;
  for (int i = 0; i < kLeavers; ++i)
    clients.emplace_back([&, i] {
      HttpConnection c(port());
      c.send_request("POST", "/v1/chat/completions", chat_body("Leaver " + std::to_string(i) + ": what are some reasons ships float?", true));
      ASSERT_EQ(c.read_head().status, 200);
      SseReader events(c);
      ASSERT_TRUE(events.next());  // the role chunk; then hang up with the answer still coming
    });
  for (int i = 0; i < kStayers; ++i) {
    clients.emplace_back([&, i] {
      HttpConnection c(port());
      c.send_request("POST", "/v1/chat/completions", chat_body("Stayer " + std::to_string(i) + ": what are some reasons ships float?", true));
      stayed[i] = read_stream(c);
    });
    clients.emplace_back([&, i] {
      plain[i] = HttpConnection(port()).request("POST", "/v1/chat/completions",
                                                chat_body("Plain " + std::to_string(i) + ": what are some tips for flying kites?", false));
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kStayers; ++i) {
    expect_complete_stream(stayed[i], "stayer " + std::to_string(i));
    expect_complete_answer(plain[i], "plain " + std::to_string(i));
  }
  // Every leaver is noticed at its next write, and its slot is free once its pipeline work ends.
  EXPECT_TRUE(wait_until([&] { return metric(port(), "pice_http_errors_total{kind=\"disconnect\"}") ==
                                      disconnects_before + kLeavers; },
                         std::chrono::seconds(120)))
      << metric(port(), "pice_http_errors_total{kind=\"disconnect\"}");
  EXPECT_TRUE(wait_until([&] { return metric(port(), "pice_http_inflight_requests") == 0; }, std::chrono::seconds(120)));
}

}  // namespace
}  // namespace pice::testing
