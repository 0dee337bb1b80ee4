// Portable float dots of F32, F16 and BF16 weight rows. GCC/Clang vector extensions (SSE on x86-64,
// NEON on ARM64) with four independent accumulators: without -ffast-math the compiler may not reorder
// a float sum by itself. F16/BF16 are widened 32 values at a time into a small buffer by a
// fixed-length loop, which g++ -O2 vectorises.
#include <bit>
#include <cstdint>

#include "kernels/f32x4.hpp"
#include "kernels/ops.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot_kernels.hpp"

namespace pice::kernels::quant::portable {
namespace {

// half_to_float (fp16.hpp) with its inf/NaN branch written as a select, so that a loop of it vectorises.
inline float half_lane(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;
  const uint32_t bits = std::bit_cast<uint32_t>(std::bit_cast<float>(em << 13) * 0x1.0p112f);
  return std::bit_cast<float>(bits | (em >= 0x7c00u ? 0x7f800000u : 0u) | sign);
}

// sum w[i] * x[i] over the whole 32-value chunks, w given as floats by widen(first index, float[32]).
template <class Widen>
float dot_chunks(const float* x, int n, Widen widen) {
  f32x4 acc0 = {}, acc1 = {}, acc2 = {}, acc3 = {};
  alignas(16) float w[32];
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    widen(i, w);
    for (int j = 0; j < 32; j += 16) {
      acc0 += load4(w + j) * load4(x + i + j);
      acc1 += load4(w + j + 4) * load4(x + i + j + 4);
      acc2 += load4(w + j + 8) * load4(x + i + j + 8);
      acc3 += load4(w + j + 12) * load4(x + i + j + 12);
    }
  }
  const f32x4 acc = (acc0 + acc1) + (acc2 + acc3);
  float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  return sum;
}

}  // namespace

// The float loop is kernels::dot (ops.cpp): one implementation for weights and activations alike.
float dot_f32(const std::byte* weights, const float* x, int n) {
  return kernels::dot(reinterpret_cast<const float*>(weights), x, n);
}

float dot_f16(const std::byte* weights, const float* x, int n) {
  const auto* h = reinterpret_cast<const uint16_t*>(weights);
  float sum = dot_chunks(x, n, [h](int i, float* w) {
    for (int j = 0; j < 32; ++j) w[j] = half_lane(h[i + j]);
  });
  for (int i = n / 32 * 32; i < n; ++i) sum += half_lane(h[i]) * x[i];
  return sum;
}

float dot_bf16(const std::byte* weights, const float* x, int n) {
  const auto* h = reinterpret_cast<const uint16_t*>(weights);
  float sum = dot_chunks(x, n, [h](int i, float* w) {
    for (int j = 0; j < 32; ++j) w[j] = bf16_to_float(h[i + j]);
  });
  for (int i = n / 32 * 32; i < n; ++i) sum += bf16_to_float(h[i]) * x[i];
  return sum;
}

}  // namespace pice::kernels::quant::portable
