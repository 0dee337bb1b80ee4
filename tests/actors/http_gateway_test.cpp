// The OpenAI-compatible HTTP gateway over real sockets on 127.0.0.1, in front of a real in-process
// all-in-one node (synth:tiny models), and in front of a scripted stand-in gateway for the failure paths.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "actors/http/http_gateway.hpp"
#include "actors/node.hpp"
#include "brokers/pump.hpp"
#include "config/node_config.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/actors/tiny_all_in_one.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

using nlohmann::json;
using actors::http::HttpGateway;
using actors::http::HttpOptions;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string chat_body(const std::string& question, bool stream) {
  return json{{"model", "pice"},
              {"messages", {{{"role", "user"}, {"content", question}}}},
              {"stream", stream},
              {"max_tokens", 12},
              {"pice", {{"mode", "pice"}, {"max_points", 3}}}}
      .dump();
}

// The value of one sample line ("name{labels} value") of GET /metrics; -1 if absent.
double metric(int port, const std::string& sample) {
  HttpConnection c(port);
  HttpResponse r = c.request("GET", "/metrics");
  size_t at = r.body.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + sample.size() + 2));
}

// The sketch and provenance of a complete non-streamed answer, checked for shape; returns the body.
json expect_complete_answer(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  json body = json::parse(r.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  const json& pice = body["pice"];
  EXPECT_EQ(pice["mode"], "pice");
  EXPECT_EQ(pice["path"], "sketch") << pice["reason"];  // the questions of these tests are list-like
  EXPECT_GE(pice["sketch"].size(), 2u) << r.body;
  EXPECT_EQ(pice["points"].size(), pice["sketch"].size()) << r.body;
  std::string expected;
  for (size_t i = 0; i < pice["points"].size(); ++i) {
    const json& p = pice["points"][i];
    EXPECT_EQ(p["index"], i + 1);
    EXPECT_FALSE(p["node"].get<std::string>().empty()) << p;
    EXPECT_FALSE(p["model"].get<std::string>().empty()) << p;
    EXPECT_TRUE(p["score"].is_number()) << p;
    expected += std::to_string(i + 1) + ". " + pice["sketch"][i].get<std::string>() + ": " +
                p["text"].get<std::string>() + "\n";
  }
  EXPECT_EQ(body["choices"][0]["message"]["content"], expected);
  EXPECT_GT(pice["timings"]["first_chunk_ms"].get<double>(), 0);
  EXPECT_GE(pice["timings"]["total_ms"].get<double>(), pice["timings"]["first_chunk_ms"].get<double>());
  return body;
}

class HttpGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = actors::Node::start(tiny_all_in_one("http-aio", 2));
    ASSERT_TRUE(wait_until([] { return node_->known_boards() == 2; }, std::chrono::seconds(30)));
  }
  static void TearDownTestSuite() {
    node_->stop();
    node_.reset();
  }

  static std::unique_ptr<HttpGateway> serve(HttpOptions options = {}, const std::string& endpoint = {}) {
    options.port = 0;
    auto gateway = std::make_unique<HttpGateway>(options, endpoint.empty() ? node_->gateway_endpoint() : endpoint);
    gateway->start();
    return gateway;
  }

  static inline std::unique_ptr<actors::Node> node_;
};

TEST_F(HttpGatewayTest, AnswersAChatCompletionWithEveryPointAndThePiceObject) {
  auto gateway = serve();
  HttpConnection c(gateway->port());
  json body = expect_complete_answer(c.request("POST", "/v1/chat/completions", chat_body("What are some ways plants grow?", false)));
  EXPECT_EQ(body["model"], "pice");
  EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), 0);
  // Keep-alive: the same connection serves the next request.
  EXPECT_EQ(c.request("GET", "/health").status, 200);
}

TEST_F(HttpGatewayTest, StreamsEventsInOrderThenDoneOnAKeptAliveConnection) {
  auto gateway = serve();
  HttpConnection c(gateway->port());
  c.send_request("POST", "/v1/chat/completions", chat_body("What are some tips for good teaching?", true));
  HttpResponse head = c.read_head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "text/event-stream");
  EXPECT_EQ(head.header("transfer-encoding"), "chunked");

  SseReader events(c);
  std::vector<std::string> data;
  while (auto e = events.next()) data.push_back(*e);
  ASSERT_GE(data.size(), 4u);
  EXPECT_EQ(data.back(), "[DONE]");
  json first = json::parse(data.front());
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");

  std::vector<std::string> sketch;
  std::string deltas, expected;
  int expansions = 0;
  std::string mode;
  for (size_t i = 1; i + 1 < data.size(); ++i) {
    json e = json::parse(data[i]);
    EXPECT_EQ(e["id"], first["id"]);
    const json& choice = e["choices"][0];
    deltas += choice["delta"].value("content", "");
    if (e["pice"].contains("sketch_point")) {
      EXPECT_EQ(e["pice"]["sketch_point"]["index"], sketch.size() + 1) << "sketch points in order";
      sketch.push_back(e["pice"]["sketch_point"]["text"]);
    } else if (e["pice"].contains("point")) {
      const json& p = e["pice"]["point"];
      ++expansions;
      EXPECT_EQ(p["index"], expansions) << "expansions in point order";
      ASSERT_LE(static_cast<size_t>(expansions), sketch.size()) << "an expansion before its sketch point";
      expected += std::to_string(expansions) + ". " + sketch[expansions - 1] + ": " + p["text"].get<std::string>() + "\n";
      EXPECT_FALSE(p["node"].get<std::string>().empty());
    }
    if (i + 2 == data.size()) {  // the last event before [DONE]
      EXPECT_EQ(choice["finish_reason"], "stop");
      mode = e["pice"]["mode"];
    } else {
      EXPECT_TRUE(choice["finish_reason"].is_null()) << e;
    }
  }
  EXPECT_GE(sketch.size(), 2u);
  EXPECT_EQ(static_cast<size_t>(expansions), sketch.size());
  EXPECT_EQ(deltas, expected);  // the same text, in the same form, as the non-streamed content
  EXPECT_EQ(mode, "pice");
  EXPECT_EQ(c.request("GET", "/health").body, R"({"status":"ok"})");
}

struct ErrorCase {
  const char* name;
  std::string body;
  int status;
  const char* param;  // "" = null
  const char* says;   // part of the message
};

std::string with(const json& patch) {
  json body = {{"model", "pice"}, {"messages", {{{"role", "user"}, {"content", "Why is the sky blue?"}}}}};
  if (patch.is_object()) body.merge_patch(patch);  // with({}) is null in nlohmann: nothing to change
  return body.dump();
}

TEST_F(HttpGatewayTest, RefusesBadRequestsNamingTheField) {
  const std::vector<ErrorCase> cases = {
      {"malformed JSON", "{\"model\": \"pice\",\n \"messages\": [", 400, "", "line 2"},
      {"not an object", "[1, 2]", 400, "", "JSON object"},
      {"no model", R"({"messages": [{"role": "user", "content": "hi"}]})", 400, "model", "model is required"},
      {"model not a string", with({{"model", 5}}), 400, "model", "must be a string"},
      {"unknown model", with({{"model", "gpt-4"}}), 404, "model", "'gpt-4' does not exist"},
      {"no messages", R"({"model": "pice"})", 400, "messages", "messages is required"},
      {"messages not an array", with({{"messages", "hi"}}), 400, "messages", "non-empty array"},
      {"messages empty", with({{"messages", json::array()}}), 400, "messages", "non-empty array"},
      {"message not an object", with({{"messages", {"hi"}}}), 400, "messages[0]", "must be an object"},
      {"no role", with({{"messages", {{{"content", "hi"}}}}}), 400, "messages[0].role", "must be a string"},
      {"unknown role", with({{"messages", {{{"role", "wizard"}, {"content", "hi"}}}}}), 400, "messages[0].role", "wizard"},
      {"content a number", with({{"messages", {{{"role", "user"}, {"content", 3}}}}}), 400, "messages[0].content", "string"},
      {"image content", with({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}), 400,
       "messages[0].content[0]", "only text"},
      {"no user message", with({{"messages", {{{"role", "system"}, {"content", "hi"}}}}}), 400, "messages", "user message"},
      {"empty question", with({{"messages", {{{"role", "user"}, {"content", "  "}}}}}), 400, "messages", "empty"},
      {"question too long", with({{"messages", {{{"role", "user"}, {"content", std::string(16 * 1024 + 1, 'a')}}}}}), 400,
       "messages", "at most 16384"},
      {"max_tokens 0", with({{"max_tokens", 0}}), 400, "max_tokens", "1..4096, got 0"},
      {"max_tokens too big", with({{"max_tokens", 5000}}), 400, "max_tokens", "got 5000"},
      {"max_tokens a string", with({{"max_tokens", "10"}}), 400, "max_tokens", "must be an integer"},
      {"max_tokens a fraction", with({{"max_tokens", 1.5}}), 400, "max_tokens", "must be an integer"},
      {"max_completion_tokens too big", with({{"max_completion_tokens", 99999}}), 400, "max_completion_tokens", "1..4096"},
      {"temperature negative", with({{"temperature", -1}}), 400, "temperature", "0..5"},
      {"temperature too high", with({{"temperature", 9.5}}), 400, "temperature", "got 9.5"},
      {"temperature a string", with({{"temperature", "hot"}}), 400, "temperature", "must be a number"},
      {"top_p too high", with({{"top_p", 1.5}}), 400, "top_p", "0..1"},
      {"seed negative", with({{"seed", -1}}), 400, "seed", "got -1"},
      {"stop a number", with({{"stop", 5}}), 400, "stop", "string or an array"},
      {"stop not strings", with({{"stop", {1}}}), 400, "stop", "strings of 1..256 bytes"},
      {"too many stops", with({{"stop", {"a", "b", "c", "d", "e"}}}), 400, "stop", "at most 4"},
      {"stream not a bool", with({{"stream", "yes"}}), 400, "stream", "true or false"},
      {"ignore_eos not a bool", with({{"ignore_eos", 1}}), 400, "ignore_eos", "true or false"},
      {"n above 1", with({{"n", 2}}), 400, "n", "1..1"},
      {"pice not an object", with({{"pice", "fast"}}), 400, "pice", "must be an object"},
      {"unknown mode", with({{"pice", {{"mode", "telepathy"}}}}), 400, "pice.mode", "'telepathy' is not available"},
      {"max_points 0", with({{"pice", {{"max_points", 0}}}}), 400, "pice.max_points", "1..32"},
      {"max_points too many", with({{"pice", {{"max_points", 33}}}}), 400, "pice.max_points", "got 33"},
      {"max_words_per_point too many", with({{"pice", {{"max_words_per_point", 65}}}}), 400,
       "pice.max_words_per_point", "1..64"},
  };
  auto gateway = serve();
  HttpConnection c(gateway->port());  // one keep-alive connection: a refusal does not end it
  for (const auto& k : cases) {
    HttpResponse r = c.request("POST", "/v1/chat/completions", k.body);
    EXPECT_EQ(r.status, k.status) << k.name << ": " << r.body;
    json error = json::parse(r.body)["error"];
    EXPECT_EQ(error["type"], "invalid_request_error") << k.name;
    if (*k.param) EXPECT_EQ(error["param"], k.param) << k.name << ": " << r.body;
    else EXPECT_TRUE(error["param"].is_null()) << k.name << ": " << r.body;
    EXPECT_NE(error["message"].get<std::string>().find(k.says), std::string::npos) << k.name << ": " << r.body;
    EXPECT_TRUE(error.contains("code")) << k.name;
  }
  EXPECT_EQ(metric(gateway->port(), "pice_http_inflight_requests"), 0);
}

TEST_F(HttpGatewayTest, RefusesUnknownPathsWrongMethodsHugeBodiesAndBrokenHttp) {
  auto gateway = serve();
  HttpConnection c(gateway->port());
  HttpResponse r = c.request("GET", "/v2/everything");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such endpoint: GET /v2/everything"), std::string::npos) << r.body;
  r = c.request("GET", "/v1/chat/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
  r = c.request("DELETE", "/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");

  // Over 1 MiB: refused after the headers, and the connection ends (the body is never read).
  HttpConnection big(gateway->port());
  r = big.request("POST", "/v1/chat/completions", std::string((1 << 20) + 1, ' '));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "request_too_large");
  EXPECT_TRUE(big.closed_by_server());

  HttpConnection broken(gateway->port());
  broken.send_raw("HELLO\r\n\r\n");
  r = broken.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed HTTP request"), std::string::npos) << r.body;
}

TEST_F(HttpGatewayTest, AskedForAKeyRefusesMissingAndWrongKeys) {
  HttpOptions options;
  options.api_key = "sekret-123";
  auto gateway = serve(options);
  HttpConnection c(gateway->port());
  HttpResponse r = c.request("GET", "/v1/models");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(r.body.find("sekret"), std::string::npos);
  EXPECT_EQ(c.request("POST", "/v1/chat/completions", with({}), {{"Authorization", "Bearer sekret-12"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, {{"Authorization", "Bearer sekret-1234"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, {{"Authorization", "Basic sekret-123"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, {{"Authorization", "Bearer sekret-123"}}).status, 200);
  EXPECT_EQ(c.request("GET", "/health").status, 200);  // probes need no key
}

TEST_F(HttpGatewayTest, ListsModelsReportsHealthAndCountsInMetrics) {
  HttpOptions options;
  options.model_name = "pice-test";
  auto gateway = serve(options);
  const int port = gateway->port();
  HttpConnection c(port);
  json models = json::parse(c.request("GET", "/v1/models").body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "pice-test");
  EXPECT_EQ(c.request("GET", "/v1/models/pice-test").status, 200);
  EXPECT_EQ(c.request("GET", "/v1/models/other").status, 404);
  HttpResponse health = c.request("GET", "/health");
  EXPECT_EQ(json::parse(health.body), json({{"status", "ok"}}));

  double ok_before = metric(port, "pice_http_requests_total{code=\"200\"}");
  double answered_before = metric(port, "pice_http_answer_latency_seconds_count");
  json body = json::parse(chat_body("What are some reasons cats purr?", false));
  body["model"] = "pice-test";
  HttpResponse r = c.request("POST", "/v1/chat/completions", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.request("GET", "/nowhere").status, 404);

  HttpConnection scrape(port);
  HttpResponse metrics = scrape.request("GET", "/metrics");
  EXPECT_EQ(metrics.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  // Since ok_before was rendered: its own scrape, the answered_before scrape, the chat, `scrape`.
  EXPECT_EQ(metric(port, "pice_http_requests_total{code=\"200\"}"), ok_before + 4);
  EXPECT_EQ(metric(port, "pice_http_requests_total{code=\"404\"}"), 2);
  EXPECT_EQ(metric(port, "pice_http_answer_latency_seconds_count"), answered_before + 1);
  EXPECT_EQ(metric(port, "pice_http_inflight_requests"), 0);
}

TEST_F(HttpGatewayTest, AtTheInflightLimitAnswers503WithRetryAfter) {
  HttpOptions options;
  options.max_inflight = 1;
  auto gateway = serve(options);
  HttpConnection first(gateway->port());
  first.send_request("POST", "/v1/chat/completions", chat_body("What are the steps to build a bridge?", true));
  ASSERT_EQ(first.read_head().status, 200);
  SseReader events(first);
  ASSERT_TRUE(events.next());  // the role chunk: the first request holds the only slot now

  HttpConnection second(gateway->port());
  HttpResponse refused = second.request("POST", "/v1/chat/completions", chat_body("And tunnels: what are some ways?", false));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(json::parse(refused.body)["error"]["type"], "server_error");
  EXPECT_EQ(metric(gateway->port(), "pice_http_inflight_requests"), 1);

  std::string last;
  while (auto e = events.next()) last = *e;
  EXPECT_EQ(last, "[DONE]");
  // The slot is free once the answer is complete.
  expect_complete_answer(second.request("POST", "/v1/chat/completions", chat_body("And tunnels: what are some ways?", false)));
}

TEST_F(HttpGatewayTest, AClientLeavingMidStreamLeavesTheServerServing) {
  auto gateway = serve();
  const int port = gateway->port();
  {
    HttpConnection leaver(port);
    leaver.send_request("POST", "/v1/chat/completions", chat_body("What are some ways volcanoes form?", true));
    ASSERT_EQ(leaver.read_head().status, 200);
    SseReader events(leaver);
    ASSERT_TRUE(events.next());
  }  // closed with the answer still streaming
  // The gone client is noticed (its request is cancelled) and its session ends.
  EXPECT_TRUE(wait_until([&] { return metric(port, "pice_http_errors_total{kind=\"disconnect\"}") == 1; },
                         std::chrono::seconds(120)));
  EXPECT_TRUE(wait_until([&] { return metric(port, "pice_http_inflight_requests") == 0; }, std::chrono::seconds(120)));
  EXPECT_TRUE(wait_until([&] { return metric(port, "pice_http_connections") == 1; }, std::chrono::seconds(10)))
      << "only the scraping connection should remain";
  HttpConnection next(port);
  expect_complete_answer(next.request("POST", "/v1/chat/completions", chat_body("What are some tips for earthquake safety?", false)));
}

TEST_F(HttpGatewayTest, AnswersSixteenConcurrentClients) {
  HttpOptions options;
  options.threads = 2;
  auto gateway = serve(options);
  constexpr int kClients = 16;
  std::vector<HttpResponse> responses(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      try {
        HttpConnection c(gateway->port());
        responses[i] = c.request("POST", "/v1/chat/completions",
                                 chat_body("Question " + std::to_string(i) + ": what are some ways birds navigate?", false));
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(failures[i], "") << "client " << i;
    expect_complete_answer(responses[i]);
  }
}

// A stand-in for a node's gateway: answers every request with the scripted chunks (none: never answers).
class ScriptedGateway {
 public:
  ScriptedGateway(const std::string& endpoint, std::vector<messages::AnswerChunk> script) : pump_("scripted") {
    pump_.add_socket({"gateway", zmq::socket_type::router, endpoint, brokers::Direction::bind},
                     [this, script](brokers::Inbound&& in) {
                       ++requests_;
                       for (const auto& chunk : script) {
                         messages::Envelope env;
                         env.request_id = in.envelope.request_id;
                         env.body = chunk;
                         pump_.send("gateway", env, in.peer);
                       }
                     });
    pump_.start();
  }
  int requests() const { return requests_.load(); }

 private:
  std::atomic<int> requests_{0};  // before pump_: the pump thread counts until pump_ is destroyed
  brokers::Pump pump_;
};

messages::AnswerChunk chunk(messages::ChunkKind kind, int index, const std::string& text) {
  messages::AnswerChunk c;
  c.kind = kind;
  c.point_index = index;
  c.text = text;
  c.mode = "pice";
  return c;
}

TEST_F(HttpGatewayTest, APipelineErrorIs500OrAnErrorEvent) {
  ScriptedGateway node("inproc://http-scripted-error", {chunk(messages::ChunkKind::sketch_point, 1, "A point"),
                                                        chunk(messages::ChunkKind::error, -1, "the sketch failed: boom")});
  auto gateway = serve({}, "inproc://http-scripted-error");
  HttpConnection c(gateway->port());
  HttpResponse r = c.request("POST", "/v1/chat/completions", with({}));
  EXPECT_EQ(r.status, 500);
  json error = json::parse(r.body)["error"];
  EXPECT_EQ(error["type"], "server_error");
  EXPECT_NE(error["message"].get<std::string>().find("the sketch failed: boom"), std::string::npos) << r.body;

  c.send_request("POST", "/v1/chat/completions", with({{"stream", true}}));
  ASSERT_EQ(c.read_head().status, 200);
  SseReader events(c);
  std::vector<std::string> data;
  while (auto e = events.next()) data.push_back(*e);
  ASSERT_EQ(data.size(), 4u);  // role, sketch point, error, [DONE]
  EXPECT_EQ(json::parse(data[1])["pice"]["sketch_point"]["text"], "A point");
  EXPECT_NE(json::parse(data[2])["error"]["message"].get<std::string>().find("boom"), std::string::npos) << data[2];
  EXPECT_EQ(data[3], "[DONE]");
  EXPECT_EQ(metric(gateway->port(), "pice_http_errors_total{kind=\"pipeline\"}"), 2);
  EXPECT_EQ(node.requests(), 2);
}

TEST_F(HttpGatewayTest, NoAnswerInTimeIs504AndFreesTheSlot) {
  ScriptedGateway silent("inproc://http-scripted-silent", {});
  HttpOptions options;
  options.answer_timeout_ms = 200;
  options.max_inflight = 1;
  auto gateway = serve(options, "inproc://http-scripted-silent");
  HttpConnection c(gateway->port());
  for (int i = 0; i < 2; ++i) {  // the second would get 503 if the first still held the slot
    HttpResponse r = c.request("POST", "/v1/chat/completions", with({}));
    EXPECT_EQ(r.status, 504) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "timeout");
  }
  EXPECT_EQ(metric(gateway->port(), "pice_http_errors_total{kind=\"timeout\"}"), 2);
}

TEST_F(HttpGatewayTest, StartingOnAPortInUseNamesIt) {
  auto first = serve();
  HttpOptions options;
  options.port = first->port();
  HttpGateway second(options, node_->gateway_endpoint());
  try {
    second.start();
    FAIL() << "started twice on one port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first->port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pice::testing
