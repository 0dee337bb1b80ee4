#pragma once
// Many sequences of one model run through it together. A step takes any number of sequences, each
// with its own tokens at its own positions (a prompt being prefilled beside sequences decoding one
// token each), and runs them as one pass: every weight row is loaded once for all the step's tokens.
// The sequences' keys and values live in one block cache (kv_cache.hpp), so a sequence can be forked
// from another's prefix without copying or recomputing it. Sequences are added and removed between
// steps (continuous batching).
//
// A sequence's logits do not depend on what else is in the step (each token's arithmetic is the same,
// bit for bit, alone or batched). Not thread-safe; the model's pool splits the work of a step.
//
// With the model's bounded KV policy (KvPolicy, kv_cache.hpp), each sequence's cache is cut back after
// every step it ran in to its last `window` positions plus the `keep` earlier ones that received the
// most attention; its table then lists only the cached positions (cells), in order, and attention runs
// over those. A cell keeps the key computed (and rotated) at its original position.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/kv_cache.hpp"
#include "kernels/model.hpp"

namespace pice::kernels {

class Batch {
 public:
  using SeqId = int;

  // kv_tokens: positions the cache holds over all sequences (rounded up to whole blocks).
  Batch(std::shared_ptr<const Model> model, int kv_tokens);

  SeqId add();                             // an empty sequence
  // A sequence that starts as the first `length` positions of `parent` (all of them when -1), sharing
  // its cache blocks. ModelError for an unknown parent or a length outside 0..position(parent), or
  // between intact_length(parent) and position(parent) (evicted positions cannot be brought back).
  SeqId fork(SeqId parent, int length = -1);
  void remove(SeqId seq);                  // its blocks return to the cache once no fork holds them
  int position(SeqId seq) const;           // tokens run so far
  int cached(SeqId seq) const;             // positions held in the cache (= position unless bounded)
  // Leading positions still all in the cache: fork() takes a length up to this, or the whole sequence.
  int intact_length(SeqId seq) const;
  bool has(SeqId seq) const;
  int free_tokens() const;                 // positions still free in the cache (shared blocks counted once)
  int sequences() const;

  struct Item {
    SeqId seq;
    std::span<const int32_t> tokens;   // at least one
    bool want_logits = true;           // logits of the last token
  };
  // Runs every item's tokens at its sequence's next positions in one pass. ModelError, with nothing
  // changed, for an unknown or repeated sequence, an empty item, a token outside the vocab, a position past
  // the context length, or too little room in the cache.
  void step(std::span<const Item> items);
  // Logits (vocab) of the last token of item i of the last step (want_logits); valid until the next step.
  std::span<const float> logits(size_t item) const;

  const Model& model() const { return *model_; }

 private:
  struct Row {   // one token of the step
    int seq, pos;
    int cell;          // its index in the sequence's cache table (= pos unless positions were evicted)
    int logits_slot;   // -1: no logits wanted
  };
  struct SeqState {
    KvCache::Table table;   // table.length: cells written
    int position = 0;
    int intact = 0;                // leading positions with no eviction among them
    std::vector<float> received;   // bounded policy: attention weight each cell has received so far
  };
  void validate(std::span<const Item> items) const;
  void forward_chunk(const int32_t* tokens, const Row* rows, int n);
  void attention(int layer, const Row* rows, int n);
  void add_received(const Row* rows, int n);
  void evict(SeqState& s);
  SeqState& state(SeqId seq);
  const SeqState& state(SeqId seq) const;

  static constexpr int kChunk = 64;   // tokens per pass through the layers: bounds the scratch memory

  std::shared_ptr<const Model> model_;
  KvCache cache_;
  KvPolicy policy_;
  std::vector<SeqState> seqs_;
  std::vector<bool> live_;
  // Scratch, [kChunk][...]: residual stream, normed input, q/k/v, attention output, FFN hidden.
  std::vector<float> x_, xb_, q_, k_, v_, att_out_, hb_, hb2_;
  // Bounded policy: the chunk's attention weights, [row][head][cell], probs_stride_ cells per head.
  std::vector<float> probs_;
  size_t probs_stride_ = 0;
  std::vector<float> logits_;     // [items wanting logits][vocab]
  std::vector<int> logits_of_item_;
};

}  // namespace pice::kernels
