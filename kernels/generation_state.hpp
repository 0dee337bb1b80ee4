#pragma once
// The per-token bookkeeping of one generation, whatever runs the model: sampling (EOS masked while it
// may not end the text), the text so far, stop strings, the streaming of text that can no longer become
// a stop string, and the log-probabilities. generate() drives one on a Sequence, BatchGenerator many
// on a Batch, so a generation ends and streams the same way in both.
#include <span>
#include <string>
#include <vector>

#include "kernels/generate.hpp"
#include "kernels/sampler.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels {

class GenerationState {
 public:
  GenerationState(const Tokenizer& tokenizer, std::span<const int32_t> prompt, const GenerateOptions& options,
                  TokenCallback on_token);

  // Samples the next token from the logits after the last fed token and handles it. True when the
  // generation goes on: then last_token() must be fed to get the next logits.
  bool accept(std::span<const float> logits);
  int32_t last_token() const { return g_.tokens.back(); }
  bool finished() const { return finished_; }

  // Flushes held-back text to the callback and returns the result (once).
  Generation finish();
  Generation& result() { return g_; }   // timings are filled in by the caller

 private:
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  TokenCallback on_token_;
  std::vector<std::string> stops_;
  size_t longest_stop_ = 0;
  Sampler sampler_;
  Generation g_;
  bool at_text_start_;
  bool has_eos_ = false;
  bool finished_ = false;
  size_t emitted_ = 0;
  double logprob_sum_ = 0;
  std::vector<float> masked_;
};

}  // namespace pice::kernels
