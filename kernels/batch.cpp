#include "kernels/batch.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/ops.hpp"
#include "kernels/thread_pool.hpp"

namespace pice::kernels {
namespace {

size_t sz(int n) { return static_cast<size_t>(n); }

int blocks_for(int tokens) { return (std::max(tokens, 1) + KvCache::kBlockTokens - 1) / KvCache::kBlockTokens; }

// Runs body over [0, count) on the pool, or inline without one.
void split(ThreadPool* pool, int count, int grain, const ThreadPool::Body& body) {
  if (pool == nullptr) {
    body(0, count);
  } else {
    pool->for_each(count, grain, body);
  }
}

void add_bias(float* x, std::span<const float> bias) {
  for (size_t i = 0; i < bias.size(); ++i) x[i] += bias[i];
}

}  // namespace

Batch::Batch(std::shared_ptr<const Model> model, int kv_tokens)
    : model_(model ? std::move(model) : throw ModelError("Batch: no model")),
      cache_(model_->hparams().n_layers, model_->kv_dim(), blocks_for(kv_tokens)),
      policy_(model_->kv_policy()) {
  const HParams& hp = model_->hparams();
  const int kv = model_->kv_dim();
  x_.resize(sz(kChunk) * sz(hp.dim));
  xb_.resize(x_.size());
  q_.resize(x_.size());
  att_out_.resize(x_.size());
  k_.resize(sz(kChunk) * sz(kv));
  v_.resize(k_.size());
  hb_.resize(sz(kChunk) * sz(hp.ffn_dim));
  hb2_.resize(hb_.size());
}

Batch::SeqId Batch::add() {
  const auto free_slot = std::find(live_.begin(), live_.end(), false);
  const auto id = static_cast<SeqId>(free_slot - live_.begin());
  if (free_slot == live_.end()) {
    seqs_.emplace_back();
    live_.push_back(true);
  } else {
    *free_slot = true;
    seqs_[sz(id)] = {};
  }
  return id;
}

Batch::SeqId Batch::fork(SeqId parent, int length) {
  const SeqState& from = state(parent);
  if (length == -1) length = from.position;
  if (length < 0 || length > from.position)
    throw ModelError("Batch::fork: length " + std::to_string(length) + " is outside 0.." + std::to_string(from.position) +
                     " (the parent's position)");
  if (length > from.intact && length != from.position)
    throw ModelError("Batch::fork: length " + std::to_string(length) + " reaches past the parent's " +
                     std::to_string(from.intact) + " intact positions (the bounded cache evicted some after them)");
  // Up to `intact`, cells are positions; the whole sequence is all of its cells.
  const int cells = length == from.position ? from.table.length : length;
  SeqState child;
  child.table = cache_.fork(from.table, cells);
  child.position = length;
  child.intact = std::min(length, from.intact);
  if (policy_.bounded()) child.received.assign(from.received.begin(), from.received.begin() + cells);
  const SeqId id = add();
  seqs_[sz(id)] = std::move(child);
  return id;
}

void Batch::remove(SeqId seq) {
  cache_.release(state(seq).table);
  live_[sz(seq)] = false;
}

int Batch::position(SeqId seq) const { return state(seq).position; }

int Batch::cached(SeqId seq) const { return state(seq).table.length; }

int Batch::intact_length(SeqId seq) const { return state(seq).intact; }

bool Batch::has(SeqId seq) const { return seq >= 0 && sz(seq) < live_.size() && live_[sz(seq)]; }

int Batch::free_tokens() const { return cache_.free_blocks() * KvCache::kBlockTokens; }

int Batch::sequences() const { return static_cast<int>(std::count(live_.begin(), live_.end(), true)); }

Batch::SeqState& Batch::state(SeqId seq) {
  if (!has(seq)) throw ModelError("Batch: no sequence " + std::to_string(seq));
  return seqs_[sz(seq)];
}

const Batch::SeqState& Batch::state(SeqId seq) const {
  if (!has(seq)) throw ModelError("Batch: no sequence " + std::to_string(seq));
  return seqs_[sz(seq)];
}

void Batch::validate(std::span<const Item> items) const {
  const HParams& hp = model_->hparams();
  std::vector<bool> seen(live_.size(), false);
  int blocks = 0;
  for (const Item& item : items) {
    const SeqState& s = state(item.seq);
    if (seen[sz(item.seq)]) throw ModelError("Batch::step: sequence " + std::to_string(item.seq) + " appears twice");
    seen[sz(item.seq)] = true;
    if (item.tokens.empty()) throw ModelError("Batch::step: no tokens for sequence " + std::to_string(item.seq));
    for (const int32_t token : item.tokens)
      if (token < 0 || token >= hp.vocab_size)
        throw ModelError("Batch::step: token id " + std::to_string(token) + " outside the vocab of " +
                         std::to_string(hp.vocab_size));
    const auto n = static_cast<int>(item.tokens.size());
    if (s.position + n > hp.context_length)
      throw ModelError("Batch::step: " + std::to_string(n) + " tokens at position " + std::to_string(s.position) +
                       " exceed the context length of " + std::to_string(hp.context_length));
    blocks += cache_.blocks_needed(s.table, n);
  }
  if (blocks > cache_.free_blocks())
    throw ModelError("Batch::step: the step needs " + std::to_string(blocks) + " cache blocks of " +
                     std::to_string(KvCache::kBlockTokens) + " tokens, " + std::to_string(cache_.free_blocks()) +
                     " are free");
}

void Batch::step(std::span<const Item> items) {
  validate(items);
  // The rows of the step in item order; the tokens of one item at consecutive positions.
  std::vector<Row> rows;
  std::vector<int32_t> tokens;
  logits_of_item_.assign(items.size(), -1);
  int slots = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    SeqState& s = seqs_[sz(items[i].seq)];
    const auto n = static_cast<int>(items[i].tokens.size());
    cache_.reserve(s.table, n);   // cannot fail: validate counted the blocks
    if (policy_.bounded()) s.received.resize(sz(s.table.length + n), 0.0f);
    for (int j = 0; j < n; ++j) {
      const bool last = j + 1 == n && items[i].want_logits;
      rows.push_back({items[i].seq, s.position + j, s.table.length + j, last ? slots : -1});
      tokens.push_back(items[i].tokens[sz(j)]);
    }
    if (items[i].want_logits) logits_of_item_[i] = slots++;
  }
  logits_.resize(sz(slots) * sz(model_->hparams().vocab_size));
  for (size_t done = 0; done < rows.size();) {
    const int n = static_cast<int>(std::min(rows.size() - done, sz(kChunk)));
    forward_chunk(tokens.data() + done, rows.data() + done, n);
    done += sz(n);
  }
  for (const Item& item : items) {
    SeqState& s = seqs_[sz(item.seq)];
    const auto n = static_cast<int>(item.tokens.size());
    if (s.intact == s.position) s.intact += n;
    s.position += n;
    s.table.length += n;
    if (policy_.bounded()) evict(s);
  }
}

std::span<const float> Batch::logits(size_t item) const {
  if (item >= logits_of_item_.size() || logits_of_item_[item] < 0)
    throw ModelError("Batch::logits: item " + std::to_string(item) + " of the last step has no logits");
  const size_t vocab = sz(model_->hparams().vocab_size);
  return {logits_.data() + sz(logits_of_item_[item]) * vocab, vocab};
}

void Batch::forward_chunk(const int32_t* tokens, const Row* rows, int n) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int dim = hp.dim, kv = m.kv_dim(), ffn = hp.ffn_dim, hd = m.head_dim();
  ThreadPool* pool = m.pool();
  const float* inv_freq = m.rope_inv_freq().data();

  for (int t = 0; t < n; ++t) matrix_row(&x_[sz(t * dim)], m.token_embedding(), tokens[t]);

  for (int l = 0; l < hp.n_layers; ++l) {
    const Model::Layer& w = m.layer(l);
    // Attention block: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
    for (int t = 0; t < n; ++t) rmsnorm(&xb_[sz(t * dim)], &x_[sz(t * dim)], w.attn_norm.data(), dim, hp.rms_eps);
    matmul(q_.data(), dim, w.wq, xb_.data(), dim, n, pool);
    matmul(k_.data(), kv, w.wk, xb_.data(), dim, n, pool);
    matmul(v_.data(), kv, w.wv, xb_.data(), dim, n, pool);
    for (int t = 0; t < n; ++t) {
      add_bias(&q_[sz(t * dim)], w.bq);
      add_bias(&k_[sz(t * kv)], w.bk);
      add_bias(&v_[sz(t * kv)], w.bv);
      rope(&q_[sz(t * dim)], hp.n_heads, hd, rows[t].pos, inv_freq, hp.rope_style);
      rope(&k_[sz(t * kv)], hp.n_kv_heads, hd, rows[t].pos, inv_freq, hp.rope_style);
      const KvCache::Table& table = seqs_[sz(rows[t].seq)].table;
      std::copy_n(&k_[sz(t * kv)], kv, cache_.key(table, l, rows[t].cell));
      std::copy_n(&v_[sz(t * kv)], kv, cache_.value(table, l, rows[t].cell));
    }
    attention(l, rows, n);
    matmul(xb_.data(), dim, w.wo, att_out_.data(), dim, n, pool);
    for (size_t i = 0; i < sz(n * dim); ++i) x_[i] += xb_[i];

    // Feed-forward block (SwiGLU): x += W_down · (silu(W_gate·norm(x)) * W_up·norm(x))
    for (int t = 0; t < n; ++t) rmsnorm(&xb_[sz(t * dim)], &x_[sz(t * dim)], w.ffn_norm.data(), dim, hp.rms_eps);
    matmul(hb_.data(), ffn, w.w_gate, xb_.data(), dim, n, pool);
    matmul(hb2_.data(), ffn, w.w_up, xb_.data(), dim, n, pool);
    for (int t = 0; t < n; ++t) swiglu(&hb_[sz(t * ffn)], &hb2_[sz(t * ffn)], ffn);
    matmul(xb_.data(), dim, w.w_down, hb_.data(), ffn, n, pool);
    for (size_t i = 0; i < sz(n * dim); ++i) x_[i] += xb_[i];
  }

  // Logits of the rows that want them. Their slots are consecutive (assigned in row order), so one
  // matmul writes them all.
  int wanted = 0, first_slot = -1;
  for (int t = 0; t < n; ++t) {
    if (rows[t].logits_slot < 0) continue;
    if (first_slot < 0) first_slot = rows[t].logits_slot;
    rmsnorm(&xb_[sz(wanted * dim)], &x_[sz(t * dim)], m.output_norm().data(), dim, hp.rms_eps);
    ++wanted;
  }
  if (wanted == 0) return;
  const int vocab = hp.vocab_size;
  matmul(&logits_[sz(first_slot) * sz(vocab)], vocab, m.output(), xb_.data(), dim, wanted, pool);
}

// Causal grouped-query attention of each row over its own sequence's cache (its cells up to and
// including its own, all written before this is called): query head h reads KV head
// h / (n_heads / n_kv_heads). Rows and heads are split between the pool's threads. Under the bounded
// policy each job also leaves its weights in probs_, summed into the cells' totals afterwards in a
// fixed order (so the totals, and what is evicted, do not depend on the threads).
void Batch::attention(int layer, const Row* rows, int n) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int dim = hp.dim, hd = m.head_dim(), kv = m.kv_dim();
  const int group = hp.n_heads / hp.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  if (policy_.bounded()) {
    probs_stride_ = 0;
    for (int t = 0; t < n; ++t) probs_stride_ = std::max(probs_stride_, sz(rows[t].cell + 1));
    probs_.resize(sz(n) * sz(hp.n_heads) * probs_stride_);
  }
  float* probs = policy_.bounded() ? probs_.data() : nullptr;
  split(m.pool(), n * hp.n_heads, 4, [&](int begin, int end) {
    thread_local std::vector<float> scores;
    for (int job = begin; job < end; ++job) {
      const int t = job / hp.n_heads, h = job % hp.n_heads;
      const KvCache::Table& table = seqs_[sz(rows[t].seq)].table;
      const int len = rows[t].cell + 1;   // this token sees itself and everything cached before it
      if (scores.size() < sz(len)) scores.resize(sz(len));
      const float* q = &q_[sz(t * dim + h * hd)];
      const int kv_off = (h / group) * hd;
      // Block by block: the cells of one block lie kv floats apart.
      for (int p0 = 0; p0 < len; p0 += KvCache::kBlockTokens) {
        const float* keys = cache_.key(table, layer, p0) + kv_off;
        for (int p = p0; p < std::min(len, p0 + KvCache::kBlockTokens); ++p, keys += kv)
          scores[sz(p)] = dot(q, keys, hd) * scale;
      }
      softmax(scores.data(), len);
      if (probs != nullptr) std::copy_n(scores.data(), len, probs + sz(job) * probs_stride_);
      float* out = &att_out_[sz(t * dim + h * hd)];
      std::fill_n(out, hd, 0.0f);
      for (int p0 = 0; p0 < len; p0 += KvCache::kBlockTokens) {
        const float* values = cache_.value(table, layer, p0) + kv_off;
        for (int p = p0; p < std::min(len, p0 + KvCache::kBlockTokens); ++p, values += kv) axpy(out, scores[sz(p)], values, hd);
      }
    }
  });
  if (probs != nullptr) add_received(rows, n);
}

void Batch::add_received(const Row* rows, int n) {
  const int heads = model_->hparams().n_heads;
  for (int t = 0; t < n; ++t) {
    std::vector<float>& received = seqs_[sz(rows[t].seq)].received;
    const int len = rows[t].cell + 1;
    for (int h = 0; h < heads; ++h) {
      const float* p = probs_.data() + sz(t * heads + h) * probs_stride_;
      for (int c = 0; c < len; ++c) received[sz(c)] += p[c];
    }
  }
}

// Cuts a sequence back to its last `window` cells plus the `keep` earlier ones with the most attention
// received (the earlier on ties), moving the survivors down in order and returning freed blocks. Moving
// cells keeps them in position order, so causality in later steps is still "every cell before mine".
void Batch::evict(SeqState& s) {
  const int cells = s.table.length;
  if (cells <= policy_.capacity()) return;
  const int older = cells - policy_.window;   // candidates: cells [0, older)
  std::vector<int> order(sz(older));
  for (int c = 0; c < older; ++c) order[sz(c)] = c;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s.received[sz(a)] > s.received[sz(b)]; });
  std::vector<bool> kept(sz(cells), true);
  for (size_t i = sz(policy_.keep); i < order.size(); ++i) kept[sz(order[i])] = false;
  const int first_gap = static_cast<int>(std::find(kept.begin(), kept.end(), false) - kept.begin());
  // Blocks from the first gap on are rewritten: a fork sharing them needs its own copy first. Without a
  // free block for that copy the cut waits for a later step (the cache is only ever cut back, never
  // overrun).
  if (!cache_.make_private(s.table, first_gap / KvCache::kBlockTokens)) return;
  int to = first_gap;
  for (int from = first_gap; from < cells; ++from) {
    if (!kept[sz(from)]) continue;
    cache_.move_cell(s.table, from, to);
    s.received[sz(to)] = s.received[sz(from)];
    ++to;
  }
  cache_.truncate(s.table, to);
  s.received.resize(sz(to));
  s.intact = std::min(s.intact, first_gap);
}

}  // namespace pice::kernels
