#pragma once
// The maths of the forward pass, one small function per operation (as llama2.c's run.c).
// All vectors are float32; weight matrices are read in place from the model file in any supported
// tensor type (quant.hpp). Quantization lives in its own layer (quant*.hpp): here a matmul only picks
// the float path (F32, F16, BF16; half precision widened in registers) or the integer path of a block type.
#include <cstddef>
#include <cstdint>

#include "kernels/gguf_file.hpp"

namespace pice::kernels {

class ThreadPool;

// A weight matrix of `rows` rows of `cols` contiguous values (GGUF dims [ne0 = cols, ne1 = rows]).
struct Matrix {
  const std::byte* data = nullptr;
  TensorType type = TensorType::f32;   // any type for which is_supported_type() holds
  int rows = 0;
  int cols = 0;

  size_t row_stride() const;   // bytes from one row to the next
  const std::byte* row(int r) const { return data + static_cast<size_t>(r) * row_stride(); }
};

float dot(const float* a, const float* b, int n);

// y += a * x over n values (attention's weighted sum of values).
void axpy(float* y, float a, const float* x, int n);

// out = x / rms(x) * weight
void rmsnorm(float* out, const float* x, const float* weight, int n, float eps);

// Row `r` of `m` as floats (dequantized) into out[cols]: embedding lookups.
void matrix_row(float* out, const Matrix& m, int r);

// For each of n_tokens inputs x[t] (cols values, stride x_stride): out[t][r] = dot(m row r, x[t]),
// out stride out_stride. Each weight row is read once for all tokens. Block-quantized matrices
// quantize x to 8 bits first (once per call) and compute the dots in integers, as llama.cpp does.
// With a pool, the rows are split between its threads; the results do not depend on the split.
void matmul(float* out, int out_stride, const Matrix& m, const float* x, int x_stride, int n_tokens,
            ThreadPool* pool = nullptr);

// Rotary position embedding. Pair i of each head turns by pos * inv_freq[i] (inv_freq[i] =
// theta^(-2i / head_dim), divided by the model's rope frequency factors when it has them). The two
// styles differ only in which values form pair i: GGML's "normal" mode (Llama) takes the adjacent
// x[2i], x[2i+1]; its "neox" mode (Qwen2, GPT-NeoX) takes x[i], x[i + head_dim/2] (rotate halves).
enum class RopeStyle { normal, neox };
void rope(float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeStyle style = RopeStyle::normal);

// In-place softmax over n values.
void softmax(float* x, int n);

// gate[i] = silu(gate[i]) * up[i]  (the SwiGLU feed-forward's activation)
void swiglu(float* gate, const float* up, int n);

}  // namespace pice::kernels
