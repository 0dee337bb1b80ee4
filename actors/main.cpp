// The `pice` command: parses the command line and runs one subcommand (actors/cli/).
#include <CLI/CLI.hpp>

#include <iostream>

#include "actors/cli/commands.hpp"

namespace {

// CLI11 2.1 has no std::optional options: an empty string means "not given".
std::optional<std::string> given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pice::cli;
  CLI::App app{"PICE: progressive inference over a cloud LLM and edge SLMs"};
  app.require_subcommand(1);

  ServeOptions serve;
  std::string serve_connect, serve_listen, serve_node_id;
  auto* serve_cmd = app.add_subcommand("serve", "Run a node (cloud, edge, broker or all-in-one) from a TOML file");
  serve_cmd->add_option("--config,-c", serve.config_path, "The node's TOML file")->required();
  serve_cmd->add_option("--connect", serve_connect, "Edge: the cloud's or broker's address; cloud: a broker's (overrides [node] connect)");
  serve_cmd->add_option("--listen", serve_listen, "Cloud, broker: the address to bind (overrides [node] listen)");
  serve_cmd->add_option("--node-id", serve_node_id, "This node's id (overrides [node] id)");
  std::string serve_http;
  serve_cmd->add_option("--http", serve_http, "Serve the OpenAI-compatible HTTP API on HOST:PORT (overrides [http] listen)");

  AskOptions ask;
  std::string ask_connect;
  auto* ask_cmd = app.add_subcommand("ask", "Ask one question; prints the progressive answer");
  ask_cmd->add_option("question", ask.question, "The question")->required();
  ask_cmd->add_option("--connect", ask_connect, "A cloud node's address; without it an all-in-one node runs here");
  ask_cmd->add_option("--config,-c", ask.config_path, "All-in-one config (default: the built-in one)");
  ask_cmd->add_option("--mode", ask.mode, "Serving mode: pice, sot, route, cloud-only (default: the node's)")
      ->check(CLI::IsMember({"pice", "sot", "route", "cloud-only"}));
  ask_cmd->add_option("--max-points", ask.max_points, "Sketch budget: at most this many points (default: from load)")
      ->check(CLI::Range(1, 32));
  ask_cmd->add_option("--max-words", ask.max_words_per_point, "Sketch budget: words per point (default: from load)")
      ->check(CLI::Range(1, 64));
  ask_cmd->add_option("--max-tokens", ask.max_tokens, "Tokens per point's expansion, or of a direct answer")
      ->check(CLI::Range(1, 4096));
  ask_cmd->add_option("--timeout-ms", ask.timeout_ms, "Give up after this long")->capture_default_str();
  ask_cmd->add_flag("--json", ask.json, "Print the full response as one JSON object");
  ask_cmd->add_flag("--json-chunks", ask.json_chunks, "Print one JSON object per answer chunk as it arrives");
  ask_cmd->add_flag("--verbose,-v", ask.verbose, "Show the in-process node's log on stderr");
  ask_cmd->add_option("--key", ask.key_file, "CURVE: this client's key pair (.key from pice keygen); with --connect");
  ask_cmd->add_option("--server-key", ask.server_key_file, "CURVE: the cloud's public key (.pub)");

  GenerateOptions gen;
  auto* gen_cmd = app.add_subcommand("generate", "Generate text from a prompt with one model");
  gen_cmd->add_option("--model,-m", gen.model, "GGUF file or synth:<shape>")->required();
  gen_cmd->add_option("--prompt,-p", gen.prompt, "The prompt")->required();
  gen_cmd->add_option("-n,--n-tokens", gen.n_tokens, "Tokens to generate")->capture_default_str();
  gen_cmd->add_option("--temp", gen.temperature, "Temperature (0: greedy)")->capture_default_str();
  gen_cmd->add_option("--top-p", gen.top_p, "Nucleus sampling mass")->capture_default_str();
  gen_cmd->add_option("--top-k", gen.top_k, "Keep the k most likely tokens (0: all)")->capture_default_str();
  gen_cmd->add_option("--seed", gen.seed, "Sampling seed")->capture_default_str();
  gen_cmd->add_flag("--ignore-eos", gen.ignore_eos, "Keep generating past end-of-sequence");
  gen_cmd->add_flag("--chat", gen.chat, "Send the prompt as a user message in the model's chat template");
  gen_cmd->add_option("--load", gen.load, "read (into memory), mmap (mapped and locked), mmap-lock-required")
      ->capture_default_str();
  gen_cmd->add_option("--kv-window", gen.kv_window, "Bounded KV cache: recent positions kept (0: unbounded)")
      ->capture_default_str();
  gen_cmd->add_option("--kv-keep", gen.kv_keep, "Bounded KV cache: earlier positions kept by attention received")
      ->capture_default_str();

  auto* model_cmd = app.add_subcommand("model", "Inspect or synthesise GGUF models");
  model_cmd->require_subcommand(1);
  SynthOptions synth;
  auto* synth_cmd = model_cmd->add_subcommand("synth", "Write a GGUF with deterministic random weights");
  synth_cmd->add_option("output", synth.output, "The file to write")->required();
  synth_cmd->add_option("--shape", synth.shape, "tiny, demo, edge-135m, edge-0.5b, cloud-1.5b, tiny-qwen2, qwen2-0.5b")
      ->capture_default_str();
  synth_cmd->add_option("--arch", synth.arch, "llama or qwen2 (default: the shape's)");
  synth_cmd->add_option("--type", synth.type, "f32, f16, bf16, q8_0, q4_0, q4_k, q6_k, q4_k_m (llama.cpp's mix)")->capture_default_str();
  synth_cmd->add_option("--seed", synth.seed, "Weight seed")->capture_default_str();
  ModelInfoOptions info;
  auto* info_cmd = model_cmd->add_subcommand("info", "Print a GGUF model's architecture, shape and vocabulary");
  info_cmd->add_option("file", info.path, "GGUF file or synth:<shape>")->required();
  info_cmd->add_option("--load", info.load, "Also load the model (read, mmap, mmap-lock-required) and print its resident memory");

  TokenizeOptions tokenize;
  std::string tokenize_text, tokenize_file;
  auto* tokenize_cmd = app.add_subcommand("tokenize", "Print the token ids of a text under a model's vocabulary");
  tokenize_cmd->add_option("--model,-m", tokenize.model, "GGUF file (a vocab-only GGUF is enough) or synth:<shape>")
      ->required();
  auto* text_opt = tokenize_cmd->add_option("--text,-t", tokenize_text, "The text");
  auto* file_opt = tokenize_cmd->add_option("--file,-f", tokenize_file, "A file whose whole content is tokenized");
  text_opt->excludes(file_opt);
  tokenize_cmd->add_flag("--bos", tokenize.add_bos, "Prepend the BOS token");
  tokenize_cmd->add_flag("--pieces", tokenize.show_pieces, "Print each id with its piece");

  RouteOptions route;
  std::string route_text, route_file;
  auto* route_cmd = app.add_subcommand("route", "Decide per question: 1 = sketch then expand, 0 = direct answer");
  auto* route_text_opt = route_cmd->add_option("--text,-t", route_text, "One question");
  auto* route_file_opt = route_cmd->add_option("--file,-f", route_file, "Labelled CSV (label;request) or one question per line");
  route_text_opt->excludes(route_file_opt);
  route_cmd->add_flag("--explain", route.explain, "Add the score and the reason");

  TopOptions top;
  auto* top_cmd = app.add_subcommand("top", "Live view of a fleet: every node's load, speed and counters");
  top_cmd->add_option("--connect", top.connect, "A cloud's or broker's address")->required();
  top_cmd->add_flag("--once", top.once, "Print one snapshot and exit");
  top_cmd->add_option("--window-ms", top.window_ms, "How long each refresh listens")->capture_default_str();
  top_cmd->add_option("--config,-c", top.config_path, "Take CURVE keys from this file's [security]");
  top_cmd->add_option("--key", top.key_file, "CURVE: this client's key pair (.key from pice keygen)");
  top_cmd->add_option("--server-key", top.server_key_file, "CURVE: the cloud's public key (.pub)");

  KeygenOptions keygen;
  auto* keygen_cmd = app.add_subcommand("keygen", "Write a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  keygen_cmd->add_option("--out,-o", keygen.prefix, "The files' path without extension")->required();
  keygen_cmd->add_flag("--force", keygen.force, "Replace existing files");

  EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "Compare two modes' answers with a judge model, both orders, per category");
  eval_cmd->add_option("--connect", eval.connect, "The node whose gateway answers (its base address)")->required();
  eval_cmd->add_option("--modes", eval.modes, "Two modes, comma-separated: wins are counted for the first")
      ->delimiter(',')->required();
  eval_cmd->add_option("--judge", eval.judge_url, "OpenAI-compatible base URL of the judge, e.g. http://host:8080/v1")
      ->required();
  eval_cmd->add_option("--judge-model", eval.judge_model, "Model name sent to the judge")->capture_default_str();
  eval_cmd->add_option("--judge-key-env", eval.judge_key_env, "Environment variable with the judge's API key")
      ->capture_default_str();
  eval_cmd->add_option("--questions", eval.questions_path, "Labelled CSV (label;request); the label is the category");
  eval_cmd->add_option("--text", eval.texts, "A question (repeatable)");
  eval_cmd->add_option("--limit", eval.limit, "At most this many questions");
  eval_cmd->add_option("--timeout-ms", eval.timeout_ms, "Per answer and per judgement")->capture_default_str();
  eval_cmd->add_option("--csv", eval.csv_path, "Write per-question verdicts here");

  DrainOptions drain;
  auto* drain_cmd = app.add_subcommand("drain", "Tell an edge board to finish its tasks, take no more, and exit");
  drain_cmd->add_option("--connect", drain.connect, "The cloud's or broker's address the board is attached to")
      ->required();
  drain_cmd->add_option("--node", drain.node, "The board's node id")->required();
  drain_cmd->add_option("--timeout-ms", drain.timeout_ms, "Give up after this long")->capture_default_str();

  SimOptions sim;
  auto* sim_cmd = app.add_subcommand("sim", "Simulate the scheduler's policy: modes x boards x arrival rates");
  sim_cmd->add_option("--config,-c", sim.config_path, "A cloud node's TOML ([scheduler], [sketch], [expand], [fleet])");
  sim_cmd->add_option("--modes", sim.modes, "Modes, comma-separated")->delimiter(',')
      ->check(CLI::IsMember({"pice", "sot", "route", "cloud-only"}))->capture_default_str();
  sim_cmd->add_option("--boards", sim.boards, "Board counts, comma-separated")->delimiter(',')
      ->check(CLI::Range(0, 100000))->capture_default_str();
  sim_cmd->add_option("--rates", sim.rates, "Offered requests/s, comma-separated (Poisson)")->delimiter(',')
      ->check(CLI::PositiveNumber)->capture_default_str();
  sim_cmd->add_option("--requests", sim.requests, "Requests per run")->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  sim_cmd->add_option("--seed", sim.seed, "Arrival and question seed")->capture_default_str();
  sim_cmd->add_option("--profile", sim.profile_path, "Engine profile CSV (default: the built-in one)");
  sim_cmd->add_option("--cloud-engine", sim.cloud_engine, "Cloud model in the profile")->capture_default_str();
  sim_cmd->add_option("--cloud-threads", sim.cloud_threads, "Cloud model's threads in the profile")->capture_default_str();
  sim_cmd->add_option("--edge-engine", sim.edge_engine, "Boards' model in the profile")->capture_default_str();
  sim_cmd->add_option("--edge-threads", sim.edge_threads, "Boards' threads in the profile")->capture_default_str();
  sim_cmd->add_option("--board-speed", sim.board_speeds, "Board speeds relative to the profile, cycled over boards")
      ->delimiter(',')->check(CLI::PositiveNumber)->capture_default_str();
  sim_cmd->add_option("--edge-cores", sim.edge_cores, "Cores the boards share (0: one each)")->capture_default_str();
  sim_cmd->add_option("--rtt-ms", sim.rtt_ms, "Cloud-edge round trip")->capture_default_str();
  sim_cmd->add_option("--mbit", sim.mbit_per_s, "Cloud-edge link rate")->check(CLI::PositiveNumber)->capture_default_str();
  sim_cmd->add_option("--questions", sim.questions_path, "Questions: labelled CSV, one-column CSV or one per line");
  sim_cmd->add_option("--direct-tokens", sim.direct_tokens, "Tokens of a direct answer (0: [scheduler] direct_max_tokens)");
  sim_cmd->add_option("--point-tokens", sim.point_tokens, "Tokens of an expansion (0: [expand] max_tokens)");
  sim_cmd->add_option("--tokens-per-word", sim.tokens_per_word, "Sketch tokens per word")->capture_default_str();
  sim_cmd->add_option("--prompt-tokens", sim.prompt_tokens, "Prompt tokens around a question")->capture_default_str();
  sim_cmd->add_option("--expand-prompt-tokens", sim.expand_prompt_tokens, "Prompt tokens around an expansion's inputs")
      ->capture_default_str();
  sim_cmd->add_option("--csv", sim.csv_path, "Write one row per run here");
  sim_cmd->add_flag("--print-profile", sim.print_profile, "Print the built-in engine profile (CSV) and exit");

  CLI11_PARSE(app, argc, argv);

  if (*serve_cmd) {
    serve.connect = given(serve_connect);
    serve.listen = given(serve_listen);
    serve.node_id = given(serve_node_id);
    serve.http = given(serve_http);
    return run_serve(serve);
  }
  if (*ask_cmd) {
    ask.connect = given(ask_connect);
    return run_ask(ask);
  }
  if (*gen_cmd) return run_generate(gen);
  if (*synth_cmd) return run_model_synth(synth);
  if (*info_cmd) return run_model_info(info);
  if (*top_cmd) return run_top(top);
  if (*eval_cmd) return run_eval(eval);
  if (*keygen_cmd) return run_keygen(keygen);
  if (*drain_cmd) return run_drain(drain);
  if (*sim_cmd) return run_sim(sim);
  if (*tokenize_cmd) {
    if (tokenize_text.empty() == tokenize_file.empty()) {
      std::cerr << "pice tokenize: give exactly one of --text and --file\n";
      return kExitConfigError;
    }
    tokenize.text = given(tokenize_text);
    tokenize.file = given(tokenize_file);
    return run_tokenize(tokenize);
  }
  if (*route_cmd) {
    if (route_text.empty() == route_file.empty()) {
      std::cerr << "pice route: give exactly one of --text and --file\n";
      return kExitConfigError;
    }
    route.text = given(route_text);
    route.file = given(route_file);
    return run_route(route);
  }
  return kExitFailure;
}
