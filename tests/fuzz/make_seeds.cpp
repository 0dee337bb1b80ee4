// Writes the seed corpora of the fuzz targets: pice_fuzz_seeds OUT_DIR (tests/fuzz/corpus in the repo)
// makes OUT_DIR/<target>/<seed> from real messages, config files, request bodies and GGUF files made by
// the project's own writers, so a seed changes when the format does. Small on purpose (the fuzzer
// finds the rest): every seed stays under a few KiB.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/byte_level.hpp"
#include "kernels/gguf_writer.hpp"
#include "kernels/synth.hpp"
#include "kernels/tokenizer.hpp"
#include "messages/compression.hpp"
#include "messages/envelope.hpp"

namespace {

namespace fs = std::filesystem;
namespace k = pice::kernels;
namespace m = pice::messages;

fs::path g_out;

void write_seed(const std::string& target, const std::string& name, std::string_view bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- messages: one envelope per body type, as the nodes send them -------------------------------
void message_seeds() {
  auto send = [](const std::string& name, m::Body body) {
    m::Envelope e;
    e.request_id = "req-7f3a";
    e.task_id = "req-7f3a/2";
    e.sender = "cloud-host-4242";
    e.created_us = 1763790000000000;
    e.sent_us = 1763790000012345;
    e.body = std::move(body);
    write_seed("messages", name, m::encode(e));
  };
  // Fields are set by name, every one of them, so the seeds carry the newer fields too (stop strings,
  // the plan's path, histograms) and a field added later shows up here as a choice, not a silent default.
  m::Request request;
  request.question = "How do I improve my sleep?";
  request.mode = "pice";
  request.max_points = 4;
  request.max_words_per_point = 6;
  request.max_tokens_per_point = 48;
  request.temperature = 0.8;
  request.top_p = 0.95;
  request.seed = 7;
  request.stop = {"\n\n"};
  send("request", request);
  send("sketch_point", m::SketchPoint{2, "Keep a regular schedule", false});
  m::ExpansionTask task;
  task.question = request.question;
  task.sketch = {"Keep a schedule", "Dark room"};
  task.point_index = 1;
  task.point = "Dark room";
  task.max_tokens = 48;
  task.temperature = 0.8;
  task.top_p = 0.95;
  task.seed = 7;
  task.deadline_us = 1763790060000000;
  task.stop = {"\n\n"};
  send("expansion_task", task);
  m::ExpansionResult result;
  result.point_index = 1;
  result.text = "Blackout curtains help.";
  result.tokens = 5;
  result.mean_logprob = -1.25;
  result.model = "synth:demo";
  result.node = "edge-a-1";
  result.timings = {1.5, 3.25, 40.0, 0};
  send("expansion_result", result);
  m::AnswerChunk chunk;
  chunk.kind = m::ChunkKind::expansion;
  chunk.point_index = 1;
  chunk.text = "Blackout curtains help.";
  chunk.node = "edge-a-1";
  chunk.model = "synth:demo";
  chunk.score = 0.5;
  chunk.total_points = 2;
  chunk.elapsed_ms = 123.5;
  chunk.mode = "pice";
  chunk.path = "sketch";
  chunk.reason = "router: list-like";
  chunk.budget_points = 2;
  send("answer_chunk", chunk);
  m::AnswerChunk done = chunk;
  done.kind = m::ChunkKind::done;
  done.point_index = -1;
  done.text = done.node = done.model = "";
  done.elapsed_ms = 456.0;
  send("answer_done", done);
  send("heartbeat", m::Heartbeat{"edge-a-1", "edge", {"synth:demo"}, 4, 1, 35.5, 4096, "0.1.0"});
  m::Telemetry telemetry;
  telemetry.node_id = "cloud-host-4242";
  telemetry.counters = {{"requests", 12}, {"rejected", 1}};
  telemetry.gauges = {{"queue_depth", 0.5}};
  telemetry.role = "cloud";
  telemetry.histograms["request_ms"] = m::Histogram{{10, 100}, {1, 2, 0}, 95.5, 3};
  send("telemetry", telemetry);

  // A long expansion as it goes on the wire: above kCompressAboveBytes, so a compressed frame (0xc1
  // and zlib data, messages/compression.hpp) that leads the fuzzer into the inflating path.
  m::ExpansionResult long_result;
  long_result.point_index = 3;
  for (int i = 0; i < 12; ++i) long_result.text += "Keep the bedroom dark, quiet and cool, and go to bed at the same time. ";
  long_result.tokens = 190;
  long_result.mean_logprob = -0.75;
  long_result.model = "synth:demo";
  long_result.node = "edge-a-1";
  long_result.timings = {1.5, 3.25, 40.0, 0};
  m::Envelope e;
  e.request_id = "req-7f3a";
  e.task_id = "req-7f3a/3";
  e.sender = "edge-a-1";
  e.created_us = 1763790000000000;
  e.sent_us = 1763790000012345;
  e.body = long_result;
  const std::string frame = m::encode_frame(e);
  if (!m::is_compressed_frame(frame)) throw std::runtime_error("the long expansion seed did not compress");
  write_seed("messages", "expansion_result_compressed", frame);
}

// ---- gguf: small files from GgufWriter ------------------------------------------------------------
std::string written(const k::GgufWriter& writer) {
  const fs::path tmp = fs::temp_directory_path() / ("pice_fuzz_seed_" + std::to_string(::getpid()) + ".gguf");
  writer.write(tmp);
  std::string bytes = read_file(tmp);
  fs::remove(tmp);
  return bytes;
}

void gguf_seeds() {
  {   // every metadata type, and one tiny tensor of each block layout the reader sizes
    k::GgufWriter w(64);
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", "fuzz-seed");
    w.set_u8("t.u8", 200);
    w.set_i8("t.i8", -5);
    w.set_u16("t.u16", 60000);
    w.set_i16("t.i16", -300);
    w.set_u32("t.u32", 4000000000u);
    w.set_i32("t.i32", -7);
    w.set_u64("t.u64", 1ull << 63);
    w.set_i64("t.i64", -(1ll << 40));
    w.set_f32("t.f32", 1e-5f);
    w.set_f64("t.f64", 10000.0);
    w.set_bool("t.bool", true);
    const std::vector<int32_t> ints = {1, -2, 3};
    const std::vector<float> floats = {0.5f, -1.0f};
    w.set_array<int32_t>("t.ints", ints);
    w.set_array<float>("t.floats", floats);
    w.set_bool_array("t.bools", {true, false});
    w.set_string_array("t.strings", {"a", "", "\xE2\x96\x81the"});
    w.add_tensor("f32", {4, 2}, k::TensorType::f32, std::vector<float>(8, 0.25f));
    w.add_tensor("f16", {2}, k::TensorType::f16, std::vector<float>(2, 1.0f));
    w.add_tensor("q8_0", {32}, k::TensorType::q8_0, std::vector<float>(32, 0.5f));
    w.add_tensor("q4_k", {256}, k::TensorType::q4_k, std::vector<float>(256, -0.5f));
    write_seed("gguf", "all_types", written(w));
  }
  {   // header only
    write_seed("gguf", "empty_v3", written(k::GgufWriter()));
  }
  {   // a tokenizer: a short SPM vocab in the synthetic model's format (the first pieces of its vocab)
    k::Vocab v = k::synth_vocab(k::synth_base_vocab_size());
    v.pieces.resize(300);
    v.scores.resize(300);
    v.types.resize(300);
    k::GgufWriter w;
    w.set_string("general.architecture", "llama");
    k::write_vocab_metadata(w, v);
    write_seed("gguf", "spm_vocab", written(w));
  }
  {   // a byte-level BPE tokenizer: the 256-character alphabet and two merges
    k::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "llama-bpe");
    std::vector<std::string> pieces;
    for (int b = 0; b < 256; ++b) pieces.emplace_back(k::byte_level::char_of(static_cast<unsigned char>(b)));
    pieces.push_back("\xC4\xA0t");   // "Ġt"
    pieces.push_back("\xC4\xA0th");
    pieces.push_back("<|end_of_text|>");
    w.set_string_array("tokenizer.ggml.tokens", pieces);
    std::vector<int32_t> types(pieces.size(), 1);
    types.back() = 3;
    w.set_array<int32_t>("tokenizer.ggml.token_type", types);
    w.set_string_array("tokenizer.ggml.merges", {"\xC4\xA0 t", "\xC4\xA0t h"});
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(pieces.size() - 1));
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(pieces.size() - 1));
    write_seed("gguf", "bpe_vocab", written(w));
  }
}

// ---- config: the example files, and the other tables --------------------------------------------
void config_seeds(const fs::path& source_dir) {
  for (const char* name : {"all-in-one.toml", "cloud.toml", "edge.toml"})
    write_seed("config", name, read_file(source_dir / "config" / name));
  write_seed("config", "cloud-http.toml",
             "[node]\nid = \"cloud-1\"\nrole = \"cloud\"\nlisten = \"tcp://0.0.0.0:7700\"\n"
             "[llm]\nmodel = \"models/cloud.gguf\"\nthreads = 2\ncontext = 2048\n"
             "[sketch]\nmin_points = 2\nmax_points = 8\nmax_words_per_point = 10\n[expand]\nmax_tokens = 64\n"
             "[sampling]\ntemperature = 0.7\ntop_p = 0.9\nseed = 42\n"
             "[fleet]\nheartbeat_ms = 250\nboard_timeout_ms = 2000\ntask_deadline_ms = 30000\n"
             "[http]\nlisten = \"127.0.0.1:8080\"\nthreads = 2\nmax_inflight = 64\napi_key = \"k\"\n"
             "[log]\nlevel = \"debug\"\n");
  write_seed("config", "all-in-one-inline.toml",
             "node = { role = \"all-in-one\", local_edges = 2 }\nllm.model = \"synth:tiny\"\n"
             "slm = { model = \"synth:tiny:q8_0\", threads = 1 }\n");
}

// ---- http_body: chat completion requests as OpenAI clients send them -----------------------------
void http_seeds() {
  write_seed("http_body", "readme",
             R"({"model": "pice", "messages": [{"role": "user", "content": "How do I sleep better?"}],)"
             R"( "max_tokens": 64, "pice": {"mode": "pice", "max_points": 4, "max_words_per_point": 6}})");
  write_seed("http_body", "stream",
             R"({"model":"pice","stream":true,"stream_options":{"include_usage":true},"temperature":0.7,)"
             R"("top_p":0.9,"seed":42,"n":1,"messages":[{"role":"system","content":"Be brief."},)"
             R"({"role":"user","content":"Why is the sky blue?"}]})");
  write_seed("http_body", "parts_and_stop",
             R"({"model":"pice","messages":[{"role":"developer","content":[{"type":"text","text":"Rules"}]},)"
             R"({"role":"assistant","content":null},{"role":"user","content":[{"type":"text","text":"Part one"},)"
             R"({"type":"text","text":"part two \u00e9\ud83d\ude00"}]}],"stop":["\n\n","END"],"ignore_eos":false,)"
             R"("max_completion_tokens":128,"user":"u-1"})");
  write_seed("http_body", "wrong_model", R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
}

// ---- tokenizer: byte 0 = mode and vocab slot, byte 1 = pre-tokenizer (tokenizer_fuzz.cpp) ---------
void tokenizer_seeds() {
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"english", "Hello world! How do I improve my sleep? 1. Keep a schedule.\n2. Dark room."},
      {"spaces", "  leading,  double  spaces\t\ttabs\n\n\nnewlines   "},
      {"unicode", "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 \xE2\x96\x81 na\xC3\xAFve 12345 3.14"},
      {"code", "int main() { return x<<2 | 0xFF; } // <s> </s> <|endoftext|> <|user|>"},
      {"malformed", "ok \xC3( \xFF\xFE \xED\xA0\x80 \xF0\x9F\x98 end"},
  };
  const int slots = 7;
  for (int slot = 0; slot < slots; ++slot) {
    for (const auto& [name, text] : texts) {
      const std::string header{static_cast<char>(slot), static_cast<char>(slot == 2 ? 17 : 0)};
      write_seed("tokenizer", "encode_" + std::to_string(slot) + "_" + name, header + text);
    }
    // Decode: ids 1 (BOS in SPM), 300, 5, 70, and one past the end of every vocab (0xFF.. = -1).
    std::string ids{static_cast<char>(0x80 | slot), 0};
    for (uint32_t id : {1u, 300u, 5u, 70u, 0xFF000000u}) ids.append(reinterpret_cast<const char*>(&id), 4);
    write_seed("tokenizer", "decode_" + std::to_string(slot), ids);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pice_fuzz_seeds OUT_DIR SOURCE_DIR (writes OUT_DIR/<target>/<seed>)\n";
    return 2;
  }
  g_out = argv[1];
  try {
    message_seeds();
    gguf_seeds();
    config_seeds(argv[2]);
    http_seeds();
    tokenizer_seeds();
  } catch (const std::exception& e) {
    std::cerr << "pice_fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
