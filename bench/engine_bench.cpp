// Engine speed on synthetic models of real shapes (weights are random; the cost of a forward pass
// does not depend on them). Single sequence, one thread: prefill of a 128-token prompt and decode
// steps after it, for each weight format. Run: build/bench/engine_bench --benchmark_counters_tabular=true
// (--benchmark_filter=Decode/edge135m for the decode table alone; PICE_SIMD=off for the portable kernels).
// Models are made on first use in $PICE_CACHE_DIR (or ~/.cache/pice) and reused.
#include <benchmark/benchmark.h>

#include <map>
#include <vector>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels/synth.hpp"

namespace {

using pice::kernels::Model;
using pice::kernels::Sequence;

std::shared_ptr<const Model> model_for(const std::string& spec) {
  static std::map<std::string, std::shared_ptr<const Model>> loaded;
  auto& model = loaded[spec];
  if (!model) model = Model::load(pice::kernels::resolve_model_path(spec));
  return model;
}

std::vector<int32_t> prompt_of(const Model& model, int tokens) {
  std::vector<int32_t> ids;
  for (int i = 0; i < tokens; ++i) ids.push_back(3 + (i * 37) % (model.hparams().vocab_size - 3));
  return ids;
}

void BM_Prefill128(benchmark::State& state, const std::string& spec) {
  auto model = model_for(spec);
  auto prompt = prompt_of(*model, 128);
  for (auto _ : state) {
    Sequence seq(model, 256);
    benchmark::DoNotOptimize(seq.feed(prompt).data());
  }
  state.counters["tokens/s"] = benchmark::Counter(128.0 * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state, const std::string& spec) {
  auto model = model_for(spec);
  auto prompt = prompt_of(*model, 32);
  const int capacity = std::min(32 + 4096, model->hparams().context_length);
  Sequence seq(model, capacity);
  seq.feed(prompt);
  int32_t token = 5;
  for (auto _ : state) {
    if (seq.position() >= seq.capacity()) {
      state.PauseTiming();
      seq = Sequence(model, capacity);
      seq.feed(prompt);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(seq.feed(std::span<const int32_t>(&token, 1)).data());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

// The formats of one shape registered interleaved, so that noisy neighbours hit them alike.
BENCHMARK_CAPTURE(BM_Prefill128, demo_f32, std::string("synth:demo"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, demo_f16, std::string("synth:demo:f16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, demo_f32, std::string("synth:demo"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decode, demo_f16, std::string("synth:demo:f16"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_f32, std::string("synth:edge-135m"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_f16, std::string("synth:edge-135m:f16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_q8_0, std::string("synth:edge-135m:q8_0"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_q4_0, std::string("synth:edge-135m:q4_0"))->Unit(benchmark::kMillisecond);
// Decode of every format of edge-135m side by side (q4_k_m: mostly q4_0 there, as its rows of 576
// do not fit the k-quants' 256-blocks; bf16 and q4_k_m for reference).
BENCHMARK_CAPTURE(BM_Decode, edge135m_f32, std::string("synth:edge-135m"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_f16, std::string("synth:edge-135m:f16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_q8_0, std::string("synth:edge-135m:q8_0"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_q4_0, std::string("synth:edge-135m:q4_0"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_bf16, std::string("synth:edge-135m:bf16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_q4_k_m, std::string("synth:edge-135m:q4_k_m"))->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
