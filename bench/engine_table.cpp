// The engine's speed table (docs/BENCHMARKS.md): for each synthetic shape and weight type, with 1 and
// 2 threads, prefill tokens/s at 128 and 512 tokens, decode tokens/s over 128 tokens, and batched
// decode aggregate tokens/s for 1, 2, 4, 8 and 16 sequences forked from one 128-token prefix (64 tokens
// each), the cases of llama.cpp's llama-bench (pp128, pp512, tg128) and batched-bench (-pps) in the
// brief. Each figure is the best of two passes; the two thread counts run one after the other per model.
//
//   build/bench/engine_table [--models edge-135m:f16,edge-135m:q8_0,...] [--threads 1,2] [--quick]
//
// Models are synthesised on first use into $PICE_CACHE_DIR (or ~/.cache/pice). --quick: one pass and
// shorter runs (a smoke test of the program, not figures).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/batch.hpp"
#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels/synth.hpp"

namespace {

using namespace pice::kernels;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::vector<std::string> models = {"edge-135m:f16", "edge-135m:q8_0", "edge-135m:q4_0", "edge-0.5b:q8_0",
                                     "edge-0.5b:q4_0", "cloud-1.5b:q8_0", "cloud-1.5b:q4_0"};
  std::vector<int> threads = {1, 2};
  bool quick = false;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<int32_t> tokens(const Model& model, int n, int seed) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(3 + (seed * 7919 + i * 37) % (model.hparams().vocab_size - 3));
  return ids;
}

// Best (highest) tokens/s over the passes.
template <class Run>
double best_of(int passes, Run run) {
  double best = 0;
  for (int p = 0; p < passes; ++p) best = std::max(best, run());
  return best;
}

double prefill(const std::shared_ptr<const Model>& model, int n) {
  Sequence seq(model, n);
  const auto prompt = tokens(*model, n, 1);
  const auto start = Clock::now();
  seq.feed(prompt);
  return n / seconds_since(start);
}

double decode(const std::shared_ptr<const Model>& model, int n) {
  Sequence seq(model, n + 1);
  const auto ids = tokens(*model, n + 1, 2);
  seq.feed(std::span<const int32_t>(ids.data(), 1));
  const auto start = Clock::now();
  for (int i = 1; i <= n; ++i) seq.feed(std::span<const int32_t>(&ids[static_cast<size_t>(i)], 1));
  return n / seconds_since(start);
}

// Sequences forked from one prefilled prefix (not timed), then `steps` steps of one token each.
double batched(const std::shared_ptr<const Model>& model, int sequences, int prefix, int steps) {
  Batch batch(model, sequences * (prefix + steps + 2 * KvCache::kBlockTokens));
  const Batch::SeqId root = batch.add();
  const auto prompt = tokens(*model, prefix, 3);
  const Batch::Item prefill_item{root, prompt, false};
  batch.step(std::span<const Batch::Item>(&prefill_item, 1));
  std::vector<Batch::SeqId> seqs;
  for (int s = 0; s < sequences; ++s) seqs.push_back(batch.fork(root));
  batch.remove(root);
  const auto ids = tokens(*model, steps * sequences, 4);
  std::vector<Batch::Item> items(static_cast<size_t>(sequences));
  const auto start = Clock::now();
  for (int step = 0; step < steps; ++step) {
    for (int s = 0; s < sequences; ++s)
      items[static_cast<size_t>(s)] = {seqs[static_cast<size_t>(s)],
                                       std::span<const int32_t>(&ids[static_cast<size_t>(step * sequences + s)], 1), true};
    batch.step(items);
  }
  return static_cast<double>(sequences) * steps / seconds_since(start);
}

void run(const std::string& spec, int threads, const Settings& settings) {
  const auto model = Model::load(resolve_model_path("synth:" + spec), threads);
  const int passes = settings.quick ? 1 : 2;
  const int decode_tokens = settings.quick ? 16 : 128, batch_steps = settings.quick ? 8 : 64;
  std::printf("| %s | %d | %.0f | %.0f | %.1f |", spec.c_str(), threads,
              best_of(passes, [&] { return prefill(model, 128); }), best_of(passes, [&] { return prefill(model, 512); }),
              best_of(passes, [&] { return decode(model, decode_tokens); }));
  std::fflush(stdout);
  for (const int sequences : {1, 2, 4, 8, 16}) {
    std::printf(" %.1f |", best_of(passes, [&] { return batched(model, sequences, 128, batch_steps); }));
    std::fflush(stdout);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--models" && i + 1 < argc) {
      settings.models = split(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      settings.threads.clear();
      for (const std::string& t : split(argv[++i])) settings.threads.push_back(std::stoi(t));
    } else if (arg == "--quick") {
      settings.quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--models SHAPE:TYPE,...] [--threads 1,2] [--quick]\n", argv[0]);
      return 2;
    }
  }
  std::printf("| model | threads | prefill 128 | prefill 512 | decode 128 | batch 1 | 2 | 4 | 8 | 16 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  try {
    for (const std::string& spec : settings.models)
      for (const int threads : settings.threads) run(spec, threads, settings);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_table: %s\n", e.what());
    return 1;
  }
  return 0;
}
