// `pice ask "question"`: asks a running cloud node (--connect ADDR), or starts the all-in-one node
// in this process and asks it. Prints the answer progressively (sketch first, then each expanded point,
// or a direct answer's text as it is written), then the assembled answer; --json prints the full
// response as one JSON object instead, --json-chunks one object per chunk as it arrives.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/cli/commands.hpp"
#include "actors/cli/json_lines.hpp"
#include "actors/cli/node_setup.hpp"
#include "actors/client.hpp"
#include "actors/node.hpp"
#include "actors/security.hpp"
#include "brokers/endpoints.hpp"

namespace pice::cli {
namespace {

using json = nlohmann::json;

constexpr auto kAttachTimeout = std::chrono::seconds(30);

void print_chunk_text(const messages::AnswerChunk& c, bool& first) {
  if (first) {
    first = false;
    std::cout << "[" << c.mode << ", " << c.path << "] " << c.reason << "\n";
  }
  switch (c.kind) {
    case messages::ChunkKind::sketch_point:
      std::cout << "[sketch " << c.point_index << "] " << c.text << "\n";
      break;
    case messages::ChunkKind::expansion:
      std::cout << "[point " << c.point_index << " <- " << c.node << ", " << c.model << ", score " << c.score;
      if (c.copies > 1) std::cout << ", best of " << c.candidates.size() << " candidates from " << c.copies << " copies";
      std::cout << "] " << c.text << "\n";
      break;
    case messages::ChunkKind::text:
      std::cout << c.text;
      break;
    default:
      break;
  }
  std::cout.flush();
}

json point_json(const messages::AnswerChunk& c) {
  json candidates = json::array();   // the ensemble's judgement, as the HTTP API reports it
  for (const auto& k : c.candidates)
    candidates.push_back({{"node", k.node}, {"model", k.model}, {"tokens", k.tokens}, {"fluency", k.fluency},
                          {"relevance", k.relevance}, {"agreement", k.agreement}, {"score", k.score},
                          {"chosen", k.chosen}});
  return {{"index", c.point_index}, {"text", c.text},     {"node", c.node},
          {"model", c.model},       {"score", c.score},   {"tokens", c.tokens},
          {"timings", {{"queue_ms", c.timings.queue_ms}, {"prefill_ms", c.timings.prefill_ms},
                       {"decode_ms", c.timings.decode_ms}}},
          {"copies", c.copies},     {"candidates", candidates}};
}

// The whole response: what the HTTP API's `pice` object says, plus the text and the token usage.
json answer_json(const actors::Answer& a) {
  json points = json::array();
  std::string content;
  if (a.direct()) {
    messages::AnswerChunk whole = a.done;
    whole.point_index = 1;
    whole.text = a.text;
    points.push_back(point_json(whole));
    content = a.text;
  } else {
    for (size_t i = 0; i < a.points.size(); ++i) {
      points.push_back(point_json(a.points[i]));
      content += std::to_string(i + 1) + ". " + (i < a.sketch.size() ? a.sketch[i] + ": " : "") + a.points[i].text + "\n";
    }
  }
  json out = {{"mode", a.mode},     {"path", a.path},   {"reason", a.reason},
              {"sketch", a.sketch}, {"points", points}, {"content", content},
              {"usage",
               {{"prompt_tokens", a.done.prompt_tokens},
                {"completion_tokens", a.done.tokens},
                {"total_tokens", a.done.prompt_tokens + a.done.tokens}}},
              {"bytes", {{"tasks", a.done.task_bytes}, {"results", a.done.result_bytes}}},
              {"elapsed_ms", a.elapsed_ms}};
  if (a.done.budget_points > 0)
    out["budget"] = {{"max_points", a.done.budget_points}, {"max_words_per_point", a.done.budget_words}};
  return out;
}

int print_answer(const actors::Answer& answer, const AskOptions& options) {
  if (!answer.error.empty()) {
    std::cerr << "pice: " << answer.error << "\n";
    return kExitFailure;
  }
  if (options.json) {
    std::cout << answer_json(answer).dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
    return kExitOk;
  }
  if (options.json_chunks) return kExitOk;
  if (answer.direct()) {
    std::cout << "\n\nAnswer (" << answer.mode << ", " << answer.path << ", " << static_cast<long>(answer.elapsed_ms)
              << " ms, by " << answer.done.node << ")\n";
    return kExitOk;
  }
  std::cout << "\nAnswer (" << answer.mode << ", " << answer.sketch.size() << " points, "
            << static_cast<long>(answer.elapsed_ms) << " ms):\n";
  for (size_t i = 0; i < answer.points.size(); ++i)
    std::cout << (i + 1) << ". " << answer.sketch[i] << ": " << answer.points[i].text << "\n";
  return kExitOk;
}

actors::Answer ask_gateway(const std::string& gateway, const AskOptions& options,
                           const std::optional<brokers::CurveSecurity>& security) {
  messages::Request request;
  request.question = options.question;
  request.mode = options.mode;
  request.max_points = options.max_points;
  request.max_words_per_point = options.max_words_per_point;
  request.max_tokens_per_point = options.max_tokens;
  actors::GatewayClient client(gateway, security);
  bool first = true;
  return client.ask(request, options.timeout_ms, [&](const messages::AnswerChunk& chunk) {
    if (options.json_chunks) std::cout << chunk_json(chunk) << std::endl;
    else if (!options.json) print_chunk_text(chunk, first);
  });
}

// Waits until the in-process edges have announced themselves, so the first question is expanded
// on them rather than on the cloud's fallback.
bool wait_for_boards(actors::Node& node, int boards) {
  const auto deadline = std::chrono::steady_clock::now() + kAttachTimeout;
  while (node.known_boards() < boards) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

int run_ask(const AskOptions& options) {
  if (options.connect) {
    configure_logging("warn");
    std::string gateway;
    try {
      gateway = brokers::derive_endpoints(*options.connect).gateway;
    } catch (const std::exception& e) {
      std::cerr << "pice: --connect " << *options.connect << ": " << e.what() << "\n";
      return kExitConfigError;
    }
    std::optional<brokers::CurveSecurity> security;
    try {
      security = load_client_security(options.config_path, options.key_file, options.server_key_file);
    } catch (const std::exception& e) {   // config::ConfigError, or a key without server key
      std::cerr << "pice: config error: " << e.what() << "\n";
      return kExitConfigError;
    }
    return print_answer(ask_gateway(gateway, options, security), options);
  }
  if (!options.key_file.empty() || !options.server_key_file.empty()) {
    std::cerr << "pice: --key and --server-key are for --connect (the in-process node takes its keys from --config)\n";
    return kExitConfigError;
  }

  std::optional<config::NodeConfig> config = load_node_config(options.config_path, ServeOptions{});
  if (!config) return kExitConfigError;
  if (config->role != config::Role::all_in_one) {
    std::cerr << "pice: ask without --connect runs an all-in-one node, but " << config->source << " has role "
              << config::role_name(config->role) << "\n";
    return kExitConfigError;
  }
  configure_logging(options.verbose ? config->log_level : "warn");
  std::unique_ptr<actors::Node> node;
  try {
    node = actors::Node::start(*config);
  } catch (const std::exception& e) {
    std::cerr << "pice: the all-in-one node failed to start: " << e.what() << "\n";
    return kExitFailure;
  }
  if (!wait_for_boards(*node, config->local_edges))
    std::cerr << "pice: warning: the in-process edges did not attach; the cloud expands every point\n";
  std::optional<brokers::CurveSecurity> security;
  if (config->security) security = actors::client_security(*config->security);
  int status = print_answer(ask_gateway(node->gateway_endpoint(), options, security), options);
  node->stop();
  return status;
}

}  // namespace pice::cli
