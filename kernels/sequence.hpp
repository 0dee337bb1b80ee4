#pragma once
// One sequence being run through a model: its KV cache, its position, and the scratch buffers of the
// forward pass. Not thread-safe; many Sequences may share one Model across threads.
#include <memory>
#include <span>
#include <vector>

#include "kernels/model.hpp"

namespace pice::kernels {

class Sequence {
 public:
  // max_tokens: KV cache capacity, 1..context_length (ModelError otherwise).
  Sequence(std::shared_ptr<const Model> model, int max_tokens);

  // Runs the tokens through the model at the next positions and returns the logits (vocab_size) of the
  // last one; the span stays valid until the next feed(). Throws ModelError for an empty input, an id
  // outside the vocab, or more tokens than the cache has room for (the sequence is then unchanged).
  std::span<const float> feed(std::span<const int32_t> tokens);

  int position() const { return pos_; }
  int capacity() const { return capacity_; }
  const Model& model() const { return *model_; }

 private:
  // Forward pass of n tokens (n <= kChunk) at positions pos_.. pos_+n-1; logits of the last one.
  void forward_chunk(const int32_t* tokens, int n, bool want_logits);
  void attention(int layer, int n);

  static constexpr int kChunk = 32;   // tokens per batched pass: bounds the scratch memory

  std::shared_ptr<const Model> model_;
  int capacity_;
  int pos_ = 0;
  std::vector<float> key_cache_, value_cache_;   // [layer][capacity][kv_dim]
  std::vector<float> inv_freq_;                  // RoPE frequencies, [head_dim / 2]
  // Scratch, [kChunk][...]: residual stream, normed input, q/k/v, attention output, FFN hidden.
  std::vector<float> x_, xb_, q_, k_, v_, att_out_, hb_, hb2_, scores_;
  std::vector<float> logits_;
};

}  // namespace pice::kernels
