// AVX2 dot kernels (x86-64 only; the functions carry their own target attribute, so this file needs no
// special compiler flags and the rest of the program still runs on CPUs without AVX2).
//
// The core step multiplies 32 unsigned bytes by 32 signed bytes: vpmaddubsw forms the products and
// adds adjacent pairs into 16-bit lanes, vpmaddwd then adds pairs of those into 32-bit lanes (times
// a 16-bit factor: 1, or a sub-block scale). No step can overflow for these formats: a 16-bit lane
// holds at most 2 * 63 * 128 (q6_k) and a 32-bit lane at most a few million per super-block.
#include "kernels/quant_dot_kernels.hpp"
#include "kernels/quant_dot_row_count.hpp"

#if defined(PICE_HAVE_AVX2_KERNELS)

#include <immintrin.h>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot.hpp"

#define PICE_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace pice::kernels::quant::avx2 {
namespace {

PICE_AVX2 inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

PICE_AVX2 inline float half(uint16_t h) { return _cvtsh_ss(h); }

// 8 lanes, each the sum of 4 products u[i] * s[i] times `factor` (16-bit lanes, one per 2 bytes).
PICE_AVX2 inline __m256i mul_sum_u8s8(__m256i u, __m256i s, __m256i factor) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), factor);
}

PICE_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

// Signed x signed via the unsigned x signed instruction: |w| times x with w's sign moved onto x.
PICE_AVX2 float dot_q8_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < n / kBlock32; ++b) {
    const __m256i wq = load256(w[b].qs), xq = load256(x[b].q);
    const __m256i p = mul_sum_u8s8(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xq, wq), ones);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * x[b].d), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
}

// The 16 bytes become 32 nibbles in value order (low nibbles are values 0-15, high nibbles 16-31);
// the offset of 8 comes off once per block through the activation block's sum.
PICE_AVX2 float dot_q4_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float offset = 0;
  for (int b = 0; b < n / kBlock32; ++b) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low4);
    const __m256i p = mul_sum_u8s8(q, load256(x[b].q), ones);
    const float scale = half(w[b].d) * x[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(p), acc);
    offset += scale * static_cast<float>(8 * x[b].sum);
  }
  return hsum(acc) - offset;
}

// Each 32-byte chunk of qs is two sub-blocks (low and high nibbles); vpmaddwd applies their scales.
PICE_AVX2 float dot_q4_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    uint8_t sc[8], m[8];
    int32_t min_dot = 0;
    for (int s = 0; s < 8; ++s) {
      scale_min_k4(w[b].scales, s, sc[s], m[s]);
      min_dot += m[s] * (x[b].sums[2 * s] + x[b].sums[2 * s + 1]);
    }
    __m256i isum = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = load256(w[b].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(raw, low4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      isum = _mm256_add_epi32(isum, mul_sum_u8s8(lo, load256(x[b].q + 64 * c), _mm256_set1_epi16(sc[2 * c])));
      isum = _mm256_add_epi32(isum, mul_sum_u8s8(hi, load256(x[b].q + 64 * c + 32), _mm256_set1_epi16(sc[2 * c + 1])));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * x[b].d), _mm256_cvtepi32_ps(isum), acc);
    mins += half(w[b].dmin) * x[b].d * static_cast<float>(min_dot);
  }
  return hsum(acc) - mins;
}

// The 6-bit values are assembled unsigned (0..63) and the offset of 32 comes off per sub-block of 16
// through the activation sums. A 32-value group spans two sub-blocks: the factor vector carries the
// first one's scale in its low half and the second's in its high half.
PICE_AVX2 float dot_q6_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ6K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    int32_t offset_dot = 0;
    for (int s = 0; s < 16; ++s) offset_dot += w[b].scales[s] * x[b].sums[s];
    __m256i isum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(w[b].ql + 64 * h), ql1 = load256(w[b].ql + 64 * h + 32);
      const __m256i qh = load256(w[b].qh + 32 * h);
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4)),
      };
      for (int k = 0; k < 4; ++k) {
        const int s = 8 * h + 2 * k;   // the first of the group's two sub-blocks
        const __m256i factor = _mm256_set_m128i(_mm_set1_epi16(w[b].scales[s + 1]), _mm_set1_epi16(w[b].scales[s]));
        isum = _mm256_add_epi32(isum, mul_sum_u8s8(q[k], load256(x[b].q + 128 * h + 32 * k), factor));
      }
    }
    const float scale = half(w[b].d) * x[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(isum), acc);
    offsets += scale * static_cast<float>(32 * offset_dot);
  }
  return hsum(acc) - offsets;
}

// Q8_0 and Q4_0 for several activation rows at once: the weight block is loaded and unpacked once,
// then each row takes exactly the steps of the one-row kernel above (results equal bit for bit).
namespace {

template <int V>
PICE_AVX2 void q8_0_rows(const BlockQ8_0* w, const std::byte* activations, size_t stride, int n, float* out,
                         size_t out_stride) {
  const ActivationQ8_32* x[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) x[j] = reinterpret_cast<const ActivationQ8_32*>(activations + static_cast<size_t>(j) * stride);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) acc[j] = _mm256_setzero_ps();
  for (int b = 0; b < n / kBlock32; ++b) {
    const __m256i wq = load256(w[b].qs);
    const __m256i magnitude = _mm256_sign_epi8(wq, wq);
    const float d = half(w[b].d);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) {
      const __m256i p = mul_sum_u8s8(magnitude, _mm256_sign_epi8(load256(x[j][b].q), wq), ones);
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[j][b].d), _mm256_cvtepi32_ps(p), acc[j]);
    }
  }
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) out[static_cast<size_t>(j) * out_stride] = hsum(acc[j]);
}

template <int V>
PICE_AVX2 void q4_0_rows(const BlockQ4_0* w, const std::byte* activations, size_t stride, int n, float* out,
                         size_t out_stride) {
  const ActivationQ8_32* x[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) x[j] = reinterpret_cast<const ActivationQ8_32*>(activations + static_cast<size_t>(j) * stride);
  const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0f);
  __m256 acc[V];
  float offset[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    acc[j] = _mm256_setzero_ps();
    offset[j] = 0;
  }
  for (int b = 0; b < n / kBlock32; ++b) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low4);
    const float d = half(w[b].d);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) {
      const __m256i p = mul_sum_u8s8(q, load256(x[j][b].q), ones);
      const float scale = d * x[j][b].d;
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(p), acc[j]);
      offset[j] += scale * static_cast<float>(8 * x[j][b].sum);
    }
  }
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) out[static_cast<size_t>(j) * out_stride] = hsum(acc[j]) - offset[j];
}

}  // namespace

PICE_AVX2 void dot_q8_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n,
                              float* out, size_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* a = static_cast<const std::byte*>(activations);
  with_row_count(vectors, [&](auto rows) { q8_0_rows<rows()>(w, a, stride, n, out, out_stride); });
}

PICE_AVX2 void dot_q4_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n,
                              float* out, size_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* a = static_cast<const std::byte*>(activations);
  with_row_count(vectors, [&](auto rows) { q4_0_rows<rows()>(w, a, stride, n, out, out_stride); });
}

}  // namespace pice::kernels::quant::avx2

#endif  // PICE_HAVE_AVX2_KERNELS
