#pragma once
// The `pice` subcommands. main.cpp parses the command line (CLI11 stays in that one file because it is
// the heaviest include) and calls one of these; each returns the process exit status.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pice::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfigError = 2;

struct GenerateOptions {
  std::string model;  // GGUF path or synth:<shape>
  std::string prompt;
  int n_tokens = 64;
  float temperature = 0;
  float top_p = 1;
  int top_k = 0;
  uint64_t seed = 0;
  bool ignore_eos = false;
  bool chat = false;   // the prompt is a user message, rendered with the model's chat template
  std::string load = "read";   // read | mmap | mmap-lock-required (kernels::parse_load_mode)
  int kv_window = 0, kv_keep = 0;   // the bounded KV-cache policy (kernels::KvPolicy); 0: unbounded
};
// Prints only the generated text (then a newline); errors, and the resident memory after the load,
// go to stderr.
int run_generate(const GenerateOptions& options);

struct SynthOptions {
  std::string output;
  std::string shape = "tiny";
  std::string type = "f32";
  std::string arch;   // llama | qwen2; empty: the shape's
  uint64_t seed = 1;
};
int run_model_synth(const SynthOptions& options);
struct ModelInfoOptions {
  std::string path;
  std::string load;   // empty: only read the header; else load the model this way and print its resident memory
};
int run_model_info(const ModelInfoOptions& options);

struct ServeOptions {
  std::string config_path;
  std::optional<std::string> connect;  // overrides [node] connect (edge)
  std::optional<std::string> listen;   // overrides [node] listen (cloud, all-in-one)
  std::optional<std::string> node_id;  // overrides [node] id
  std::optional<std::string> http;     // HOST:PORT: serve the HTTP API there (overrides [http] listen)
};
int run_serve(const ServeOptions& options);

struct AskOptions {
  std::string question;
  std::optional<std::string> connect;  // a cloud node's address; absent: run an all-in-one node in this process
  std::string config_path;             // the all-in-one config when not connecting
  std::string mode;                    // empty: the node's configured mode
  int max_points = 0;                  // 0: the node's budget (from load)
  int max_words_per_point = 0;
  int max_tokens = 0;
  int timeout_ms = 120000;
  bool json = false;                   // the full response as one JSON object instead of text
  bool json_chunks = false;            // one JSON object per answer chunk, as they arrive
  bool verbose = false;                // the node's log lines (all-in-one) on stderr
  std::string key_file;                // CURVE: this client's key pair (.key); with --connect
  std::string server_key_file;         // CURVE: the cloud's public key (.pub)
};
int run_ask(const AskOptions& options);

struct EvalOptions {
  std::string connect;                  // the gateway's node address (both modes are asked there)
  std::vector<std::string> modes;       // exactly two: the first is the one whose wins are counted
  std::string judge_url;                // an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
  std::string judge_model = "judge";
  std::string judge_key_env = "OPENAI_API_KEY";   // the environment variable holding the judge's API key
  std::string questions_path;           // label;request CSV (the label becomes the category)
  std::vector<std::string> texts;       // more questions, category "given"
  int limit = 0;                        // at most this many questions (0: all)
  int timeout_ms = 600000;
  std::string csv_path;                 // per-question verdicts
};
int run_eval(const EvalOptions& options);

struct TokenizeOptions {
  std::string model;
  std::optional<std::string> text;
  std::optional<std::string> file;
  bool add_bos = false;
  bool show_pieces = false;
};
// Prints the ids (space-separated, one line per input); errors to stderr, exit 1.
int run_tokenize(const TokenizeOptions& options);

struct RouteOptions {
  std::optional<std::string> file;  // a labelled CSV (label;request) or one question per line
  std::optional<std::string> text;
  bool explain = false;             // add the score and the reason after a tab
};
// Prints 1 (progressive: sketch then expand) or 0 (direct) per question.
int run_route(const RouteOptions& options);

struct TopOptions {
  std::string connect;        // a cloud node's address
  bool once = false;          // print one snapshot and exit (1 if no node was heard)
  int window_ms = 1500;       // how long each refresh listens
  int forget_after_ms = 5000; // live view: drop nodes silent this long
  std::string config_path;    // CURVE keys from its [security] (flags below override)
  std::string key_file;       // CURVE: this client's key pair (.key)
  std::string server_key_file;  // CURVE: the cloud's public key (.pub)
};
int run_top(const TopOptions& options);

struct KeygenOptions {
  std::string prefix;   // writes PREFIX.key (mode 0600) and PREFIX.pub
  bool force = false;   // replace existing files
};
// Prints the public key; exit 1 when a file exists (without --force) or cannot be written.
int run_keygen(const KeygenOptions& options);
struct DrainOptions {
  std::string connect;        // the cloud's or broker's address the board is attached to
  std::string node;           // the board's node id
  int timeout_ms = 10000;     // give up (exit 1) if the board does not announce the drain by then
};
// Exit 0 once the board's heartbeats say it is draining.
int run_drain(const DrainOptions& options);

struct SimOptions {
  std::string config_path;         // a cloud node's TOML ([scheduler], [sketch], [expand], [fleet]); empty: defaults
  std::vector<std::string> modes{"cloud-only", "sot", "route", "pice"};
  std::vector<int> boards{2};
  std::vector<double> rates{0.05, 0.1, 0.2};   // offered requests/s (Poisson)
  int requests = 200;              // per run
  uint64_t seed = 1;
  std::string profile_path;        // engine profile CSV; empty: the built-in one (measured table)
  std::string cloud_engine = "cloud-1.5b:q4_0";
  int cloud_threads = 1;
  std::string edge_engine = "edge-135m:q8_0";
  int edge_threads = 1;
  std::vector<double> board_speeds{1.0};  // cycled over boards
  double edge_cores = 0;           // > 0: the boards share this many cores
  double rtt_ms = 20;
  double mbit_per_s = 100;
  std::string questions_path;      // labelled CSV, one-column CSV or one question per line; empty: built-in
  int direct_tokens = 0;           // 0: [scheduler] direct_max_tokens
  int point_tokens = 0;            // 0: [expand] max_tokens
  double tokens_per_word = 1.4;
  int prompt_tokens = 60;
  int expand_prompt_tokens = 80;
  std::string csv_path;
  bool print_profile = false;      // print the built-in profile CSV and exit
};
// Prints one table row per mode x boards x rate (and writes them to csv_path).
int run_sim(const SimOptions& options);

}  // namespace pice::cli
