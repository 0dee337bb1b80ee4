#pragma once
// A model served by another process over the OpenAI chat-completions API: llama.cpp's llama-server,
// vLLM, Ollama, TensorRT-LLM's trtllm-serve, or another PICE gateway. This is how a board uses its GPU
// (the server runs on the board, the edge node sends it the expansions) and how a cloud node can use
// a serving engine of its own choice.
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/chat_template.hpp"
#include "kernels/http_client.hpp"

namespace pice::kernels {

class RemoteEngineError : public std::runtime_error {
  using runtime_error::runtime_error;
};

struct RemoteEngineConfig {
  std::string url;          // base URL, e.g. http://127.0.0.1:8081/v1
  std::string model;        // the "model" field of each request (the server's name for it)
  std::string api_key;      // sent as a bearer token when not empty
  int timeout_ms = 120000;
};

struct RemoteOptions {
  int max_tokens = 64;
  double temperature = 0.8;
  double top_p = 0.95;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;   // sent as the llama.cpp/vLLM extension of the same name
};

struct RemoteGeneration {
  std::string text;
  int prompt_tokens = 0, completion_tokens = 0;   // the server's usage figures (0 when it gives none)
  bool has_logprobs = false;
  double mean_logprob = 0;   // over the returned tokens, when the server returned log-probabilities
  std::string finish_reason;
  double elapsed_ms = 0;
  // Streaming only: whether the token counts came from the server's usage figures. A server that sends
  // none leaves completion_tokens at the number of content deltas received (about one per token on
  // llama-server, vLLM and PICE) and prompt_tokens at 0.
  bool counted_by_server = false;
  bool stopped = false;      // the caller's sink stopped the stream before the server ended it
  double first_text_ms = -1; // when the first content arrived
};

// Receives each piece of content as the server streams it; returning false stops the stream.
using TextSink = std::function<bool(std::string_view text)>;

class RemoteEngine {
 public:
  // Throws std::invalid_argument for a URL that is not http://HOST[:PORT][/PATH].
  explicit RemoteEngine(RemoteEngineConfig config);

  // One chat completion (log-probabilities asked for; servers that cannot give them still answer).
  // Throws RemoteEngineError naming the server and its error message for a failed request.
  RemoteGeneration chat(const std::vector<ChatMessage>& messages, const RemoteOptions& options) const;

  // The same as a streaming chat completion (server-sent events): on_text gets each content delta as it
  // arrives, so a caller can act on the start of an answer while the server writes the rest. Usage is
  // asked for (stream_options.include_usage); log-probabilities too, averaged when the server sends them.
  RemoteGeneration chat_stream(const std::vector<ChatMessage>& messages, const RemoteOptions& options,
                               const TextSink& on_text) const;

  // "<model>@<url>", for provenance and logs.
  std::string name() const;

 private:
  std::string request_body(const std::vector<ChatMessage>& messages, const RemoteOptions& options, bool stream) const;
  [[noreturn]] void fail_status(const HttpResult& result) const;

  RemoteEngineConfig config_;
  HttpUrl url_;
};

}  // namespace pice::kernels
