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

}  // namespace pice::kernels::quant::avx2

#endif  // PICE_HAVE_AVX2_KERNELS
