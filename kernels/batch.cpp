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

}  // namespace

Batch::Batch(std::shared_ptr<const Model> model, int kv_tokens)
    : model_(model ? std::move(model) : throw ModelError("Batch: no model")),
      cache_(model_->hparams().n_layers, model_->kv_dim(), blocks_for(kv_tokens)) {
  const HParams& hp = model_->hparams();
  const int hd = model_->head_dim(), kv = model_->kv_dim();
  inv_freq_.resize(sz(hd / 2));
  for (int i = 0; i < hd / 2; ++i)
    inv_freq_[sz(i)] = static_cast<float>(std::pow(static_cast<double>(hp.rope_theta), -2.0 * i / hd));
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
    tables_.emplace_back();
    live_.push_back(true);
  } else {
    *free_slot = true;
    tables_[sz(id)] = {};
  }
  return id;
}

Batch::SeqId Batch::fork(SeqId parent, int length) {
  const KvCache::Table& from = table(parent);
  if (length == -1) length = from.length;
  if (length < 0 || length > from.length)
    throw ModelError("Batch::fork: length " + std::to_string(length) + " is outside 0.." + std::to_string(from.length) +
                     " (the parent's position)");
  KvCache::Table shared = cache_.fork(from, length);
  const SeqId child = add();
  tables_[sz(child)] = std::move(shared);
  return child;
}

void Batch::remove(SeqId seq) {
  cache_.release(table(seq));
  live_[sz(seq)] = false;
}

int Batch::position(SeqId seq) const { return table(seq).length; }

bool Batch::has(SeqId seq) const { return seq >= 0 && sz(seq) < live_.size() && live_[sz(seq)]; }

int Batch::free_tokens() const { return cache_.free_blocks() * KvCache::kBlockTokens; }

int Batch::sequences() const { return static_cast<int>(std::count(live_.begin(), live_.end(), true)); }

KvCache::Table& Batch::table(SeqId seq) {
  if (!has(seq)) throw ModelError("Batch: no sequence " + std::to_string(seq));
  return tables_[sz(seq)];
}

const KvCache::Table& Batch::table(SeqId seq) const {
  if (!has(seq)) throw ModelError("Batch: no sequence " + std::to_string(seq));
  return tables_[sz(seq)];
}

void Batch::validate(std::span<const Item> items) const {
  const HParams& hp = model_->hparams();
  std::vector<bool> seen(live_.size(), false);
  int blocks = 0;
  for (const Item& item : items) {
    const KvCache::Table& t = table(item.seq);
    if (seen[sz(item.seq)]) throw ModelError("Batch::step: sequence " + std::to_string(item.seq) + " appears twice");
    seen[sz(item.seq)] = true;
    if (item.tokens.empty()) throw ModelError("Batch::step: no tokens for sequence " + std::to_string(item.seq));
    for (const int32_t token : item.tokens)
      if (token < 0 || token >= hp.vocab_size)
        throw ModelError("Batch::step: token id " + std::to_string(token) + " outside the vocab of " +
                         std::to_string(hp.vocab_size));
    const auto n = static_cast<int>(item.tokens.size());
    if (t.length + n > hp.context_length)
      throw ModelError("Batch::step: " + std::to_string(n) + " tokens at position " + std::to_string(t.length) +
                       " exceed the context length of " + std::to_string(hp.context_length));
    blocks += cache_.blocks_needed(t, n);
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
    KvCache::Table& t = tables_[sz(items[i].seq)];
    const auto n = static_cast<int>(items[i].tokens.size());
    cache_.reserve(t, n);   // cannot fail: validate counted the blocks
    for (int j = 0; j < n; ++j) {
      const bool last = j + 1 == n && items[i].want_logits;
      rows.push_back({items[i].seq, t.length + j, last ? slots : -1});
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
  for (const Item& item : items) tables_[sz(item.seq)].length += static_cast<int>(item.tokens.size());
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

  for (int t = 0; t < n; ++t) matrix_row(&x_[sz(t * dim)], m.token_embedding(), tokens[t]);

  for (int l = 0; l < hp.n_layers; ++l) {
    const Model::Layer& w = m.layer(l);
    // Attention block: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
    for (int t = 0; t < n; ++t) rmsnorm(&xb_[sz(t * dim)], &x_[sz(t * dim)], w.attn_norm.data(), dim, hp.rms_eps);
    matmul(q_.data(), dim, w.wq, xb_.data(), dim, n, pool);
    matmul(k_.data(), kv, w.wk, xb_.data(), dim, n, pool);
    matmul(v_.data(), kv, w.wv, xb_.data(), dim, n, pool);
    for (int t = 0; t < n; ++t) {
      rope(&q_[sz(t * dim)], hp.n_heads, hd, rows[t].pos, inv_freq_.data());
      rope(&k_[sz(t * kv)], hp.n_kv_heads, hd, rows[t].pos, inv_freq_.data());
      const KvCache::Table& table = tables_[sz(rows[t].seq)];
      std::copy_n(&k_[sz(t * kv)], kv, cache_.key(table, l, rows[t].pos));
      std::copy_n(&v_[sz(t * kv)], kv, cache_.value(table, l, rows[t].pos));
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

// Causal grouped-query attention of each row over its own sequence's cache (its keys up to and
// including its own position, all written before this is called): query head h reads KV head
// h / (n_heads / n_kv_heads). Rows and heads are split between the pool's threads.
void Batch::attention(int layer, const Row* rows, int n) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int dim = hp.dim, hd = m.head_dim(), kv = m.kv_dim();
  const int group = hp.n_heads / hp.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  split(m.pool(), n * hp.n_heads, 4, [&](int begin, int end) {
    thread_local std::vector<float> scores;
    for (int job = begin; job < end; ++job) {
      const int t = job / hp.n_heads, h = job % hp.n_heads;
      const KvCache::Table& table = tables_[sz(rows[t].seq)];
      const int len = rows[t].pos + 1;   // this token sees itself and everything before it
      if (scores.size() < sz(len)) scores.resize(sz(len));
      const float* q = &q_[sz(t * dim + h * hd)];
      const int kv_off = (h / group) * hd;
      // Block by block: the positions of one block lie kv floats apart.
      for (int p0 = 0; p0 < len; p0 += KvCache::kBlockTokens) {
        const float* keys = cache_.key(table, layer, p0) + kv_off;
        for (int p = p0; p < std::min(len, p0 + KvCache::kBlockTokens); ++p, keys += kv)
          scores[sz(p)] = dot(q, keys, hd) * scale;
      }
      softmax(scores.data(), len);
      float* out = &att_out_[sz(t * dim + h * hd)];
      std::fill_n(out, hd, 0.0f);
      for (int p0 = 0; p0 < len; p0 += KvCache::kBlockTokens) {
        const float* values = cache_.value(table, layer, p0) + kv_off;
        for (int p = p0; p < std::min(len, p0 + KvCache::kBlockTokens); ++p, values += kv) axpy(out, scores[sz(p)], values, hd);
      }
    }
  });
}

}  // namespace pice::kernels
