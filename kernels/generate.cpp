#include "kernels/generate.hpp"

#include <chrono>

#include "kernels/generation_state.hpp"

namespace pice::kernels {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

Generation generate(Sequence& seq, std::span<const int32_t> prompt, const GenerateOptions& options,
                    const TokenCallback& on_token) {
  GenerationState state(seq.model().tokenizer(), prompt, options, on_token);
  const auto prefill_start = Clock::now();
  std::span<const float> logits = seq.feed(prompt);
  const double prefill_ms = ms_since(prefill_start);

  const auto decode_start = Clock::now();
  // The last sampled token is not fed: nothing would read its logits. A full sequence (its cache full,
  // or at the context length under a bounded cache) ends as "length".
  const int context = seq.model().hparams().context_length;
  while (state.accept(logits) && seq.cached() < seq.capacity() && seq.position() < context) {
    const int32_t token = state.last_token();
    logits = seq.feed(std::span<const int32_t>(&token, 1));
  }
  const double decode_ms = ms_since(decode_start);
  Generation g = state.finish();
  g.prefill_ms = prefill_ms;
  g.decode_ms = decode_ms;
  return g;
}

}  // namespace pice::kernels
