#include "kernels/remote_engine.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace pice::kernels {

RemoteEngine::RemoteEngine(RemoteEngineConfig config) : config_(std::move(config)), url_(parse_http_url(config_.url)) {}

std::string RemoteEngine::name() const { return config_.model + "@" + config_.url; }

RemoteGeneration RemoteEngine::chat(const std::vector<ChatMessage>& messages, const RemoteOptions& options) const {
  nlohmann::json body = {{"model", config_.model},
                         {"max_tokens", options.max_tokens},
                         {"temperature", options.temperature},
                         {"top_p", options.top_p},
                         {"seed", options.seed},
                         {"logprobs", true},
                         {"stream", false}};
  if (!options.stop.empty()) body["stop"] = options.stop;
  if (options.ignore_eos) body["ignore_eos"] = true;
  nlohmann::json list = nlohmann::json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(list);

  const auto start = std::chrono::steady_clock::now();
  HttpResult result;
  try {
    result = post_json(url_, "/chat/completions", body.dump(), config_.api_key, config_.timeout_ms);
  } catch (const std::exception& e) {
    throw RemoteEngineError(std::string("remote engine ") + name() + ": " + e.what());
  }
  const nlohmann::json reply = nlohmann::json::parse(result.body, nullptr, false);
  if (result.status != 200) {
    std::string message = result.body.substr(0, 300);
    if (!reply.is_discarded() && reply.contains("error") && reply["error"].is_object())
      message = reply["error"].value("message", message);
    throw RemoteEngineError("remote engine " + name() + " answered HTTP " + std::to_string(result.status) + ": " + message);
  }
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() ||
      reply["choices"].empty() || !reply["choices"][0].is_object())
    throw RemoteEngineError("remote engine " + name() + " sent no choices: " + result.body.substr(0, 300));

  RemoteGeneration out;
  out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const nlohmann::json& choice = reply["choices"][0];
  const nlohmann::json message = choice.value("message", nlohmann::json::object());
  if (!message.is_object() || !message.contains("content") || !message["content"].is_string())
    throw RemoteEngineError("remote engine " + name() + " sent a choice without message.content");
  out.text = message["content"].get<std::string>();
  if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) out.finish_reason = choice["finish_reason"];
  if (reply.contains("usage") && reply["usage"].is_object()) {
    const nlohmann::json& usage = reply["usage"];
    if (usage.contains("prompt_tokens") && usage["prompt_tokens"].is_number_integer()) out.prompt_tokens = usage["prompt_tokens"];
    if (usage.contains("completion_tokens") && usage["completion_tokens"].is_number_integer())
      out.completion_tokens = usage["completion_tokens"];
  }
  // choices[0].logprobs.content[i].logprob, as OpenAI and llama-server send them.
  if (choice.contains("logprobs") && choice["logprobs"].is_object() && choice["logprobs"].contains("content") &&
      choice["logprobs"]["content"].is_array()) {
    double sum = 0;
    int n = 0;
    for (const nlohmann::json& token : choice["logprobs"]["content"])
      if (token.is_object() && token.contains("logprob") && token["logprob"].is_number()) {
        sum += token["logprob"].get<double>();
        ++n;
      }
    if (n > 0) {
      out.has_logprobs = true;
      out.mean_logprob = sum / n;
    }
  }
  return out;
}

}  // namespace pice::kernels
