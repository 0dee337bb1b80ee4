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

json provenance(const messages::AnswerChunk& c) {
  return {{"index", c.point_index}, {"text", c.text}, {"node", c.node}, {"model", c.model}, {"score", c.score}};
}

// Token counts do not travel in answer chunks yet; 0 says "not known", as documented.
json usage() { return {{"prompt_tokens", 0}, {"completion_tokens", 0}, {"total_tokens", 0}}; }

double round_ms(double ms) { return ms < 0 ? 0 : static_cast<double>(static_cast<int64_t>(ms * 1000 + 0.5)) / 1000; }

}  // namespace

ChatAnswer::ChatAnswer(std::string id, std::string model, bool streaming, bool include_usage, Clock::time_point start)
    : id_(std::move(id)), model_(std::move(model)), streaming_(streaming), include_usage_(include_usage), start_(start),
      created_s_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                     .count()) {}

double ChatAnswer::ms_since_start() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
}

std::string ChatAnswer::add(const messages::AnswerChunk& chunk) {
  if (first_chunk_ms_ < 0) first_chunk_ms_ = ms_since_start();
  if (!chunk.mode.empty()) mode_ = chunk.mode;
  json delta = json::object();
  json pice;
  switch (chunk.kind) {
    case messages::ChunkKind::sketch_point: {
      if (chunk.point_index < 1) return {};
      size_t at = static_cast<size_t>(chunk.point_index);
      if (sketch_.size() < at) sketch_.resize(at);
      sketch_[at - 1] = chunk.text;
      pice = {{"sketch_point", {{"index", chunk.point_index}, {"text", chunk.text}}}};
      break;
    }
    case messages::ChunkKind::expansion: {
      points_.push_back(chunk);
      // The sketch point normally arrives first; without it the line still carries its number.
      size_t at = static_cast<size_t>(std::max(chunk.point_index, 0));
      bool have_point = at >= 1 && at <= sketch_.size() && !sketch_[at - 1].empty();
      std::string line = std::to_string(chunk.point_index) + ". " + (have_point ? sketch_[at - 1] + ": " : "") +
                         chunk.text + "\n";
      content_ += line;
      delta = {{"content", line}};
      pice = {{"point", provenance(chunk)}};
      break;
    }
    case messages::ChunkKind::done:
      total_ms_ = ms_since_start();
      return {};
    case messages::ChunkKind::error:
      return {};
  }
  if (!streaming_) return {};
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
  for (const auto& p : points_) points.push_back(provenance(p));
  json body = {
      {"id", id_},
      {"object", "chat.completion"},
      {"created", created_s_},
      {"model", model_},
      {"choices", json::array({{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", content_}}},
                                {"logprobs", nullptr},
                                {"finish_reason", "stop"}}})},
      {"usage", usage()},
      {"pice",
       {{"mode", mode_},
        {"sketch", sketch_},
        {"points", points},
        {"timings", {{"total_ms", round_ms(total_ms_)}, {"first_chunk_ms", round_ms(first_chunk_ms_)}}}}}};
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
  json last = {{"id", id_},
               {"object", "chat.completion.chunk"},
               {"created", created_s_},
               {"model", model_},
               {"choices", json::array({{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}})},
               {"pice",
                {{"mode", mode_},
                 {"timings", {{"total_ms", round_ms(total_ms_)}, {"first_chunk_ms", round_ms(first_chunk_ms_)}}}}}};
  std::string out = sse(last);
  if (include_usage_) {
    json usage_event = {{"id", id_},           {"object", "chat.completion.chunk"}, {"created", created_s_},
                        {"model", model_},     {"choices", json::array()},          {"usage", usage()}};
    out += sse(usage_event);
  }
  return out + "data: [DONE]\n\n";
}

std::string ChatAnswer::stream_error(const std::string& json_error_body) {
  return "data: " + json_error_body + "\n\ndata: [DONE]\n\n";
}

}  // namespace pice::actors::http
