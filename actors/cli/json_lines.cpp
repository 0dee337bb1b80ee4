#include "actors/cli/json_lines.hpp"

#include <cstdio>

namespace pice::cli {
namespace {

const char* kind_name(messages::ChunkKind kind) {
  switch (kind) {
    case messages::ChunkKind::sketch_point: return "sketch_point";
    case messages::ChunkKind::expansion: return "expansion";
    case messages::ChunkKind::done: return "done";
    case messages::ChunkKind::error: return "error";
    case messages::ChunkKind::text: return "text";
  }
  return "unknown";
}

// The ensemble's judgement of an expansion (after the flat fields, so a reader that looks for the
// first "node" still finds the chosen one).
std::string candidates_json(const messages::AnswerChunk& c) {
  if (c.kind != messages::ChunkKind::expansion) return {};
  std::string out = ",\"copies\":" + std::to_string(c.copies) + ",\"candidates\":[";
  for (size_t i = 0; i < c.candidates.size(); ++i) {
    const auto& k = c.candidates[i];
    char numbers[200];
    snprintf(numbers, sizeof numbers,
             "\"tokens\":%d,\"fluency\":%.6g,\"relevance\":%.6g,\"agreement\":%.6g,\"score\":%.6g,\"chosen\":%s",
             k.tokens, k.fluency, k.relevance, k.agreement, k.score, k.chosen ? "true" : "false");
    out += std::string(i ? "," : "") + "{\"node\":" + json_string(k.node) + ",\"model\":" + json_string(k.model) +
           "," + numbers + "}";
  }
  return out + "]";
}

// The done chunk's count of the request's expansion traffic with the boards.
std::string traffic_json(const messages::AnswerChunk& c) {
  if (c.kind != messages::ChunkKind::done) return {};
  return ",\"task_bytes\":" + std::to_string(c.task_bytes) + ",\"result_bytes\":" + std::to_string(c.result_bytes);
}

}  // namespace

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through; model output may hold partial sequences
        }
    }
  }
  return out + "\"";
}

std::string chunk_json(const messages::AnswerChunk& c) {
  char numbers[160];
  snprintf(numbers, sizeof numbers, "\"point\":%d,\"score\":%.6g,\"total_points\":%d,\"elapsed_ms\":%.3f",
           c.point_index, c.score, c.total_points, c.elapsed_ms);
  return std::string("{\"kind\":\"") + kind_name(c.kind) + "\"," + numbers + ",\"text\":" + json_string(c.text) +
         ",\"node\":" + json_string(c.node) + ",\"model\":" + json_string(c.model) + ",\"mode\":" +
         json_string(c.mode) + ",\"path\":" + json_string(c.path) + ",\"tokens\":" + std::to_string(c.tokens) +
         candidates_json(c) + traffic_json(c) + "}";
}

}  // namespace pice::cli
