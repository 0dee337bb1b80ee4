// The engine's speed table (docs/BENCHMARKS.md): for each synthetic shape and weight type, with 1 and
// 2 threads, prefill tokens/s at 128 and 512 tokens, decode tokens/s over 128 tokens, and batched
// decode aggregate tokens/s for 1, 2, 4, 8 and 16 sequences forked from one 128-token prefix (64 tokens
// each), the cases of llama.cpp's llama-bench (pp128, pp512, tg128) and batched-bench (-pps) in the
// brief. Each figure is the best of two passes; the two thread counts run one after the other per model.
//
//   build/bench/engine_table [--models edge-135m:f16,edge-135m:q8_0,...] [--threads 1,2] [--clock wall|cpu]
//                     [--cases prefill,decode,batch] [--passes 2] [--quick]
//
// Models are synthesised on first use into $PICE_CACHE_DIR (or ~/.cache/pice). --quick: one pass and
// shorter runs (a smoke test of the program, not figures). --clock cpu divides by the process's CPU
// time per thread instead of wall time: on a machine shared with other busy processes it estimates
// what the threads would do on cores of their own (spinning and waiting on each other still count).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/batch.hpp"
#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels/synth.hpp"
#include "kernels/thread_pool.hpp"

namespace {

using namespace pice::kernels;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::vector<std::string> models = {"edge-135m:f16", "edge-135m:q8_0", "edge-135m:q4_0", "edge-0.5b:q8_0",
                                     "edge-0.5b:q4_0", "cloud-1.5b:q8_0", "cloud-1.5b:q4_0"};
  std::vector<int> threads = {1, 2};
  bool quick = false;
  int passes = 2;
  bool cpu_clock = false;
  std::vector<std::string> cases = {"prefill", "decode", "batch"};
  bool wants(const std::string& c) const { return std::find(cases.begin(), cases.end(), c) != cases.end(); }
};

Settings settings;

// Seconds on the clock the settings name, per thread for CPU time.
struct Stopwatch {
  int threads;
  Clock::time_point wall = Clock::now();
  double cpu = cpu_seconds();
  static double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  double seconds() const {
    if (settings.cpu_clock) return (cpu_seconds() - cpu) / threads;
    return std::chrono::duration<double>(Clock::now() - wall).count();
  }
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}


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

int threads_of(const Model& model) { return model.pool() != nullptr ? model.pool()->threads() : 1; }

double prefill(const std::shared_ptr<const Model>& model, int n) {
  Sequence seq(model, n);
  const auto prompt = tokens(*model, n, 1);
  const Stopwatch watch{threads_of(*model)};
  seq.feed(prompt);
  return n / watch.seconds();
}

double decode(const std::shared_ptr<const Model>& model, int n) {
  Sequence seq(model, n + 1);
  const auto ids = tokens(*model, n + 1, 2);
  seq.feed(std::span<const int32_t>(ids.data(), 1));
  const Stopwatch watch{threads_of(*model)};
  for (int i = 1; i <= n; ++i) seq.feed(std::span<const int32_t>(&ids[static_cast<size_t>(i)], 1));
  return n / watch.seconds();
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
  const Stopwatch watch{threads_of(*model)};
  for (int step = 0; step < steps; ++step) {
    for (int s = 0; s < sequences; ++s)
      items[static_cast<size_t>(s)] = {seqs[static_cast<size_t>(s)],
                                       std::span<const int32_t>(&ids[static_cast<size_t>(step * sequences + s)], 1), true};
    batch.step(items);
  }
  return static_cast<double>(sequences) * steps / watch.seconds();
}

// Main-memory read bandwidth with this many threads (GB/s), measured like the decode figures: the
// bound a decode step cannot beat is (weight bytes) / bandwidth.
double read_bandwidth(int threads) {
  constexpr size_t kBytes = size_t{1} << 30;
  static std::vector<uint64_t> buffer(kBytes / sizeof(uint64_t), 1);
  ThreadPool pool(threads);
  const int pieces = 256;
  const size_t per_piece = buffer.size() / pieces;
  std::vector<uint64_t> sums(pieces);
  return best_of(3, [&] {
    const Stopwatch watch{threads};
    pool.for_each(pieces, 1, [&](int begin, int end) {
      for (int p = begin; p < end; ++p) {
        uint64_t a = 0, b = 0, c = 0, d = 0;
        const uint64_t* x = buffer.data() + static_cast<size_t>(p) * per_piece;
        for (size_t i = 0; i < per_piece; i += 4) a += x[i], b += x[i + 1], c += x[i + 2], d += x[i + 3];
        sums[static_cast<size_t>(p)] = a + b + c + d;
      }
    });
    return static_cast<double>(kBytes) / 1e9 / watch.seconds();
  });
}

void run(const std::string& spec, int threads) {
  const auto model = Model::load(resolve_model_path("synth:" + spec), threads);
  const int passes = settings.quick ? 1 : settings.passes;
  const int decode_tokens = settings.quick ? 16 : 128, batch_steps = settings.quick ? 8 : 64;
  const auto figure = [&](bool wanted, auto measure) { return wanted ? best_of(passes, measure) : 0.0; };
  std::printf("| %s | %d | %.0f | %.0f | %.1f |", spec.c_str(), threads,
              figure(settings.wants("prefill"), [&] { return prefill(model, 128); }),
              figure(settings.wants("prefill"), [&] { return prefill(model, 512); }),
              figure(settings.wants("decode"), [&] { return decode(model, decode_tokens); }));
  std::fflush(stdout);
  for (const int sequences : {1, 2, 4, 8, 16}) {
    std::printf(" %.1f |", figure(settings.wants("batch"), [&] { return batched(model, sequences, 128, batch_steps); }));
    std::fflush(stdout);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--models" && i + 1 < argc) {
      settings.models = split(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      settings.threads.clear();
      for (const std::string& t : split(argv[++i])) settings.threads.push_back(std::stoi(t));
    } else if (arg == "--clock" && i + 1 < argc) {
      settings.cpu_clock = std::string(argv[++i]) == "cpu";
    } else if (arg == "--cases" && i + 1 < argc) {
      settings.cases = split(argv[++i]);
    } else if (arg == "--passes" && i + 1 < argc) {
      settings.passes = std::max(1, std::stoi(argv[++i]));
    } else if (arg == "--quick") {
      settings.quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--models SHAPE:TYPE,...] [--threads 1,2] [--clock wall|cpu] [--cases prefill,decode,batch] [--passes 2] [--quick]\n", argv[0]);
      return 2;
    }
  }
  for (const int threads : settings.threads) std::printf("read bandwidth, %d threads: %.1f GB/s\n", threads, read_bandwidth(threads));
  std::printf("| model | threads | prefill 128 | prefill 512 | decode 128 | batch 1 | 2 | 4 | 8 | 16 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  try {
    for (const std::string& spec : settings.models)
      for (const int threads : settings.threads) run(spec, threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_table: %s\n", e.what());
    return 1;
  }
  return 0;
}
