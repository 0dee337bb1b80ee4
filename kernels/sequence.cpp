#include "kernels/sequence.hpp"

#include <string>

namespace pice::kernels {

std::shared_ptr<const Model> Sequence::checked(std::shared_ptr<const Model> model, int max_tokens) {
  if (!model) throw ModelError("Sequence: no model");
  const int context = model->hparams().context_length;
  if (max_tokens < 1 || max_tokens > context)
    throw ModelError("Sequence: max_tokens " + std::to_string(max_tokens) + " is outside 1.." + std::to_string(context) +
                     " (the context length of " + model->name() + ")");
  return model;
}

Sequence::Sequence(std::shared_ptr<const Model> model, int max_tokens)
    : capacity_(max_tokens), batch_(checked(std::move(model), max_tokens), max_tokens), seq_(batch_.add()) {}

std::span<const float> Sequence::feed(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw ModelError("Sequence::feed: no tokens");
  // Positions held, not run: a bounded cache (the model's KvPolicy) frees room as it evicts.
  if (tokens.size() > static_cast<size_t>(capacity_ - cached()))
    throw ModelError("Sequence::feed: " + std::to_string(tokens.size()) + " tokens at position " +
                     std::to_string(position()) + " (" + std::to_string(cached()) + " cached) exceed the capacity of " +
                     std::to_string(capacity_));
  const Batch::Item item{seq_, tokens, true};
  batch_.step(std::span<const Batch::Item>(&item, 1));
  return batch_.logits(0);
}

}  // namespace pice::kernels
