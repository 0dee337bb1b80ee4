#include "actors/request_limits.hpp"

namespace pice::actors {
namespace {

std::optional<std::string> out_of_range(const char* field, int value, int high) {
  return std::string(field) + " must be 1.." + std::to_string(high) + " (or 0 for the node's default), got " +
         std::to_string(value);
}

}  // namespace

bool known_mode(const std::string& mode) {
  return mode == "pice" || mode == "sot" || mode == "route" || mode == "cloud-only";
}

const std::string& known_modes_text() {
  static const std::string text = "pice, sot, route, cloud-only";
  return text;
}

std::optional<std::string> check_request(const messages::Request& r, const std::string& request_id) {
  if (request_id.empty()) return "request_id is empty";
  if (request_id.size() > kMaxRequestIdBytes)
    return "request_id is " + std::to_string(request_id.size()) + " bytes; at most " +
           std::to_string(kMaxRequestIdBytes);
  if (r.question.find_first_not_of(" \t\r\n") == std::string::npos) return "question is empty";
  if (r.question.size() > kMaxQuestionBytes)
    return "question is " + std::to_string(r.question.size()) + " bytes; at most " +
           std::to_string(kMaxQuestionBytes);
  // An empty mode means the node's configured default.
  if (!r.mode.empty() && !known_mode(r.mode))
    return "mode '" + r.mode + "' is not available (known: " + known_modes_text() + ")";
  if (r.stop.size() > kMaxStopSequences)
    return "stop has " + std::to_string(r.stop.size()) + " sequences; at most " + std::to_string(kMaxStopSequences);
  for (const auto& s : r.stop)
    if (s.empty() || s.size() > kMaxStopBytes)
      return "stop sequences must be 1.." + std::to_string(kMaxStopBytes) + " bytes, got one of " +
             std::to_string(s.size());
  if (r.max_points < 0 || r.max_points > kMaxPoints) return out_of_range("max_points", r.max_points, kMaxPoints);
  if (r.max_words_per_point < 0 || r.max_words_per_point > kMaxWordsPerPoint)
    return out_of_range("max_words_per_point", r.max_words_per_point, kMaxWordsPerPoint);
  if (r.max_tokens_per_point < 0 || r.max_tokens_per_point > kMaxTokensPerPoint)
    return out_of_range("max_tokens_per_point", r.max_tokens_per_point, kMaxTokensPerPoint);
  if (r.ensemble < 0 || r.ensemble > kMaxEnsemble) return out_of_range("ensemble", r.ensemble, kMaxEnsemble);
  if (r.temperature > 5) return "temperature must be 0..5 (negative for the node's default), got " + std::to_string(r.temperature);
  if (r.top_p > 1) return "top_p must be 0..1 (negative for the node's default), got " + std::to_string(r.top_p);
  return std::nullopt;
}

}  // namespace pice::actors
