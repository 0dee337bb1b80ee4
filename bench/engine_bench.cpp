// Engine speed on synthetic models of real shapes (weights are random; the cost of a forward pass
// does not depend on them). Single sequence, one thread: prefill of a 128-token prompt and decode
// steps after it. Run: build/bench/engine_bench --benchmark_counters_tabular=true
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

// F32 and F16 of the same shapes, registered interleaved so noisy neighbours hit both alike.
BENCHMARK_CAPTURE(BM_Prefill128, demo_f32, std::string("synth:demo"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, demo_f16, std::string("synth:demo:f16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, demo_f32, std::string("synth:demo"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decode, demo_f16, std::string("synth:demo:f16"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_f32, std::string("synth:edge-135m"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill128, edge135m_f16, std::string("synth:edge-135m:f16"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_f32, std::string("synth:edge-135m"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, edge135m_f16, std::string("synth:edge-135m:f16"))->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
