// Bytes on the wire per request, text messages against compact ones (token ids, actors/compact_messages.hpp),
// for real vocabularies and real questions. Each question of the SoT datasets becomes one request of
// five points: five expansion tasks (question, sketch, point) and five results. Model output is not
// available here (no trained model), so sketch points and expansions are English text cut from the
// other questions of the sets: 5 words per point, 40 words per expansion, the brief's typical sizes.
//
// Each message is also sent through messages::compress_frame (zlib above a size threshold) at several
// thresholds, to show what compression adds and where the threshold pays (kCompressAboveBytes).
//
//   compact_bench [--dump FILE] [SHARED_DIR]    SHARED_DIR defaults to $PICE_SHARED_DIR, else ../shared
//   --dump FILE: also writes every encoded message, one per line as "<vocabulary> <kind> <hex>".
// Without SHARED_DIR's tokenizers and datasets it prints why and exits 0 (nothing to measure).
#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "actors/compact_messages.hpp"
#include "actors/labelled_csv.hpp"
#include "kernels/gguf_file.hpp"
#include "messages/compression.hpp"
#include "messages/envelope.hpp"

namespace {

using pice::messages::Envelope;

constexpr int kPoints = 5;
constexpr size_t kWordsPerPoint = 5;
constexpr size_t kWordsPerExpansion = 40;

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// `count` words of the pool from `at`, wrapping around.
std::string take(const std::vector<std::string>& pool, size_t at, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? " " : "") + pool[(at + i) % pool.size()];
  return out;
}

Envelope envelope_of(pice::messages::Body body, int point) {
  Envelope env;
  env.request_id = "0a1b2c3d:4e5f6a7b8c9d0e1f";   // the gateway's id format
  env.task_id = env.request_id + "/" + std::to_string(point) + "/0";
  env.sender = "cloud-1";
  env.created_us = 1'700'000'000'000'000;
  env.body = std::move(body);
  return env;
}

// Thresholds compared: 0 compresses every message (where smaller), the others as kCompressAboveBytes.
constexpr size_t kThresholds[] = {0, 256, 512, 1024};
constexpr size_t kThresholdCount = std::size(kThresholds);

// Sizes of one kind of message (a task or a result, text or ids), plain and as compressed frames.
struct Sizes {
  size_t plain = 0;
  size_t framed[kThresholdCount] = {};
  size_t compressed_messages = 0;   // frames that went out compressed at kCompressAboveBytes
};

struct Totals {
  size_t requests = 0, tokens = 0;
  Sizes text_task, compact_task, text_result, compact_result;
  double compact_ms = 0;    // the cloud's cost: tokenizing the prompts
  double compress_ms = 0;   // zlib at kCompressAboveBytes, over every message
  size_t messages = 0;
};

std::ofstream dump_file;
std::string dump_vocab;

void add_size(const Envelope& env, const char* kind, Sizes& sizes, Totals& totals) {
  const std::string bytes = pice::messages::encode(env);
  if (dump_file.is_open()) {
    static const char* digits = "0123456789abcdef";
    dump_file << dump_vocab << ' ' << kind << ' ';
    for (const unsigned char c : bytes) dump_file << digits[c >> 4] << digits[c & 15];
    dump_file << '\n';
  }
  sizes.plain += bytes.size();
  for (size_t i = 0; i < kThresholdCount; ++i) sizes.framed[i] += pice::messages::compress_frame(bytes, kThresholds[i]).size();
  const auto start = std::chrono::steady_clock::now();
  const std::string frame = pice::messages::encode_frame(env);
  totals.compress_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ++totals.messages;
  if (pice::messages::is_compressed_frame(frame)) ++sizes.compressed_messages;
  if (pice::messages::decode(frame) != env) std::fprintf(stderr, "warning: a frame did not decode to its envelope\n");
}

Totals measure(const pice::actors::TokenCodec& codec, const std::vector<std::string>& questions,
               const std::vector<std::string>& pool) {
  Totals t;
  size_t cursor = 0;
  for (const std::string& question : questions) {
    ++t.requests;
    pice::messages::ExpansionTask task;
    task.question = question;
    for (int i = 0; i < kPoints; ++i) task.sketch.push_back(take(pool, cursor += kWordsPerPoint, kWordsPerPoint));
    task.max_tokens = 48;
    task.temperature = 0.8;
    task.top_p = 0.95;
    task.seed = 12345;
    task.deadline_us = 1'800'000'000'000'000;
    for (int i = 1; i <= kPoints; ++i) {
      task.point_index = i;
      task.point = task.sketch[static_cast<size_t>(i - 1)];
      pice::messages::ExpansionTask compact = task;
      compact.vocab_hash = codec.hash();   // a text task carries the hash too
      add_size(envelope_of(compact, i), "task_text", t.text_task, t);
      const auto start = std::chrono::steady_clock::now();
      codec.compact_task(compact, codec.hash());
      t.compact_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      add_size(envelope_of(compact, i), "task_ids", t.compact_task, t);

      pice::messages::ExpansionResult result;
      result.point_index = i;
      result.tokens = 48;
      result.mean_logprob = -1.234;
      result.model = "qwen2.5-0.5b-instruct";
      result.node = "edge-board-07";
      result.timings = {1.5, 20.25, 900.75};
      const auto ids = codec.tokenizer().encode(take(pool, cursor += kWordsPerExpansion, kWordsPerExpansion), false);
      t.tokens += ids.size();
      result.text = pice::actors::finish_expansion_text(codec.tokenizer().decode(ids));
      add_size(envelope_of(result, i), "result_text", t.text_result, t);
      codec.compact_result(result, ids, codec.hash());
      if (result.text_ids.empty()) std::fprintf(stderr, "warning: a result did not compact\n");
      add_size(envelope_of(result, i), "result_ids", t.compact_result, t);
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "--dump") {
    dump_file.open(args[1]);
    if (!dump_file) {
      std::fprintf(stderr, "compact_bench: cannot write %s\n", args[1].c_str());
      return 1;
    }
    args.erase(args.begin(), args.begin() + 2);
  }
  const char* env_shared = std::getenv("PICE_SHARED_DIR");
  const std::filesystem::path shared = !args.empty() ? args[0] : (env_shared ? env_shared : "../shared");
  if (!std::filesystem::exists(shared / "tokenizers") || !std::filesystem::exists(shared / "datasets")) {
    std::printf("compact_bench: skipped: no tokenizers/ and datasets/ under %s (pass the shared directory)\n",
                shared.string().c_str());
    return 0;
  }
  try {
    std::vector<std::string> questions, pool;
    for (const char* set : {"sot-lima", "sot-wizardlm"})
      for (const auto& q : pice::actors::read_labelled_csv(shared / "datasets" / set / "router-labels.csv")) {
        questions.push_back(q.question);
        for (auto& w : words_of(q.question)) pool.push_back(std::move(w));
      }
    std::printf("%zu requests of %d points (tasks: question + %d-point sketch; results: %zu-word expansions)\n\n",
                questions.size(), kPoints, kPoints, kWordsPerExpansion);
    std::vector<std::pair<std::string, Totals>> runs;
    for (const char* vocab : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
      dump_vocab = vocab;
      pice::actors::TokenCodec codec(
          pice::kernels::Tokenizer::from_gguf(pice::kernels::GgufFile::open(shared / "tokenizers" / vocab)));
      runs.emplace_back(vocab, measure(codec, questions, pool));
    }
    const size_t at_default = static_cast<size_t>(
        std::find(std::begin(kThresholds), std::end(kThresholds), pice::messages::kCompressAboveBytes) - std::begin(kThresholds));

    std::printf("Bytes per message (mean), plain msgpack and compressed frames at kCompressAboveBytes = %zu:\n\n",
                pice::messages::kCompressAboveBytes);
    std::printf("| vocabulary | task text | task ids | task text+zlib | task ids+zlib | result text | result ids | "
                "result text+zlib | result ids+zlib |\n|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& [vocab, t] : runs) {
      const double tasks = static_cast<double>(t.requests) * kPoints;
      auto mean = [&](size_t total) { return static_cast<double>(total) / tasks; };
      std::printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", vocab.c_str(), mean(t.text_task.plain),
                  mean(t.compact_task.plain), mean(t.text_task.framed[at_default]), mean(t.compact_task.framed[at_default]),
                  mean(t.text_result.plain), mean(t.compact_result.plain), mean(t.text_result.framed[at_default]),
                  mean(t.compact_result.framed[at_default]));
    }

    std::printf("\nBytes per request (%d tasks + %d results), by compression threshold (0: every message):\n\n", kPoints, kPoints);
    std::printf("| vocabulary | form | plain |");
    for (const size_t th : kThresholds) std::printf(" zlib above %zu |", th);
    std::printf(" compressed at %zu | zlib ms/message | cloud tokenizing ms/task |\n|---|---|---|",
                pice::messages::kCompressAboveBytes);
    for (size_t i = 0; i < kThresholdCount; ++i) std::printf("---|");
    std::printf("---|---|---|\n");
    for (const auto& [vocab, t] : runs) {
      const double n = static_cast<double>(t.requests);
      for (const bool ids : {false, true}) {
        const Sizes& task = ids ? t.compact_task : t.text_task;
        const Sizes& result = ids ? t.compact_result : t.text_result;
        std::printf("| %s | %s | %.0f |", vocab.c_str(), ids ? "ids" : "text", static_cast<double>(task.plain + result.plain) / n);
        for (size_t i = 0; i < kThresholdCount; ++i)
          std::printf(" %.0f |", static_cast<double>(task.framed[i] + result.framed[i]) / n);
        std::printf(" %.1f%% | %.4f | %.3f |\n",
                    100.0 * static_cast<double>(task.compressed_messages + result.compressed_messages) / (n * 2 * kPoints),
                    t.compress_ms / static_cast<double>(t.messages), t.compact_ms / (n * kPoints));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compact_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
