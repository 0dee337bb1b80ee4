#include "kernels/sequence.hpp"

#include <cmath>
#include <string>

#include "kernels/ops.hpp"

namespace pice::kernels {
namespace {

size_t sz(int n) { return static_cast<size_t>(n); }

}  // namespace

Sequence::Sequence(std::shared_ptr<const Model> model, int max_tokens) : model_(std::move(model)), capacity_(max_tokens) {
  if (!model_) throw ModelError("Sequence: no model");
  const HParams& hp = model_->hparams();
  if (max_tokens < 1 || max_tokens > hp.context_length)
    throw ModelError("Sequence: max_tokens " + std::to_string(max_tokens) + " is outside 1.." +
                     std::to_string(hp.context_length) + " (the context length of " + model_->name() + ")");
  const int kv = model_->kv_dim(), hd = model_->head_dim();
  key_cache_.assign(sz(hp.n_layers) * sz(capacity_) * sz(kv), 0.0f);
  value_cache_.assign(key_cache_.size(), 0.0f);
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
  scores_.resize(sz(capacity_));
  logits_.resize(sz(hp.vocab_size));
}

std::span<const float> Sequence::feed(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw ModelError("Sequence::feed: no tokens");
  if (tokens.size() > sz(capacity_ - pos_))
    throw ModelError("Sequence::feed: " + std::to_string(tokens.size()) + " tokens at position " +
                     std::to_string(pos_) + " exceed the capacity of " + std::to_string(capacity_));
  const int vocab = model_->hparams().vocab_size;
  for (const int32_t t : tokens)
    if (t < 0 || t >= vocab)
      throw ModelError("Sequence::feed: token id " + std::to_string(t) + " outside the vocab of " + std::to_string(vocab));
  for (size_t done = 0; done < tokens.size();) {
    const int n = static_cast<int>(std::min(tokens.size() - done, sz(kChunk)));
    forward_chunk(tokens.data() + done, n, done + sz(n) == tokens.size());
    done += sz(n);
  }
  return logits_;
}

void Sequence::forward_chunk(const int32_t* tokens, int n, bool want_logits) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int dim = hp.dim, kv = m.kv_dim(), ffn = hp.ffn_dim, hd = m.head_dim();

  for (int t = 0; t < n; ++t) matrix_row(&x_[sz(t * dim)], m.token_embedding(), tokens[t]);

  for (int l = 0; l < hp.n_layers; ++l) {
    const Model::Layer& w = m.layer(l);
    // Attention block: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
    for (int t = 0; t < n; ++t) rmsnorm(&xb_[sz(t * dim)], &x_[sz(t * dim)], w.attn_norm.data(), dim, hp.rms_eps);
    matmul(q_.data(), dim, w.wq, xb_.data(), dim, n);
    matmul(k_.data(), kv, w.wk, xb_.data(), dim, n);
    matmul(v_.data(), kv, w.wv, xb_.data(), dim, n);
    for (int t = 0; t < n; ++t) {
      rope(&q_[sz(t * dim)], hp.n_heads, hd, pos_ + t, inv_freq_.data());
      rope(&k_[sz(t * kv)], hp.n_kv_heads, hd, pos_ + t, inv_freq_.data());
    }
    const size_t cache_at = (sz(l) * sz(capacity_) + sz(pos_)) * sz(kv);
    std::copy_n(k_.begin(), sz(n * kv), key_cache_.begin() + static_cast<std::ptrdiff_t>(cache_at));
    std::copy_n(v_.begin(), sz(n * kv), value_cache_.begin() + static_cast<std::ptrdiff_t>(cache_at));
    attention(l, n);
    matmul(xb_.data(), dim, w.wo, att_out_.data(), dim, n);
    for (size_t i = 0; i < sz(n * dim); ++i) x_[i] += xb_[i];

    // Feed-forward block (SwiGLU): x += W_down · (silu(W_gate·norm(x)) * W_up·norm(x))
    for (int t = 0; t < n; ++t) rmsnorm(&xb_[sz(t * dim)], &x_[sz(t * dim)], w.ffn_norm.data(), dim, hp.rms_eps);
    matmul(hb_.data(), ffn, w.w_gate, xb_.data(), dim, n);
    matmul(hb2_.data(), ffn, w.w_up, xb_.data(), dim, n);
    for (int t = 0; t < n; ++t) swiglu(&hb_[sz(t * ffn)], &hb2_[sz(t * ffn)], ffn);
    matmul(xb_.data(), dim, w.w_down, hb_.data(), ffn, n);
    for (size_t i = 0; i < sz(n * dim); ++i) x_[i] += xb_[i];
  }
  pos_ += n;

  if (!want_logits) return;
  const float* last = &x_[sz((n - 1) * dim)];
  rmsnorm(xb_.data(), last, m.output_norm().data(), dim, hp.rms_eps);
  matmul(logits_.data(), hp.vocab_size, m.output(), xb_.data(), dim, 1);
}

// Causal grouped-query attention for the n new tokens (positions pos_ .. pos_+n-1, already in the
// cache): query head h reads KV head h / (n_heads / n_kv_heads).
void Sequence::attention(int layer, int n) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int dim = hp.dim, kv = m.kv_dim(), hd = m.head_dim();
  const int group = hp.n_heads / hp.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* keys = &key_cache_[sz(layer) * sz(capacity_) * sz(kv)];
  const float* values = &value_cache_[sz(layer) * sz(capacity_) * sz(kv)];

  for (int t = 0; t < n; ++t) {
    const int len = pos_ + t + 1;   // this token sees itself and everything before it
    for (int h = 0; h < hp.n_heads; ++h) {
      const float* q = &q_[sz(t * dim + h * hd)];
      const int kv_off = (h / group) * hd;
      for (int p = 0; p < len; ++p) scores_[sz(p)] = dot(q, keys + sz(p) * sz(kv) + sz(kv_off), hd) * scale;
      softmax(scores_.data(), len);
      float* out = &att_out_[sz(t * dim + h * hd)];
      std::fill_n(out, hd, 0.0f);
      for (int p = 0; p < len; ++p) {
        const float a = scores_[sz(p)];
        const float* v = values + sz(p) * sz(kv) + sz(kv_off);
        for (int i = 0; i < hd; ++i) out[i] += a * v[i];
      }
    }
  }
}

}  // namespace pice::kernels
