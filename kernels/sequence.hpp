#pragma once
// One sequence being run through a model: a Batch (batch.hpp) that holds just this sequence, with a
// cache of max_tokens positions. Not thread-safe; many Sequences may share one Model across threads.
#include <memory>
#include <span>

#include "kernels/batch.hpp"
#include "kernels/model.hpp"

namespace pice::kernels {

class Sequence {
 public:
  // max_tokens: KV cache capacity, 1..context_length (ModelError otherwise). Under the model's bounded
  // KV policy a sequence can run past it, up to the context length, as long as one feed fits.
  Sequence(std::shared_ptr<const Model> model, int max_tokens);

  // Runs the tokens through the model at the next positions and returns the logits (vocab_size) of the
  // last one; the span stays valid until the next feed(). Throws ModelError for an empty input, an id
  // outside the vocab, or more tokens than the cache has room for (the sequence is then unchanged).
  std::span<const float> feed(std::span<const int32_t> tokens);

  int position() const { return batch_.position(seq_); }
  int cached() const { return batch_.cached(seq_); }   // positions in the cache (< position() when bounded)
  int capacity() const { return capacity_; }
  const Model& model() const { return batch_.model(); }

 private:
  static std::shared_ptr<const Model> checked(std::shared_ptr<const Model> model, int max_tokens);

  int capacity_;
  Batch batch_;
  Batch::SeqId seq_;
};

}  // namespace pice::kernels
