#pragma once
// The keys and values of many sequences in fixed blocks of kBlockTokens positions (as vLLM's paged
// cache). A sequence is a table of block ids; blocks are reference-counted, so a fork shares every block
// of its parent's prefix: a prompt prefilled once serves many sequences without being copied or
// recomputed. The one block a write would touch while it is shared is copied first (copy on write), so a
// sequence never changes what another one sees.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace pice::kernels {

// A bound on each sequence's cache for long contexts, after A-VL (and H2O): a sequence keeps its last
// `window` positions plus the `keep` earlier ones that attention has weighted most so far (summed over
// layers, heads and queries); the others are evicted after each step and attention skips them. Kept
// positions keep the rope angles of where they were. Off (window 0) by default.
struct KvPolicy {
  int window = 0;   // recent positions always kept; 0: no bound
  int keep = 0;     // earlier positions kept by attention received
  bool bounded() const { return window > 0; }
  int capacity() const { return window + keep; }   // positions a sequence holds after a step
  std::string problem() const;   // empty when valid, else what is wrong (negative values, keep without window)
};

class KvCache {
 public:
  static constexpr int kBlockTokens = 16;

  struct Table {
    std::vector<int> blocks;   // block of positions [16 i, 16 i + 16)
    int length = 0;            // positions written
  };

  KvCache(int n_layers, int kv_dim, int n_blocks);

  int total_blocks() const { return static_cast<int>(refs_.size()); }
  int free_blocks() const { return static_cast<int>(free_.size()); }
  // Blocks that reserve(t, tokens) would take from the free list.
  int blocks_needed(const Table& t, int tokens) const;

  // Makes positions [t.length, t.length + tokens) writable in t (length is not changed: the writer
  // advances it). False, with t unchanged, when too few blocks are free.
  bool reserve(Table& t, int tokens);
  // A table that shares the parent's first `length` positions (<= parent.length).
  Table fork(const Table& parent, int length);
  void release(Table& t);   // t becomes empty

  // For rewriting a table's own positions (the bounded policy's eviction): gives t its own copy of
  // every shared block from block index `from_block` on. False, with t unchanged, when too few blocks
  // are free.
  bool make_private(Table& t, int from_block);
  // Copies position `from` of t to position `to`, every layer, keys and values (t's blocks there are its own).
  void move_cell(const Table& t, int from, int to);
  // Drops positions from `length` on (<= t.length); blocks no longer needed return to the free list.
  void truncate(Table& t, int length);

  // [kv_dim] floats of one position (< the reserved length) of one layer.
  float* key(const Table& t, int layer, int pos) { return keys_.get() + offset(t, layer, pos); }
  float* value(const Table& t, int layer, int pos) { return values_.get() + offset(t, layer, pos); }
  const float* key(const Table& t, int layer, int pos) const { return keys_.get() + offset(t, layer, pos); }
  const float* value(const Table& t, int layer, int pos) const { return values_.get() + offset(t, layer, pos); }

 private:
  size_t offset(const Table& t, int layer, int pos) const {
    const auto block = static_cast<size_t>(t.blocks[static_cast<size_t>(pos / kBlockTokens)]);
    return ((block * static_cast<size_t>(n_layers_) + static_cast<size_t>(layer)) * kBlockTokens +
            static_cast<size_t>(pos % kBlockTokens)) * static_cast<size_t>(kv_dim_);
  }
  int take_block();
  int copy_block(int block);   // a fresh block with `block`'s contents

  int n_layers_, kv_dim_;
  // [block][layer][slot][kv_dim], left uninitialised: a large cache costs memory only as blocks are
  // first written, and a position is always written before it is read.
  std::unique_ptr<float[]> keys_, values_;
  std::vector<int> refs_;              // per block: tables holding it
  std::vector<int> free_;              // blocks with no reference
};

}  // namespace pice::kernels
