#pragma once
// The `pice` subcommands. main.cpp parses the command line (CLI11 stays in that one file because it is
// the heaviest include) and calls one of these; each returns the process exit status.
#include <cstdint>
#include <optional>
#include <string>

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
};
// Prints only the generated text (then a newline); errors go to stderr.
int run_generate(const GenerateOptions& options);

struct SynthOptions {
  std::string output;
  std::string shape = "tiny";
  std::string type = "f32";
  uint64_t seed = 1;
};
int run_model_synth(const SynthOptions& options);
int run_model_info(const std::string& path);

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
  std::string mode = "pice";
  int timeout_ms = 120000;
  bool json = false;                   // one JSON object per answer chunk instead of text
  bool verbose = false;                // the node's log lines (all-in-one) on stderr
};
int run_ask(const AskOptions& options);

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
};
int run_top(const TopOptions& options);

struct DrainOptions {
  std::string connect;        // the cloud's or broker's address the board is attached to
  std::string node;           // the board's node id
  int timeout_ms = 10000;     // give up (exit 1) if the board does not announce the drain by then
};
// Exit 0 once the board's heartbeats say it is draining.
int run_drain(const DrainOptions& options);

}  // namespace pice::cli
