// NEON float dots of F16 and BF16 weight rows (ARM64 only, every ARMv8 CPU): F16 widens with FCVTL
// and BF16 with a 16-bit USHLL, in registers, so that a half-precision row costs one instruction per
// 4 values more than a float row, and half its memory traffic. F32 has no NEON kernel: g++ already
// compiles the portable loop (kernels::dot) to NEON loads and FMLA, in fewer instructions than
// intrinsics written like these (docs/BENCHMARKS.md, ARM64).
#include "kernels/quant_dot_kernels.hpp"

#if defined(PICE_HAVE_NEON_KERNELS)

#include <arm_neon.h>

#include <cstdint>

#include "kernels/fp16.hpp"
#include "kernels/quant_blocks.hpp"

namespace pice::kernels::quant::neon {
namespace {

// 4 weights from element i on, as floats.
struct LoadF16 {
  const uint16_t* w;
  float32x4_t operator()(int i) const { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + i))); }
  float scalar(int i) const { return half_to_float(w[i]); }
};
struct LoadBF16 {
  const uint16_t* w;
  float32x4_t operator()(int i) const { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(w + i), 16)); }
  float scalar(int i) const { return bf16_to_float(w[i]); }
};

// Four independent accumulators hide the latency of the fused multiply-adds.
template <class Load>
inline float dot_with(Load load, const float* x, int n) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0), acc2 = vdupq_n_f32(0), acc3 = vdupq_n_f32(0);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = vfmaq_f32(acc0, load(i), vld1q_f32(x + i));
    acc1 = vfmaq_f32(acc1, load(i + 4), vld1q_f32(x + i + 4));
    acc2 = vfmaq_f32(acc2, load(i + 8), vld1q_f32(x + i + 8));
    acc3 = vfmaq_f32(acc3, load(i + 12), vld1q_f32(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, load(i), vld1q_f32(x + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
  for (; i < n; ++i) sum += load.scalar(i) * x[i];
  return sum;
}

}  // namespace

float dot_f16(const std::byte* weights, const float* x, int n) {
  return dot_with(LoadF16{reinterpret_cast<const uint16_t*>(weights)}, x, n);
}

float dot_bf16(const std::byte* weights, const float* x, int n) {
  return dot_with(LoadBF16{reinterpret_cast<const uint16_t*>(weights)}, x, n);
}

}  // namespace pice::kernels::quant::neon

#endif  // PICE_HAVE_NEON_KERNELS
