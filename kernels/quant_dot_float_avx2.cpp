// AVX2 + FMA + F16C float dots of F32, F16 and BF16 weight rows (x86-64 only; own target attributes,
// as in quant_dot_avx2.cpp). F16 widens with vcvtph2ps and BF16 with a 16-bit shift, in registers,
// so a half-precision row costs no more instructions than a float one and half the memory traffic.
#include "kernels/quant_dot_kernels.hpp"

#if defined(PICE_HAVE_AVX2_KERNELS)

#include <immintrin.h>

#include <cstdint>

#include "kernels/fp16.hpp"
#include "kernels/quant_blocks.hpp"

#define PICE_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace pice::kernels::quant::avx2 {
namespace {

PICE_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 weights from element i on, as floats.
struct LoadF32 {
  const float* w;
  PICE_AVX2 __m256 operator()(int i) const { return _mm256_loadu_ps(w + i); }
  float scalar(int i) const { return w[i]; }
};
struct LoadF16 {
  const uint16_t* w;
  PICE_AVX2 __m256 operator()(int i) const {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
  }
  float scalar(int i) const { return half_to_float(w[i]); }
};
struct LoadBF16 {
  const uint16_t* w;
  PICE_AVX2 __m256 operator()(int i) const {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  float scalar(int i) const { return bf16_to_float(w[i]); }
};

// Four independent accumulators hide the latency of the fused multiply-adds.
template <class Load>
PICE_AVX2 inline float dot_with(Load load, const float* x, int n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load(i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(load(i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load(i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load(i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load(i), _mm256_loadu_ps(x + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += load.scalar(i) * x[i];
  return sum;
}

}  // namespace

PICE_AVX2 float dot_f32(const std::byte* weights, const float* x, int n) {
  return dot_with(LoadF32{reinterpret_cast<const float*>(weights)}, x, n);
}

PICE_AVX2 float dot_f16(const std::byte* weights, const float* x, int n) {
  return dot_with(LoadF16{reinterpret_cast<const uint16_t*>(weights)}, x, n);
}

PICE_AVX2 float dot_bf16(const std::byte* weights, const float* x, int n) {
  return dot_with(LoadBF16{reinterpret_cast<const uint16_t*>(weights)}, x, n);
}


// F16 rows against several activation rows: each group of weights is widened once for all of them.
// Each row keeps the four accumulators and the summation order of dot_with, so every result equals
// dot_f16's bit for bit. Four rows need 20 vector registers: AVX-512VL's 32 (with the same
// instructions) where the CPU has them, else at most two rows at a time in AVX2's 16.
namespace {

template <int V, class Load>
PICE_AVX2 inline __attribute__((always_inline)) void dot_rows_with(Load load, const float* x, size_t x_stride, int n, float* out,
                                                         size_t out_stride) {
  __m256 acc0[V], acc1[V], acc2[V], acc3[V];
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) acc0[j] = acc1[j] = acc2[j] = acc3[j] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 w0 = load(i), w1 = load(i + 8), w2 = load(i + 16), w3 = load(i + 24);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) {
      const float* xj = x + static_cast<size_t>(j) * x_stride;
      acc0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xj + i), acc0[j]);
      acc1[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xj + i + 8), acc1[j]);
      acc2[j] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xj + i + 16), acc2[j]);
      acc3[j] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xj + i + 24), acc3[j]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 w = load(i);
    #pragma GCC unroll 8
    for (int j = 0; j < V; ++j) acc0[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + static_cast<size_t>(j) * x_stride + i), acc0[j]);
  }
  #pragma GCC unroll 8
  for (int j = 0; j < V; ++j) {
    const float* xj = x + static_cast<size_t>(j) * x_stride;
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0[j], acc1[j]), _mm256_add_ps(acc2[j], acc3[j])));
    for (int k = i; k < n; ++k) sum += load.scalar(k) * xj[k];
    out[static_cast<size_t>(j) * out_stride] = sum;
  }
}

}  // namespace

PICE_AVX2 void dot_f16_rows(const std::byte* weights, const float* x, size_t x_stride, int vectors, int n, float* out,
                            size_t out_stride) {
  const LoadF16 load{reinterpret_cast<const uint16_t*>(weights)};
  for (; vectors >= 2; vectors -= 2, x += 2 * x_stride, out += 2 * out_stride) dot_rows_with<2>(load, x, x_stride, n, out, out_stride);
  if (vectors == 1) dot_rows_with<1>(load, x, x_stride, n, out, out_stride);
}

#define PICE_AVX512VL __attribute__((target("avx512f,avx512vl,avx2,fma,f16c")))
PICE_AVX512VL void dot_f16_rows_wide(const std::byte* weights, const float* x, size_t x_stride, int vectors, int n,
                                     float* out, size_t out_stride) {
  const LoadF16 load{reinterpret_cast<const uint16_t*>(weights)};
  for (; vectors >= 4; vectors -= 4, x += 4 * x_stride, out += 4 * out_stride) dot_rows_with<4>(load, x, x_stride, n, out, out_stride);
  for (; vectors >= 2; vectors -= 2, x += 2 * x_stride, out += 2 * out_stride) dot_rows_with<2>(load, x, x_stride, n, out, out_stride);
  if (vectors == 1) dot_rows_with<1>(load, x, x_stride, n, out, out_stride);
}

}  // namespace pice::kernels::quant::avx2

#endif  // PICE_HAVE_AVX2_KERNELS
