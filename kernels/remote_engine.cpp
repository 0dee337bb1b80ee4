#include "kernels/remote_engine.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace pice::kernels {

RemoteEngine::RemoteEngine(RemoteEngineConfig config) : config_(std::move(config)), url_(parse_http_url(config_.url)) {}

std::string RemoteEngine::name() const { return config_.model + "@" + config_.url; }

namespace {

// Adds choice.logprobs.content[i].logprob (as OpenAI, vLLM and llama-server send them) to sum and n.
void add_logprobs(const nlohmann::json& choice, double& sum, int& n) {
  if (!choice.contains("logprobs") || !choice["logprobs"].is_object() || !choice["logprobs"].contains("content") ||
      !choice["logprobs"]["content"].is_array())
    return;
  for (const nlohmann::json& token : choice["logprobs"]["content"])
    if (token.is_object() && token.contains("logprob") && token["logprob"].is_number()) {
      sum += token["logprob"].get<double>();
      ++n;
    }
}

// Reads usage.prompt_tokens and usage.completion_tokens; false when the reply has no usage object.
bool read_usage(const nlohmann::json& reply, RemoteGeneration& out) {
  if (!reply.contains("usage") || !reply["usage"].is_object()) return false;
  const nlohmann::json& usage = reply["usage"];
  if (usage.contains("prompt_tokens") && usage["prompt_tokens"].is_number_integer()) out.prompt_tokens = usage["prompt_tokens"];
  if (usage.contains("completion_tokens") && usage["completion_tokens"].is_number_integer())
    out.completion_tokens = usage["completion_tokens"];
  return true;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string RemoteEngine::request_body(const std::vector<ChatMessage>& messages, const RemoteOptions& options,
                                       bool stream) const {
  nlohmann::json body = {{"model", config_.model},
                         {"max_tokens", options.max_tokens},
                         {"temperature", options.temperature},
                         {"top_p", options.top_p},
                         {"seed", options.seed},
                         {"logprobs", true},
                         {"stream", stream}};
  if (stream) body["stream_options"] = {{"include_usage", true}};
  if (!options.stop.empty()) body["stop"] = options.stop;
  if (options.ignore_eos) body["ignore_eos"] = true;
  nlohmann::json list = nlohmann::json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(list);
  return body.dump();
}

void RemoteEngine::fail_status(const HttpResult& result) const {
  const nlohmann::json reply = nlohmann::json::parse(result.body, nullptr, false);
  std::string message = result.body.substr(0, 300);
  if (!reply.is_discarded() && reply.contains("error") && reply["error"].is_object())
    message = reply["error"].value("message", message);
  throw RemoteEngineError("remote engine " + name() + " answered HTTP " + std::to_string(result.status) + ": " + message);
}

RemoteGeneration RemoteEngine::chat(const std::vector<ChatMessage>& messages, const RemoteOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  HttpResult result;
  try {
    result = post_json(url_, "/chat/completions", request_body(messages, options, false), config_.api_key,
                       config_.timeout_ms);
  } catch (const std::exception& e) {
    throw RemoteEngineError(std::string("remote engine ") + name() + ": " + e.what());
  }
  if (result.status != 200) fail_status(result);
  const nlohmann::json reply = nlohmann::json::parse(result.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() ||
      reply["choices"].empty() || !reply["choices"][0].is_object())
    throw RemoteEngineError("remote engine " + name() + " sent no choices: " + result.body.substr(0, 300));

  RemoteGeneration out;
  out.elapsed_ms = ms_since(start);
  const nlohmann::json& choice = reply["choices"][0];
  const nlohmann::json message = choice.value("message", nlohmann::json::object());
  if (!message.is_object() || !message.contains("content") || !message["content"].is_string())
    throw RemoteEngineError("remote engine " + name() + " sent a choice without message.content");
  out.text = message["content"].get<std::string>();
  if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) out.finish_reason = choice["finish_reason"];
  read_usage(reply, out);
  double sum = 0;
  int n = 0;
  add_logprobs(choice, sum, n);
  if (n > 0) {
    out.has_logprobs = true;
    out.mean_logprob = sum / n;
  }
  return out;
}

RemoteGeneration RemoteEngine::chat_stream(const std::vector<ChatMessage>& messages, const RemoteOptions& options,
                                           const TextSink& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  RemoteGeneration out;
  std::string pending;  // bytes of an event not yet complete
  double logprob_sum = 0;
  int logprob_count = 0, deltas = 0;
  bool done = false;
  std::string bad_event;
  // One server-sent event: its "data:" lines joined. "[DONE]" ends the stream.
  auto on_event = [&](std::string_view event) {
    std::string data;
    while (!event.empty()) {
      const size_t eol = event.find('\n');
      std::string_view line = event.substr(0, eol);
      event = eol == std::string_view::npos ? std::string_view{} : event.substr(eol + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (line.starts_with(" ")) line.remove_prefix(1);
        data += line;
      }
    }
    if (data.empty()) return true;  // a comment or keep-alive
    if (data == "[DONE]") {
      done = true;
      return false;
    }
    const nlohmann::json chunk = nlohmann::json::parse(data, nullptr, false);
    if (chunk.is_discarded() || !chunk.is_object()) {
      bad_event = data.substr(0, 300);
      return false;
    }
    if (chunk.contains("error") && chunk["error"].is_object()) {
      bad_event = chunk["error"].value("message", data.substr(0, 300));
      return false;
    }
    out.counted_by_server = read_usage(chunk, out) || out.counted_by_server;
    if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return true;
    const nlohmann::json& choice = chunk["choices"][0];
    if (!choice.is_object()) return true;
    add_logprobs(choice, logprob_sum, logprob_count);
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) out.finish_reason = choice["finish_reason"];
    if (!choice.contains("delta") || !choice["delta"].is_object()) return true;
    const nlohmann::json& delta = choice["delta"];
    if (!delta.contains("content") || !delta["content"].is_string()) return true;
    const std::string text = delta["content"].get<std::string>();
    if (text.empty()) return true;
    ++deltas;
    if (out.first_text_ms < 0) out.first_text_ms = ms_since(start);
    out.text += text;
    if (on_text && !on_text(text)) {
      out.stopped = true;
      return false;
    }
    return true;
  };
  auto on_body = [&](std::string_view bytes) {
    pending += bytes;
    size_t at;
    // Events end with a blank line; servers use \n\n (and some \r\n\r\n).
    while ((at = pending.find("\n\n")) != std::string::npos || (at = pending.find("\r\n\r\n")) != std::string::npos) {
      const size_t end = pending.compare(at, 2, "\n\n") == 0 ? at + 2 : at + 4;
      const std::string event = pending.substr(0, at);
      pending.erase(0, end);
      if (!on_event(event)) return false;
    }
    return true;
  };
  HttpResult result;
  try {
    result = post_json_streaming(url_, "/chat/completions", request_body(messages, options, true), config_.api_key,
                                 config_.timeout_ms, on_body);
  } catch (const std::exception& e) {
    throw RemoteEngineError(std::string("remote engine ") + name() + ": " + e.what());
  }
  if (result.status != 200) fail_status(result);
  if (!bad_event.empty()) throw RemoteEngineError("remote engine " + name() + " sent a bad event: " + bad_event);
  if (!done && !out.stopped && !pending.empty()) on_event(pending);  // a server that closed without a blank line
  out.elapsed_ms = ms_since(start);
  if (!out.counted_by_server) out.completion_tokens = deltas;
  if (logprob_count > 0) {
    out.has_logprobs = true;
    out.mean_logprob = logprob_sum / logprob_count;
  }
  return out;
}

}  // namespace pice::kernels
