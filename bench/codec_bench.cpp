// msgpack envelope encode/decode for the message the pipeline sends most: an expansion task of
// about 1 KiB. Run: build/bench/codec_bench
#include <benchmark/benchmark.h>

#include "messages/envelope.hpp"

namespace {

pice::messages::Envelope sample_task() {
  pice::messages::ExpansionTask task;
  task.question = std::string(300, 'q');
  for (int i = 0; i < 6; ++i) task.sketch.push_back("point number " + std::to_string(i) + std::string(100, 'p'));
  task.point_index = 3;
  task.point = task.sketch[2];
  task.max_tokens = 48;
  task.temperature = 0.8;
  task.top_p = 0.95;
  task.deadline_us = 1'800'000'000'000'000;
  pice::messages::Envelope env;
  env.request_id = "0a1b2c3d:4e5f6a7b8c9d0e1f";
  env.task_id = env.request_id + "/3";
  env.sender = "cloud-1";
  env.created_us = 1'700'000'000'000'000;
  env.body = task;
  return env;
}

void BM_Encode(benchmark::State& state) {
  auto env = sample_task();
  size_t bytes = 0;
  for (auto _ : state) {
    auto encoded = pice::messages::encode(env);
    bytes = encoded.size();
    benchmark::DoNotOptimize(encoded.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_Decode(benchmark::State& state) {
  auto encoded = pice::messages::encode(sample_task());
  for (auto _ : state) {
    auto env = pice::messages::decode(encoded);
    benchmark::DoNotOptimize(&env);
  }
  state.counters["bytes"] = static_cast<double>(encoded.size());
}

}  // namespace

BENCHMARK(BM_Encode);
BENCHMARK(BM_Decode);
BENCHMARK_MAIN();
