#include "kernels/kv_cache.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pice::kernels {
namespace {

int blocks_for(int positions) { return (positions + KvCache::kBlockTokens - 1) / KvCache::kBlockTokens; }

}  // namespace

std::string KvPolicy::problem() const {
  if (window < 0 || keep < 0)
    return "kv_window (" + std::to_string(window) + ") and kv_keep (" + std::to_string(keep) + ") must not be negative";
  if (window == 0 && keep > 0) return "kv_keep = " + std::to_string(keep) + " needs a kv_window above 0";
  return "";
}

KvCache::KvCache(int n_layers, int kv_dim, int n_blocks) : n_layers_(n_layers), kv_dim_(kv_dim) {
  if (n_layers < 1 || kv_dim < 1 || n_blocks < 1)
    throw std::invalid_argument("KvCache: layers, kv_dim and blocks must be positive (got " + std::to_string(n_layers) +
                                ", " + std::to_string(kv_dim) + ", " + std::to_string(n_blocks) + ")");
  const size_t floats = static_cast<size_t>(n_blocks) * static_cast<size_t>(n_layers) * kBlockTokens * static_cast<size_t>(kv_dim);
  keys_ = std::make_unique_for_overwrite<float[]>(floats);
  values_ = std::make_unique_for_overwrite<float[]>(floats);
  refs_.assign(static_cast<size_t>(n_blocks), 0);
  // Taken from the back: block 0 first, so a lone sequence's blocks lie in order in memory.
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int KvCache::blocks_needed(const Table& t, int tokens) const {
  const int have = static_cast<int>(t.blocks.size());
  int needed = std::max(0, blocks_for(t.length + tokens) - have);
  // The first write lands in a partly written block that another table still reads: it gets a copy.
  const bool writes_into_last = tokens > 0 && t.length % kBlockTokens != 0 && t.length / kBlockTokens < have;
  if (writes_into_last && refs_[static_cast<size_t>(t.blocks[static_cast<size_t>(t.length / kBlockTokens)])] > 1) ++needed;
  return needed;
}

int KvCache::take_block() {
  const int b = free_.back();
  free_.pop_back();
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

bool KvCache::reserve(Table& t, int tokens) {
  if (blocks_needed(t, tokens) > free_blocks()) return false;
  if (tokens <= 0) return true;
  const auto current = static_cast<size_t>(t.length / kBlockTokens);
  if (t.length % kBlockTokens != 0 && current < t.blocks.size() && refs_[static_cast<size_t>(t.blocks[current])] > 1)
    t.blocks[current] = copy_block(t.blocks[current]);
  while (static_cast<int>(t.blocks.size()) < blocks_for(t.length + tokens)) t.blocks.push_back(take_block());
  return true;
}

int KvCache::copy_block(int shared) {
  const int copy = take_block();
  const size_t block_floats = static_cast<size_t>(n_layers_) * kBlockTokens * static_cast<size_t>(kv_dim_);
  const size_t from = static_cast<size_t>(shared) * block_floats, to = static_cast<size_t>(copy) * block_floats;
  std::memcpy(keys_.get() + to, keys_.get() + from, block_floats * sizeof(float));
  std::memcpy(values_.get() + to, values_.get() + from, block_floats * sizeof(float));
  --refs_[static_cast<size_t>(shared)];
  return copy;
}

bool KvCache::make_private(Table& t, int from_block) {
  const auto first = static_cast<size_t>(std::max(0, from_block));
  int shared = 0;
  for (size_t i = first; i < t.blocks.size(); ++i) shared += refs_[static_cast<size_t>(t.blocks[i])] > 1 ? 1 : 0;
  if (shared > free_blocks()) return false;
  for (size_t i = first; i < t.blocks.size(); ++i)
    if (refs_[static_cast<size_t>(t.blocks[i])] > 1) t.blocks[i] = copy_block(t.blocks[i]);
  return true;
}

void KvCache::move_cell(const Table& t, int from, int to) {
  if (from == to) return;
  for (int layer = 0; layer < n_layers_; ++layer) {
    std::memcpy(key(t, layer, to), key(t, layer, from), static_cast<size_t>(kv_dim_) * sizeof(float));
    std::memcpy(value(t, layer, to), value(t, layer, from), static_cast<size_t>(kv_dim_) * sizeof(float));
  }
}

void KvCache::truncate(Table& t, int length) {
  if (length < 0 || length > t.length)
    throw std::invalid_argument("KvCache::truncate: length " + std::to_string(length) + " is outside 0.." +
                                std::to_string(t.length));
  const auto keep = static_cast<size_t>(blocks_for(length));
  for (size_t i = keep; i < t.blocks.size(); ++i)
    if (--refs_[static_cast<size_t>(t.blocks[i])] == 0) free_.push_back(t.blocks[i]);
  if (t.blocks.size() > keep) t.blocks.resize(keep);
  t.length = length;
}

KvCache::Table KvCache::fork(const Table& parent, int length) {
  if (length < 0 || length > parent.length)
    throw std::invalid_argument("KvCache::fork: length " + std::to_string(length) + " is outside 0.." +
                                std::to_string(parent.length));
  Table child;
  child.length = length;
  child.blocks.assign(parent.blocks.begin(), parent.blocks.begin() + blocks_for(length));
  for (const int b : child.blocks) ++refs_[static_cast<size_t>(b)];
  return child;
}

void KvCache::release(Table& t) {
  for (const int b : t.blocks)
    if (--refs_[static_cast<size_t>(b)] == 0) free_.push_back(b);
  t.blocks.clear();
  t.length = 0;
}

}  // namespace pice::kernels
