// Portable dot kernels: plain C++ for any target. Each block is first unpacked into a small int8 array
// and then multiplied in a fixed-length integer loop; those loops have no dependences but the sum, so
// g++ -O2 vectorises them (SSE2 on x86-64, NEON on ARM64).
#include <cstdint>

#include "kernels/fp16.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot.hpp"
#include "kernels/quant_dot_kernels.hpp"

namespace pice::kernels::quant::portable {
namespace {

template <int N>
int32_t dot_i8(const int8_t* a, const int8_t* b) {
  int32_t s = 0;
  for (int i = 0; i < N; ++i) s += static_cast<int16_t>(a[i]) * static_cast<int16_t>(b[i]);
  return s;
}

}  // namespace

float dot_q8_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  float sum = 0;
  for (int b = 0; b < n / kBlock32; ++b)
    sum += half_to_float(w[b].d) * x[b].d * static_cast<float>(dot_i8<32>(w[b].qs, x[b].q));
  return sum;
}

// sum (q - 8) * x = sum q * x - 8 * sum x: the nibbles are used as they are and the offset is removed
// once per block with the activation block's precomputed sum.
float dot_q4_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  float sum = 0;
  for (int b = 0; b < n / kBlock32; ++b) {
    int8_t q[32];
    for (int j = 0; j < 16; ++j) {
      q[j] = static_cast<int8_t>(w[b].qs[j] & 0x0f);
      q[j + 16] = static_cast<int8_t>(w[b].qs[j] >> 4);
    }
    const int32_t dot = dot_i8<32>(q, x[b].q) - 8 * x[b].sum;
    sum += half_to_float(w[b].d) * x[b].d * static_cast<float>(dot);
  }
  return sum;
}

// sum over sub-blocks s of (d sc_s q - dmin m_s) x = d * sum_s sc_s (q . x)_s - dmin * sum_s m_s (sum x)_s.
float dot_q4_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  float sum = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    int8_t q[256];
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        q[64 * c + l] = static_cast<int8_t>(w[b].qs[32 * c + l] & 0x0f);
        q[64 * c + 32 + l] = static_cast<int8_t>(w[b].qs[32 * c + l] >> 4);
      }
    int32_t scaled = 0, mins = 0;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      scale_min_k4(w[b].scales, s, sc, m);
      scaled += sc * dot_i8<32>(q + 32 * s, x[b].q + 32 * s);
      mins += m * (x[b].sums[2 * s] + x[b].sums[2 * s + 1]);
    }
    sum += x[b].d * (half_to_float(w[b].d) * static_cast<float>(scaled) - half_to_float(w[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// q - 32 is formed before the multiply, so each sub-block of 16 is one int8 dot times its scale.
float dot_q6_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ6K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  float sum = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    int8_t q[256];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[b].ql + 64 * h;
      const uint8_t* qh = w[b].qh + 32 * h;
      int8_t* v = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        v[l] = static_cast<int8_t>(((ql[l] & 0x0f) | ((qh[l] & 0x03) << 4)) - 32);
        v[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 0x03) << 4)) - 32);
        v[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 0x03) << 4)) - 32);
        v[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 0x03) << 4)) - 32);
      }
    }
    int32_t scaled = 0;
    for (int s = 0; s < 16; ++s) scaled += w[b].scales[s] * dot_i8<16>(q + 16 * s, x[b].q + 16 * s);
    sum += half_to_float(w[b].d) * x[b].d * static_cast<float>(scaled);
  }
  return sum;
}

}  // namespace pice::kernels::quant::portable
