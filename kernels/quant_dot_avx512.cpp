// AVX-512 VNNI dot kernels for Q8_0 and Q4_0 (x86-64 only; own target attributes, as in
// quant_dot_avx2.cpp). Two 32-value blocks fill one 512-bit register, and vpdpbusd multiplies
// unsigned by signed bytes and sums each four products into 32-bit lanes in one instruction (no
// 16-bit intermediate that could saturate). A row with an odd number of blocks ends on the AVX2 kernel.
// The k-quants and the float types use the AVX2 kernels on this path.
#include "kernels/quant_dot_kernels.hpp"
#include "kernels/quant_dot_row_count.hpp"

#if defined(PICE_HAVE_AVX2_KERNELS)

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() values as the unused "merge" operand of their
// unmasked forms, which -Wuninitialized reports at every call once inlined: a false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot.hpp"

#define PICE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace pice::kernels::quant::avx512 {
namespace {

// Two 32-byte blocks, the first in the low half.
PICE_AVX512 inline __m512i load_two(const void* first, const void* second) {
  const __m256i lo = _mm256_loadu_si256(static_cast<const __m256i*>(first));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256(static_cast<const __m256i*>(second)), 1);
}

// s0 in the low 8 lanes, s1 in the high 8.
PICE_AVX512 inline __m512 scales_of_two(float s0, float s1) {
  const __m512d lo = _mm512_castps_pd(_mm512_set1_ps(s0));
  return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_set1_ps(s1)), 1));
}

PICE_AVX512 inline float half(uint16_t h) { return _cvtsh_ss(h); }

}  // namespace

// Signed x signed through unsigned x signed: |w| times x negated where w < 0.
PICE_AVX512 float dot_q8_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  const int blocks = n / kBlock32;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc = _mm512_setzero_ps();
  int b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m512i wq = load_two(w[b].qs, w[b + 1].qs), xq = load_two(x[b].q, x[b + 1].q);
    const __m512i signed_x = _mm512_mask_sub_epi8(xq, _mm512_movepi8_mask(wq), zero, xq);
    const __m512i p = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(wq), signed_x);
    const __m512 scale = scales_of_two(half(w[b].d) * x[b].d, half(w[b + 1].d) * x[b + 1].d);
    acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(p), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  if (b < blocks) sum += avx2::dot_q8_0(reinterpret_cast<const std::byte*>(w + b), x + b, kBlock32);
  return sum;
}

// The nibbles of two blocks become 64 bytes in value order (each block: its 16 low nibbles, then its
// 16 high nibbles); the offset of 8 comes off through the activation sums, as in the AVX2 kernel.
PICE_AVX512 float dot_q4_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  const int blocks = n / kBlock32;
  const __m512i low4 = _mm512_set1_epi8(0x0f), zero = _mm512_setzero_si512();
  __m512 acc = _mm512_setzero_ps();
  float offset = 0;
  int b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m256i raw = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b + 1].qs)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs)));
    // 128-bit lanes [b, b+1, b >> 4, b+1 >> 4] reordered to [b, b >> 4, b+1, b+1 >> 4].
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1);
    const __m512i q = _mm512_and_si512(_mm512_shuffle_i64x2(both, both, _MM_SHUFFLE(3, 1, 2, 0)), low4);
    const __m512i p = _mm512_dpbusd_epi32(zero, q, load_two(x[b].q, x[b + 1].q));
    const float s0 = half(w[b].d) * x[b].d, s1 = half(w[b + 1].d) * x[b + 1].d;
    acc = _mm512_fmadd_ps(scales_of_two(s0, s1), _mm512_cvtepi32_ps(p), acc);
    offset += s0 * static_cast<float>(8 * x[b].sum) + s1 * static_cast<float>(8 * x[b + 1].sum);
  }
  float sum = _mm512_reduce_add_ps(acc) - offset;
  if (b < blocks) sum += avx2::dot_q4_0(reinterpret_cast<const std::byte*>(w + b), x + b, kBlock32);
  return sum;
}

// The kernels above for several activation rows at once: the weight blocks are loaded and unpacked
// once, then each row takes exactly the steps of the one-row kernel (results equal bit for bit).
namespace {

template <int V>
PICE_AVX512 void q8_0_rows(const BlockQ8_0* w, const std::byte* activations, size_t stride, int n, float* out,
                           size_t out_stride) {
  const ActivationQ8_32* x[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) x[j] = reinterpret_cast<const ActivationQ8_32*>(activations + static_cast<size_t>(j) * stride);
  const int blocks = n / kBlock32;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) acc[j] = _mm512_setzero_ps();
  int b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m512i wq = load_two(w[b].qs, w[b + 1].qs);
    const __mmask64 negative = _mm512_movepi8_mask(wq);
    const __m512i magnitude = _mm512_abs_epi8(wq);
    const float d0 = half(w[b].d), d1 = half(w[b + 1].d);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) {
      const __m512i xq = load_two(x[j][b].q, x[j][b + 1].q);
      const __m512i p = _mm512_dpbusd_epi32(zero, magnitude, _mm512_mask_sub_epi8(xq, negative, zero, xq));
      acc[j] = _mm512_fmadd_ps(scales_of_two(d0 * x[j][b].d, d1 * x[j][b + 1].d), _mm512_cvtepi32_ps(p), acc[j]);
    }
  }
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    float sum = _mm512_reduce_add_ps(acc[j]);
    if (b < blocks) sum += avx2::dot_q8_0(reinterpret_cast<const std::byte*>(w + b), x[j] + b, kBlock32);
    out[static_cast<size_t>(j) * out_stride] = sum;
  }
}

template <int V>
PICE_AVX512 void q4_0_rows(const BlockQ4_0* w, const std::byte* activations, size_t stride, int n, float* out,
                           size_t out_stride) {
  const ActivationQ8_32* x[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) x[j] = reinterpret_cast<const ActivationQ8_32*>(activations + static_cast<size_t>(j) * stride);
  const int blocks = n / kBlock32;
  const __m512i low4 = _mm512_set1_epi8(0x0f), zero = _mm512_setzero_si512();
  __m512 acc[V];
  float offset[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    acc[j] = _mm512_setzero_ps();
    offset[j] = 0;
  }
  int b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m256i raw = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b + 1].qs)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs)));
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1);
    const __m512i q = _mm512_and_si512(_mm512_shuffle_i64x2(both, both, _MM_SHUFFLE(3, 1, 2, 0)), low4);
    const float d0 = half(w[b].d), d1 = half(w[b + 1].d);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) {
      const __m512i p = _mm512_dpbusd_epi32(zero, q, load_two(x[j][b].q, x[j][b + 1].q));
      const float s0 = d0 * x[j][b].d, s1 = d1 * x[j][b + 1].d;
      acc[j] = _mm512_fmadd_ps(scales_of_two(s0, s1), _mm512_cvtepi32_ps(p), acc[j]);
      offset[j] += s0 * static_cast<float>(8 * x[j][b].sum) + s1 * static_cast<float>(8 * x[j][b + 1].sum);
    }
  }
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    float sum = _mm512_reduce_add_ps(acc[j]) - offset[j];
    if (b < blocks) sum += avx2::dot_q4_0(reinterpret_cast<const std::byte*>(w + b), x[j] + b, kBlock32);
    out[static_cast<size_t>(j) * out_stride] = sum;
  }
}

}  // namespace

PICE_AVX512 void dot_q8_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n,
                                float* out, size_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* a = static_cast<const std::byte*>(activations);
  with_row_count(vectors, [&](auto rows) { q8_0_rows<rows()>(w, a, stride, n, out, out_stride); });
}

PICE_AVX512 void dot_q4_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n,
                                float* out, size_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* a = static_cast<const std::byte*>(activations);
  with_row_count(vectors, [&](auto rows) { q4_0_rows<rows()>(w, a, stride, n, out, out_stride); });
}

}  // namespace pice::kernels::quant::avx512

#endif  // PICE_HAVE_AVX2_KERNELS
