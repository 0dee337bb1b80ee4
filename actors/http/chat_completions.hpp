#pragma once
// POST /v1/chat/completions without sockets: the OpenAI request body -> messages::Request (checked,
// every refusal naming its field), and one answer's chunks -> the chat.completion body or the
// chat.completion.chunk events of a stream, both with the `pice` extension object.
//
// What the request fields mean here:
// - the question is the content of the LAST user message; system and earlier messages are checked but
//   not sent (the pipeline takes one question; joining a history into it would change what the sketch
//   prompt asks and eat the question size limit);
// - max_tokens (or max_completion_tokens) bounds the tokens of EACH point's expansion, or of the whole
//   answer when it is answered directly;
// - temperature, top_p, seed go to the sketch, the expansions and direct answers (seed 0 = the node's
//   default); stop and ignore_eos to the expansions and direct answers (a sketch's shape is the writer's);
// - pice: {"mode", "max_points", "max_words_per_point"} chooses the mode and overrides the sketch budget.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bodies.hpp"

namespace pice::actors::http {

struct ChatRequest {
  messages::Request request;
  std::string model;
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage: a usage chunk before [DONE]
};

// Throws ApiError: 400 for malformed JSON (with line and column), missing or wrong-typed fields and
// values out of range (param names the field, e.g. "messages[1].content", "pice.max_points"),
// 404 (param "model") for a model other than model_name.
ChatRequest parse_chat_request(std::string_view body, const std::string& model_name);

// One answer, collected chunk by chunk as the node streams it (sketch points, then expansions in
// point order, then done; or a direct answer's text pieces, then done). The content is
// "1. point: expansion\n2. point: expansion\n..." (or the direct answer's text), the same whether
// streamed or not. usage counts the tokens every model read (prompt) and wrote (completion) for it.
class ChatAnswer {
 public:
  using Clock = std::chrono::steady_clock;
  ChatAnswer(std::string id, std::string model, bool streaming, bool include_usage,
             Clock::time_point start = Clock::now());

  // Records a chunk (of any kind). Streaming: returns the SSE event it produces ("" if none);
  // otherwise always "".
  std::string add(const messages::AnswerChunk& chunk);

  std::string completion_json() const;  // non-streaming body (after the done chunk)
  std::string stream_start() const;     // SSE: the first chunk (role "assistant")
  std::string stream_end() const;       // SSE: finish_reason "stop" (+ usage) then [DONE]
  static std::string stream_error(const std::string& json_error_body);  // SSE: the error, then [DONE]

  const std::string& id() const { return id_; }
  const std::string& content() const { return content_; }
  const std::vector<std::string>& sketch() const { return sketch_; }
  size_t expanded_points() const { return points_.size(); }

 private:
  double ms_since_start() const;

  std::string id_;
  std::string model_;
  bool streaming_;
  bool include_usage_;
  Clock::time_point start_;
  int64_t created_s_;
  messages::AnswerChunk last_;                    // the latest chunk: mode, path, reason, budget; done: totals
  std::string content_;
  std::vector<std::string> sketch_;               // by point index - 1
  std::vector<messages::AnswerChunk> points_;     // expansions in order (a direct answer: one, from done)
  std::vector<double> ready_ms_;                  // when each of points_ arrived
  double first_chunk_ms_ = -1;
  double sketch_ms_ = -1;                         // when the last sketch point arrived
  double total_ms_ = -1;
};

}  // namespace pice::actors::http
