// parse_chat_request: the OpenAI body -> ChatRequest. Every refusal is an ApiError naming its field.
#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "actors/http/chat_completions.hpp"
#include "actors/http/openai_errors.hpp"
#include "actors/request_limits.hpp"

namespace pice::actors::http {
namespace {

using json = nlohmann::json;

// request_limits.cpp accepts temperatures up to this; the same bound here keeps one rule.
constexpr double kMaxTemperature = 5;

[[noreturn]] void fail(const std::string& param, const std::string& message) { throw ApiError(400, message, param); }

// The value as the client wrote it, shortened: enough to recognise it in an error message.
std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 40 ? text.substr(0, 40) + "..." : text;
}

// 0 and 5 rather than 0.0 and 5.0 in messages.
std::string plain(double x) {
  std::string text = std::to_string(x);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

// A field that is absent or null is "not given" (clients send null for unset options).
const json* field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> integer(const json& object, const char* name, const std::string& param, int64_t low,
                               int64_t high) {
  const json* v = field(object, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) fail(param, param + " must be an integer, got " + shown(*v));
  bool in_range;
  if (v->is_number_unsigned()) {  // may exceed int64_t: compare unsigned
    uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(high) && (low <= 0 || u >= static_cast<uint64_t>(low));
  } else {
    int64_t s = v->get<int64_t>();
    in_range = s >= low && s <= high;
  }
  if (!in_range)
    fail(param, param + " must be " + std::to_string(low) + ".." + std::to_string(high) + ", got " + shown(*v));
  return v->get<int64_t>();
}

std::optional<double> number(const json& object, const char* name, double low, double high) {
  const json* v = field(object, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail(name, std::string(name) + " must be a number, got " + shown(*v));
  double x = v->get<double>();
  if (!(x >= low && x <= high))
    fail(name, std::string(name) + " must be " + plain(low) + ".." + plain(high) + ", got " + shown(*v));
  return x;
}

std::optional<bool> boolean(const json& object, const char* name, const std::string& param) {
  const json* v = field(object, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(param, param + " must be true or false, got " + shown(*v));
  return v->get<bool>();
}

json parse_object(std::string_view body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {
    // parse_error: "[json.exception.parse_error.101] parse error at line L, column C: ..."; out_of_range
    // (a number beyond a double, such as 1e400): "[json.exception.out_of_range.406] number overflow
    // parsing '1e400'". Keep what follows the bracket.
    std::string why = e.what();
    auto at = why.find("] ");
    fail("", "the request body is not valid JSON: " + (at == std::string::npos ? why : why.substr(at + 2)));
  }
  if (!doc.is_object()) fail("", "the request body must be a JSON object, got " + shown(doc));
  return doc;
}

// A message's content: a string, or an array of {"type": "text", "text": ...} parts joined.
std::string content_text(const json& content, const std::string& param) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) fail(param, param + " must be a string or an array of text parts, got " + shown(content));
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    std::string at = param + "[" + std::to_string(i) + "]";
    if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") ||
        !part["text"].is_string())
      fail(at, at + " must be {\"type\": \"text\", \"text\": \"...\"} (only text is supported), got " + shown(part));
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

// Checks every message; returns the content of the last user message (the question).
std::string question_from(const json& body) {
  const json* messages = field(body, "messages");
  if (!messages) fail("messages", "messages is required");
  if (!messages->is_array() || messages->empty())
    fail("messages", "messages must be a non-empty array, got " + shown(*messages));
  static const std::vector<std::string> kRoles = {"system", "developer", "user", "assistant", "tool", "function"};
  std::optional<std::string> question;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) fail(at, at + " must be an object, got " + shown(m));
    const json* role = field(m, "role");
    if (!role || !role->is_string()) fail(at + ".role", at + ".role must be a string");
    if (std::find(kRoles.begin(), kRoles.end(), role->get<std::string>()) == kRoles.end())
      fail(at + ".role", at + ".role must be system, developer, user, assistant or tool, got " + shown(*role));
    const json* content = field(m, "content");
    if (!content) {
      if (*role == "user") fail(at + ".content", at + ".content is required");
      continue;  // an assistant turn with tool calls only
    }
    std::string text = content_text(*content, at + ".content");
    if (*role == "user") question = std::move(text);
  }
  if (!question) fail("messages", "messages must contain a user message (its content is the question)");
  if (question->find_first_not_of(" \t\r\n") == std::string::npos)
    fail("messages", "the last user message is empty");
  if (question->size() > kMaxQuestionBytes)
    fail("messages", "the last user message is " + std::to_string(question->size()) + " bytes; at most " +
                         std::to_string(kMaxQuestionBytes));
  return *question;
}

std::vector<std::string> stop_sequences(const json& body) {
  const json* stop = field(body, "stop");
  if (!stop) return {};
  if (stop->is_string()) return {stop->get<std::string>()};
  if (!stop->is_array()) fail("stop", "stop must be a string or an array of strings, got " + shown(*stop));
  if (stop->size() > kMaxStopSequences)
    fail("stop", "stop has " + std::to_string(stop->size()) + " sequences; at most " + std::to_string(kMaxStopSequences));
  std::vector<std::string> out;
  for (const json& s : *stop) {
    if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > kMaxStopBytes)
      fail("stop", "stop must hold strings of 1.." + std::to_string(kMaxStopBytes) + " bytes, got " + shown(s));
    out.push_back(s.get<std::string>());
  }
  return out;
}

void read_pice_options(const json& body, messages::Request& request) {
  const json* pice = field(body, "pice");
  if (!pice) return;
  if (!pice->is_object()) fail("pice", "pice must be an object, got " + shown(*pice));
  if (const json* mode = field(*pice, "mode")) {
    if (!mode->is_string()) fail("pice.mode", "pice.mode must be a string, got " + shown(*mode));
    if (!known_mode(mode->get<std::string>()))
      fail("pice.mode", "pice.mode '" + mode->get<std::string>() + "' is not available (known: " + known_modes_text() + ")");
    request.mode = mode->get<std::string>();
  }
  if (auto n = integer(*pice, "max_points", "pice.max_points", 1, kMaxPoints)) request.max_points = static_cast<int32_t>(*n);
  if (auto n = integer(*pice, "max_words_per_point", "pice.max_words_per_point", 1, kMaxWordsPerPoint))
    request.max_words_per_point = static_cast<int32_t>(*n);
  if (auto n = integer(*pice, "ensemble", "pice.ensemble", 1, kMaxEnsemble)) request.ensemble = static_cast<int32_t>(*n);
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body, const std::string& model_name) {
  json doc = parse_object(body);
  ChatRequest chat;
  const json* model = field(doc, "model");
  if (!model) fail("model", "model is required (this server serves '" + model_name + "')");
  if (!model->is_string()) fail("model", "model must be a string, got " + shown(*model));
  chat.model = model->get<std::string>();
  if (chat.model != model_name)
    throw ApiError(404, "the model '" + chat.model + "' does not exist; this server serves '" + model_name + "'",
                   "model", kInvalidRequest, "model_not_found");

  messages::Request& r = chat.request;
  r.question = question_from(doc);
  if (auto n = integer(doc, "max_tokens", "max_tokens", 1, kMaxTokensPerPoint)) r.max_tokens_per_point = static_cast<int32_t>(*n);
  if (auto n = integer(doc, "max_completion_tokens", "max_completion_tokens", 1, kMaxTokensPerPoint))
    r.max_tokens_per_point = static_cast<int32_t>(*n);
  if (auto t = number(doc, "temperature", 0, kMaxTemperature)) r.temperature = *t;
  if (auto p = number(doc, "top_p", 0, 1)) r.top_p = *p;
  if (auto s = integer(doc, "seed", "seed", 0, INT64_MAX)) r.seed = static_cast<uint64_t>(*s);
  integer(doc, "n", "n", 1, 1);  // one choice only
  r.stop = stop_sequences(doc);
  r.ignore_eos = boolean(doc, "ignore_eos", "ignore_eos").value_or(false);
  chat.stream = boolean(doc, "stream", "stream").value_or(false);
  if (const json* options = field(doc, "stream_options")) {
    if (!options->is_object()) fail("stream_options", "stream_options must be an object, got " + shown(*options));
    chat.include_usage = boolean(*options, "include_usage", "stream_options.include_usage").value_or(false);
  }
  read_pice_options(doc, r);
  // The node checks again; checking here too names the field for the client and keeps a refusal a 400.
  if (auto problem = check_request(r, "http")) fail("", *problem);
  return chat;
}

}  // namespace pice::actors::http
