#pragma once
// Text generation on one Sequence: prefill the prompt, then sample token after token.
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/sampler.hpp"
#include "kernels/sequence.hpp"

namespace pice::kernels {

struct GenerateOptions {
  int max_tokens = 64;
  SamplingParams sampling;
  bool ignore_eos = false;         // EOS is never sampled (its logit masked, as llama.cpp's --ignore-eos)
  int min_tokens = 0;              // before this many tokens, EOS is not sampled and stop strings do not end generation
  std::vector<std::string> stop;   // generation ends before the first occurrence of any of these
};

struct Generation {
  std::string text;                // the continuation as it would follow the prompt's text, stop string excluded
  std::vector<int32_t> tokens;     // sampled tokens (an EOS that ended generation is not included)
  double mean_logprob = 0;         // mean of the tokens' log-probabilities; 0 when none
  int prompt_tokens = 0;
  double prefill_ms = 0, decode_ms = 0;
  std::string finish_reason;       // "length" | "stop" | "eos"
};

// Token callback: `piece` is the text released by this token. Text that could still turn out to be the
// start of a stop string, or an incomplete UTF-8 character, is held back and released with a later
// token; a final call with token -1 flushes what is left. The concatenation of all pieces equals
// Generation::text. Returning false stops generation (finish_reason "stop").
using TokenCallback = std::function<bool(int32_t token, std::string_view piece)>;

// Feeds the prompt (at least one token, e.g. BOS), then samples up to max_tokens, ending early at EOS
// (unless ignore_eos), a stop string, a full sequence ("length"), or the callback. The last sampled
// token is not fed back (nothing would read its logits), so afterwards
// seq.position() == prompt.size() + tokens.size() - 1 when tokens were generated.
Generation generate(Sequence& seq, std::span<const int32_t> prompt, const GenerateOptions& options,
                    const TokenCallback& on_token = {});

}  // namespace pice::kernels
