// The HTTP gateway's socket-free parts: request parsing, answer shaping, metrics text, addresses.
// (Every refusal's status and param is checked through real sockets in http_gateway_test.cpp.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "actors/http/chat_completions.hpp"
#include "actors/http/http_gateway.hpp"
#include "actors/http/metrics.hpp"
#include "actors/http/openai_errors.hpp"

namespace pice::testing {
namespace {

using nlohmann::json;
using namespace pice::actors::http;

TEST(HttpChatRequest, MapsEveryFieldOntoThePipelineRequest) {
  json body = {{"model", "pice"},
               {"messages",
                {{{"role", "system"}, {"content", "Be brief."}},
                 {{"role", "user"}, {"content", "first question"}},
                 {{"role", "assistant"}, {"content", "first answer"}},
                 {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "How do"}}, {{"type", "text"}, {"text", "bees fly?"}}}}}}},
               {"max_tokens", 40},
               {"temperature", 0.5},
               {"top_p", 0.9},
               {"seed", 7},
               {"stop", {"\n\n", "END"}},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}},
               {"ignore_eos", true},
               {"user", "ignored-unknown-field"},
               {"pice", {{"mode", "pice"}, {"max_points", 3}, {"max_words_per_point", 5}, {"ensemble", 2}}}};
  ChatRequest chat = parse_chat_request(body.dump(), "pice");
  EXPECT_EQ(chat.request.question, "How do\nbees fly?");  // the last user message only
  EXPECT_EQ(chat.request.max_tokens_per_point, 40);
  EXPECT_DOUBLE_EQ(chat.request.temperature, 0.5);
  EXPECT_DOUBLE_EQ(chat.request.top_p, 0.9);
  EXPECT_EQ(chat.request.seed, 7u);
  EXPECT_EQ(chat.request.mode, "pice");
  EXPECT_EQ(chat.request.max_points, 3);
  EXPECT_EQ(chat.request.max_words_per_point, 5);
  EXPECT_EQ(chat.request.ensemble, 2);
  EXPECT_EQ(chat.request.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_TRUE(chat.stream);
  EXPECT_TRUE(chat.include_usage);
  EXPECT_TRUE(chat.request.ignore_eos);
}

TEST(HttpChatRequest, LeavesUnsetOptionsAtTheNodeDefaults) {
  ChatRequest chat = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"Why?"}],"temperature":null,"stop":"x"})", "m");
  messages::Request defaults;
  defaults.question = "Why?";
  defaults.stop = {"x"};
  EXPECT_EQ(chat.request, defaults);
  EXPECT_EQ(chat.request.mode, "");  // the node's configured mode
  EXPECT_FALSE(chat.stream);
}

TEST(HttpChatRequest, MalformedJsonSaysWhere) {
  try {
    parse_chat_request("{\"model\": \"pice\",\n \"messages\": [}", "pice");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    json body = json::parse(error_json(e));
    EXPECT_TRUE(body["error"]["param"].is_null());
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  }
}

// Found while fuzzing (tests/fuzz/http_body_fuzz.cpp): a number too large for a double made the JSON
// parser throw out_of_range instead of parse_error; it escaped parse_chat_request, so the connection got
// no answer at all instead of a 400.
TEST(HttpChatRequest, NumberBeyondADoubleIsA400) {
  for (const std::string body : {"7777777e77777777777777757777777771222222222222222222222221111111",
                                 R"({"model": "pice", "temperature": 1e400, "messages": []})"}) {
    try {
      parse_chat_request(body, "pice");
      ADD_FAILURE() << "accepted " << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400);
      EXPECT_NE(std::string(e.what()).find("not valid JSON: number overflow parsing"), std::string::npos) << e.what();
    }
  }
}

// Two sketch points, their expansions, done: the order the node streams them.
std::vector<messages::AnswerChunk> answer_chunks() {
  auto chunk = [](messages::ChunkKind kind, int index, std::string text, std::string node = {}) {
    messages::AnswerChunk c;
    c.kind = kind;
    c.point_index = index;
    c.text = std::move(text);
    c.node = std::move(node);
    c.model = c.node.empty() ? "" : "tiny";
    c.score = -1.5;
    c.mode = "pice";
    return c;
  };
  using K = messages::ChunkKind;
  return {chunk(K::sketch_point, 1, "Sleep well"), chunk(K::sketch_point, 2, "Eat \"greens\""),
          chunk(K::expansion, 1, "Seven hours.", "edge-1"), chunk(K::expansion, 2, "Daily \xff bytes.", "edge-2"),
          [&] {
            auto done = chunk(K::done, -1, "");
            done.tokens = 30;
            done.prompt_tokens = 50;
            return done;
          }()};
}

TEST(HttpChatAnswer, StreamedDeltasConcatenateToTheNonStreamedContent) {
  ChatAnswer whole("chatcmpl-1", "pice", false, false);
  ChatAnswer streamed("chatcmpl-1", "pice", true, true);
  std::vector<json> events{json::parse(streamed.stream_start().substr(6))};
  for (const auto& c : answer_chunks()) {
    EXPECT_EQ(whole.add(c), "");
    std::string event = streamed.add(c);
    if (!event.empty()) {
      ASSERT_EQ(event.rfind("data: ", 0), 0u);
      ASSERT_EQ(event.substr(event.size() - 2), "\n\n");
      events.push_back(json::parse(event.substr(6)));
    }
  }
  std::string end = streamed.stream_end();
  ASSERT_EQ(end.substr(end.size() - 14), "data: [DONE]\n\n");

  json body = json::parse(whole.completion_json());
  std::string content = body["choices"][0]["message"]["content"];
  EXPECT_EQ(content.substr(0, 26), "1. Sleep well: Seven hours");
  EXPECT_NE(content.find("\n2. Eat \"greens\": Daily "), std::string::npos) << content;  // invalid UTF-8 replaced
  std::string deltas;
  for (const auto& e : events) deltas += e["choices"][0]["delta"].value("content", "");
  EXPECT_EQ(deltas, content);
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[1]["pice"]["sketch_point"]["text"], "Sleep well");
  EXPECT_EQ(events[3]["pice"]["point"]["node"], "edge-1");

  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 50);
  EXPECT_EQ(body["usage"]["completion_tokens"], 30);
  EXPECT_EQ(body["usage"]["total_tokens"], 80);
  EXPECT_EQ(body["pice"]["mode"], "pice");
  EXPECT_EQ(body["pice"]["sketch"], json({"Sleep well", "Eat \"greens\""}));
  ASSERT_EQ(body["pice"]["points"].size(), 2u);
  EXPECT_EQ(body["pice"]["points"][1]["index"], 2);
  EXPECT_EQ(body["pice"]["points"][1]["model"], "tiny");
  EXPECT_DOUBLE_EQ(body["pice"]["points"][1]["score"].get<double>(), -1.5);
  EXPECT_GE(body["pice"]["timings"]["total_ms"].get<double>(), body["pice"]["timings"]["first_chunk_ms"].get<double>());
}

TEST(HttpChatAnswer, ADirectAnswerIsItsTextWithOneProvenanceEntry) {
  ChatAnswer whole("chatcmpl-2", "pice", false, false);
  ChatAnswer streamed("chatcmpl-2", "pice", true, false);
  std::vector<messages::AnswerChunk> chunks(3);
  for (auto& c : chunks) {
    c.mode = "pice";
    c.path = "direct";
    c.reason = "router: not list-like";
  }
  chunks[0].kind = chunks[1].kind = messages::ChunkKind::text;
  chunks[0].text = "Use a loop";
  chunks[1].text = " with two variables.";
  chunks[2].kind = messages::ChunkKind::done;
  chunks[2].node = "cloud-1";
  chunks[2].model = "big";
  chunks[2].tokens = 9;
  std::string deltas;
  for (const auto& c : chunks) {
    whole.add(c);
    std::string event = streamed.add(c);
    if (!event.empty()) deltas += json::parse(event.substr(6))["choices"][0]["delta"].value("content", "");
  }
  json body = json::parse(whole.completion_json());
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Use a loop with two variables.");
  EXPECT_EQ(deltas, "Use a loop with two variables.");
  EXPECT_EQ(body["pice"]["path"], "direct");
  EXPECT_EQ(body["pice"]["reason"], "router: not list-like");
  EXPECT_TRUE(body["pice"]["sketch"].empty());
  ASSERT_EQ(body["pice"]["points"].size(), 1u);
  EXPECT_EQ(body["pice"]["points"][0]["node"], "cloud-1");
  EXPECT_EQ(body["pice"]["points"][0]["text"], "Use a loop with two variables.");
  EXPECT_EQ(body["usage"]["completion_tokens"], 9);
}

TEST(HttpMetrics, RendersCountersGaugesAndACumulativeHistogram) {
  Metrics m;
  m.count_response(200);
  m.count_response(200);
  m.count_response(404);
  m.count_error(ErrorKind::disconnect);
  m.observe_answer(0.07);
  m.observe_answer(3);
  m.observe_answer(1000);
  std::string text = m.render(5);
  for (const char* line :
       {"pice_http_requests_total{code=\"200\"} 2\n", "pice_http_requests_total{code=\"404\"} 1\n",
        "pice_http_inflight_requests 5\n", "pice_http_errors_total{kind=\"disconnect\"} 1\n",
        "pice_http_errors_total{kind=\"timeout\"} 0\n", "pice_http_answer_latency_seconds_bucket{le=\"0.05\"} 0\n",
        "pice_http_answer_latency_seconds_bucket{le=\"0.1\"} 1\n", "pice_http_answer_latency_seconds_bucket{le=\"5\"} 2\n",
        "pice_http_answer_latency_seconds_bucket{le=\"300\"} 2\n",
        "pice_http_answer_latency_seconds_bucket{le=\"+Inf\"} 3\n", "pice_http_answer_latency_seconds_count 3\n",
        "# TYPE pice_http_answer_latency_seconds histogram\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << " not in:\n" << text;
}

TEST(HttpAddress, ParsesHostAndPort) {
  struct Case {
    const char* text;
    const char* host;
    int port;
  };
  for (const Case& c : {Case{"127.0.0.1:8080", "127.0.0.1", 8080}, Case{"0.0.0.0:0", "0.0.0.0", 0},
                        Case{"localhost:65535", "localhost", 65535}, Case{"[::1]:9000", "::1", 9000}}) {
    HttpOptions o = parse_http_address(c.text);
    EXPECT_EQ(o.host, c.host) << c.text;
    EXPECT_EQ(o.port, c.port) << c.text;
  }
  for (const char* bad : {"8080", ":8080", "host:", "host:http", "host:65536", "host:-1", "::1:80", "h:123456"}) {
    try {
      parse_http_address(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(HttpGatewayOptions, RejectsOutOfRangeOptionsByName) {
  auto rejects = [](HttpOptions o, const char* field) {
    try {
      HttpGateway gateway(o, "inproc://nowhere");
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  HttpOptions o;
  o.threads = 0;
  rejects(o, "threads");
  o = {};
  o.max_inflight = 0;
  rejects(o, "max_inflight");
  o = {};
  o.port = 70000;
  rejects(o, "port");
}

}  // namespace
}  // namespace pice::testing
