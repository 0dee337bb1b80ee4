// ChatAnswer: one answer's chunks -> the chat.completion body, or the chat.completion.chunk events.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/http/chat_completions.hpp"

namespace pice::actors::http {
namespace {

using json = nlohmann::json;

// Model output may hold invalid UTF-8 (a token boundary inside a character): replace, never throw.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse(const json& value) { return "data: " + dump(value) + "\n\n"; }

double round_ms(double ms) { return ms < 0 ? 0 : static_cast<double>(static_cast<int64_t>(ms * 1000 + 0.5)) / 1000; }

// What the request's expansion work took on the wire between the cloud and the boards.
json traffic(const messages::AnswerChunk& done) {
  return {{"tasks", done.task_bytes}, {"results", done.result_bytes}};
}

json provenance(const messages::AnswerChunk& c, double ready_ms) {
  json out = {{"index", c.point_index},
              {"text", c.text},
              {"node", c.node},
              {"model", c.model},
              {"score", c.score},
              {"tokens", c.tokens},
              {"timings",
               {{"queue_ms", round_ms(c.timings.queue_ms)},
                {"prefill_ms", round_ms(c.timings.prefill_ms)},
                {"decode_ms", round_ms(c.timings.decode_ms)},
                {"ready_ms", round_ms(ready_ms)}}}};
  // The ensemble's judgement: every candidate it scored, and how many copies were sent.
  json candidates = json::array();
  for (const auto& k : c.candidates)
    candidates.push_back({{"node", k.node}, {"model", k.model}, {"tokens", k.tokens}, {"fluency", k.fluency},
                          {"relevance", k.relevance}, {"agreement", k.agreement}, {"score", k.score},
                          {"chosen", k.chosen}});
  out["copies"] = c.copies;
  out["candidates"] = std::move(candidates);
  return out;
}

// How the node served the answer: the same on every chunk, so any one of them tells it.
json plan(const messages::AnswerChunk& c) {
  json out = {{"mode", c.mode}, {"path", c.path}, {"reason", c.reason}};
  if (c.budget_points > 0) out["budget"] = {{"max_points", c.budget_points}, {"max_words_per_point", c.budget_words}};
  return out;
}

json usage(const messages::AnswerChunk& done) {
  return {{"prompt_tokens", done.prompt_tokens},
          {"completion_tokens", done.tokens},
          {"total_tokens", done.prompt_tokens + done.tokens}};
}

bool direct_path(const std::string& path) { return path == "direct" || path == "direct-edge"; }

}  // namespace

ChatAnswer::ChatAnswer(std::string id, std::string model, bool streaming, bool include_usage, Clock::time_point start)
    : id_(std::move(id)), model_(std::move(model)), streaming_(streaming), include_usage_(include_usage), start_(start),
      created_s_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                     .count()) {}

double ChatAnswer::ms_since_start() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
}

std::string ChatAnswer::add(const messages::AnswerChunk& chunk) {
  const double now_ms = ms_since_start();
  if (first_chunk_ms_ < 0) first_chunk_ms_ = now_ms;
  const bool first = last_.mode.empty() && last_.path.empty();
  if (chunk.kind != messages::ChunkKind::error) last_ = chunk;
  json delta = json::object();
  json pice;
  switch (chunk.kind) {
    case messages::ChunkKind::sketch_point: {
      if (chunk.point_index < 1) return {};
      size_t at = static_cast<size_t>(chunk.point_index);
      if (sketch_.size() < at) sketch_.resize(at);
      sketch_[at - 1] = chunk.text;
      sketch_ms_ = now_ms;
      pice = {{"sketch_point", {{"index", chunk.point_index}, {"text", chunk.text}}}};
      break;
    }
    case messages::ChunkKind::expansion: {
      points_.push_back(chunk);
      ready_ms_.push_back(now_ms);
      // The sketch point normally arrives first; without it the line still carries its number.
      size_t at = static_cast<size_t>(std::max(chunk.point_index, 0));
      bool have_point = at >= 1 && at <= sketch_.size() && !sketch_[at - 1].empty();
      std::string line = std::to_string(chunk.point_index) + ". " + (have_point ? sketch_[at - 1] + ": " : "") +
                         chunk.text + "\n";
      content_ += line;
      delta = {{"content", line}};
      pice = {{"point", provenance(chunk, now_ms)}};
      break;
    }
    case messages::ChunkKind::text:
      content_ += chunk.text;
      delta = {{"content", chunk.text}};
      pice = json::object();
      break;
    case messages::ChunkKind::done:
      total_ms_ = now_ms;
      if (direct_path(chunk.path)) {
        // A direct answer is one part: its provenance comes with the done chunk.
        messages::AnswerChunk whole = chunk;
        whole.point_index = 1;
        whole.text = content_;
        points_.push_back(whole);
        ready_ms_.push_back(now_ms);
      }
      return {};
    case messages::ChunkKind::error:
      return {};
  }
  if (!streaming_) return {};
  if (first) pice.update(plan(chunk));  // a stream says how it is served as soon as it can
  json event = {{"id", id_},
                {"object", "chat.completion.chunk"},
                {"created", created_s_},
                {"model", model_},
                {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}})},
                {"pice", pice}};
  return sse(event);
}

std::string ChatAnswer::completion_json() const {
  json points = json::array();
  for (size_t i = 0; i < points_.size(); ++i) points.push_back(provenance(points_[i], ready_ms_[i]));
  json pice = plan(last_);
  pice["sketch"] = sketch_;
  pice["points"] = points;
  pice["timings"] = {{"total_ms", round_ms(total_ms_)},
                     {"first_chunk_ms", round_ms(first_chunk_ms_)},
                     {"sketch_ms", round_ms(sketch_ms_)}};
  pice["bytes"] = traffic(last_);
  json body = {
      {"id", id_},
      {"object", "chat.completion"},
      {"created", created_s_},
      {"model", model_},
      {"choices", json::array({{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", content_}}},
                                {"logprobs", nullptr},
                                {"finish_reason", "stop"}}})},
      {"usage", usage(last_)},
      {"pice", pice}};
  return dump(body);
}

std::string ChatAnswer::stream_start() const {
  json event = {{"id", id_},
                {"object", "chat.completion.chunk"},
                {"created", created_s_},
                {"model", model_},
                {"choices", json::array({{{"index", 0},
                                          {"delta", {{"role", "assistant"}, {"content", ""}}},
                                          {"finish_reason", nullptr}}})}};
  return sse(event);
}

std::string ChatAnswer::stream_end() const {
  json pice = plan(last_);
  if (!points_.empty() && direct_path(last_.path)) pice["point"] = provenance(points_.back(), ready_ms_.back());
  pice["timings"] = {{"total_ms", round_ms(total_ms_)},
                     {"first_chunk_ms", round_ms(first_chunk_ms_)},
                     {"sketch_ms", round_ms(sketch_ms_)}};
  pice["bytes"] = traffic(last_);
  json last = {{"id", id_},
               {"object", "chat.completion.chunk"},
               {"created", created_s_},
               {"model", model_},
               {"choices", json::array({{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}})},
               {"pice", pice}};
  std::string out = sse(last);
  if (include_usage_) {
    json usage_event = {{"id", id_},       {"object", "chat.completion.chunk"}, {"created", created_s_},
                        {"model", model_}, {"choices", json::array()},          {"usage", usage(last_)}};
    out += sse(usage_event);
  }
  return out + "data: [DONE]\n\n";
}

std::string ChatAnswer::stream_error(const std::string& json_error_body) {
  return "data: " + json_error_body + "\n\ndata: [DONE]\n\n";
}

}  // namespace pice::actors::http
