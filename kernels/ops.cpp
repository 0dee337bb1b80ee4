#include "kernels/ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/f32x4.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_dot.hpp"
#include "kernels/thread_pool.hpp"

namespace pice::kernels {

float dot(const float* a, const float* b, int n) {
  // Eight independent accumulators: without -ffast-math the compiler may not reorder a float sum by
  // itself, and one accumulator would wait on the latency of every add.
  f32x4 s0 = {}, s1 = {}, s2 = {}, s3 = {}, s4 = {}, s5 = {}, s6 = {}, s7 = {};
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 += load4(a + i) * load4(b + i);
    s1 += load4(a + i + 4) * load4(b + i + 4);
    s2 += load4(a + i + 8) * load4(b + i + 8);
    s3 += load4(a + i + 12) * load4(b + i + 12);
    s4 += load4(a + i + 16) * load4(b + i + 16);
    s5 += load4(a + i + 20) * load4(b + i + 20);
    s6 += load4(a + i + 24) * load4(b + i + 24);
    s7 += load4(a + i + 28) * load4(b + i + 28);
  }
  for (; i + 4 <= n; i += 4) s0 += load4(a + i) * load4(b + i);
  const f32x4 s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  float sum = (s[0] + s[1]) + (s[2] + s[3]);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float* y, float a, const float* x, int n) {
  const f32x4 av = {a, a, a, a};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const f32x4 r = load4(y + i) + av * load4(x + i);
    std::memcpy(y + i, &r, sizeof r);
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

void rmsnorm(float* out, const float* x, const float* weight, int n, float eps) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const auto scale = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

size_t Matrix::row_stride() const { return row_bytes(type, cols); }

void matrix_row(float* out, const Matrix& m, int r) { dequantize_row(m.type, m.row(r), out, m.cols); }

namespace {

// Rows per piece of a parallel matmul: enough work to outweigh taking a piece (an atomic add), small
// enough that a thread slowed by a neighbour hands the rest to the others.
int rows_per_piece(const Matrix& m, int n_tokens, ThreadPool* pool) {
  if (pool == nullptr || pool->threads() == 1) return m.rows;
  const int by_work = std::max(1, 32768 / std::max(1, m.cols * n_tokens / 8));   // ~ 32k multiply-adds
  const int by_balance = std::max(1, m.rows / (8 * pool->threads()));
  return std::max(8, std::min(by_work, by_balance));
}

void for_rows(const Matrix& m, int n_tokens, ThreadPool* pool, const ThreadPool::Body& body) {
  if (pool == nullptr) {
    body(0, m.rows);
  } else {
    pool->for_each(m.rows, rows_per_piece(m, n_tokens, pool), body);
  }
}

// Float path: F32, F16 and BF16 rows are read in place (half-precision widened in registers).
void matmul_float(float* out, int out_stride, const Matrix& m, const float* x, int x_stride, int n_tokens,
                  ThreadPool* pool) {
  const FloatRowDot row_dot_fn = float_row_dot(m.type);
  const FloatRowDotMulti multi = n_tokens > 1 ? float_row_dot_multi(m.type) : nullptr;
  const size_t stride = m.row_stride();
  for_rows(m, n_tokens, pool, [&](int begin, int end) {
    for (int r = begin; r < end; ++r) {
      const std::byte* w = m.data + static_cast<size_t>(r) * stride;
      if (multi != nullptr) {
        multi(w, x, static_cast<size_t>(x_stride), n_tokens, m.cols, out + r, static_cast<size_t>(out_stride));
        continue;
      }
      for (int t = 0; t < n_tokens; ++t)
        out[static_cast<size_t>(t) * out_stride + r] = row_dot_fn(w, x + static_cast<size_t>(t) * x_stride, m.cols);
    }
  });
}

// Integer path: the activations are quantized once, then every weight row meets every token's blocks,
// up to kMaxDotVectors tokens per load of the row where a multi-row kernel exists.
void matmul_quantized(float* out, int out_stride, const Matrix& m, const float* x, int x_stride, int n_tokens,
                      ThreadPool* pool) {
  thread_local QuantizedActivations activations;
  activations.quantize(m.type, x, x_stride, m.cols, n_tokens);
  const QuantizedActivations& a = activations;   // the workers read the caller's thread_local
  const RowDot row_dot_fn = row_dot(m.type);
  const RowDotMulti multi = n_tokens > 1 ? row_dot_multi(m.type) : nullptr;
  const size_t stride = m.row_stride();
  const auto out_step = static_cast<size_t>(out_stride);
  for_rows(m, n_tokens, pool, [&](int begin, int end) {
    for (int r = begin; r < end; ++r) {
      const std::byte* w = m.data + static_cast<size_t>(r) * stride;
      if (multi != nullptr) {
        for (int t = 0; t < n_tokens; t += kMaxDotVectors)
          multi(w, a.row(t), a.row_bytes(), std::min(kMaxDotVectors, n_tokens - t), m.cols,
                out + static_cast<size_t>(t) * out_step + static_cast<size_t>(r), out_step);
      } else {
        for (int t = 0; t < n_tokens; ++t)
          out[static_cast<size_t>(t) * out_step + static_cast<size_t>(r)] = row_dot_fn(w, a.row(t), m.cols);
      }
    }
  });
}

}  // namespace

void matmul(float* out, int out_stride, const Matrix& m, const float* x, int x_stride, int n_tokens, ThreadPool* pool) {
  if (!is_supported_type(m.type))
    throw std::invalid_argument("matmul: tensor type " + std::string(tensor_type_name(m.type)) + " is not supported");
  if (has_integer_dot(m.type)) {
    matmul_quantized(out, out_stride, m, x, x_stride, n_tokens, pool);
  } else {
    matmul_float(out, out_stride, m, x, x_stride, n_tokens, pool);
  }
}

void rope(float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeStyle style) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const double angle = static_cast<double>(pos) * inv_freq[i];
    const auto c = static_cast<float>(std::cos(angle));
    const auto s = static_cast<float>(std::sin(angle));
    // Offsets of the pair's two values within a head.
    const int first = style == RopeStyle::neox ? i : 2 * i;
    const int second = style == RopeStyle::neox ? i + half : 2 * i + 1;
    for (int h = 0; h < n_heads; ++h) {
      float* p = x + static_cast<size_t>(h) * head_dim;
      const float a = p[first], b = p[second];
      p[first] = a * c - b * s;
      p[second] = a * s + b * c;
    }
  }
}

void softmax(float* x, int n) {
  float max = x[0];
  for (int i = 1; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(float* gate, const float* up, int n) {
  for (int i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace pice::kernels
