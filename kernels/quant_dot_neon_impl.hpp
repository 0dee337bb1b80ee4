#pragma once
// The NEON integer dot kernels (ARM64), written once over the step "multiply 16 int8 pairs and add
// the products into four int32 lanes" (Dot::step). quant_dot_neon.cpp instantiates them with plain
// ARMv8 NEON (two widening multiplies, two pairwise accumulates); quant_dot_neon_dotprod.cpp with the
// ARMv8.2 dot-product extension (one SDOT), compiling this header's definitions for that extension.
// Internal to those two files; the layout of every block is in quant_blocks.hpp.
//
// Every kernel keeps its per-block integer sums in int32 vector lanes and applies the float scales
// with one fused multiply-add per block (or super-block); the four lanes are added once per row.
// No lane can overflow: a Q4_K lane holds at most 8 sub-blocks * 63 * 8 * 15 * 127 (< 2^23), a Q6_K
// lane 16 * 128 * 4 * 63 * 127 (< 2^26).
#include <arm_neon.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot.hpp"

namespace pice::kernels::quant::neon_impl {
namespace {

// FCVT from half: one instruction in every ARMv8 CPU.
inline float half(uint16_t h) { return static_cast<float>(std::bit_cast<__fp16>(h)); }

// acc + the sums over the blocks of block(b) (each a float32x4_t to be added lane-wise), in two
// accumulators so that two fused multiply-add chains are in flight.
template <class Block>
inline float sum_blocks(int blocks, Block block) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
  int b = 0;
  for (; b + 2 <= blocks; b += 2) {
    acc0 = block(acc0, b);
    acc1 = block(acc1, b + 1);
  }
  if (b < blocks) acc0 = block(acc0, b);
  return vaddvq_f32(vaddq_f32(acc0, acc1));
}

template <class Dot>
inline int32x4_t dot32(const int8_t* a, const int8_t* b) {
  return Dot::step(Dot::step(vdupq_n_s32(0), vld1q_s8(a), vld1q_s8(b)), vld1q_s8(a + 16), vld1q_s8(b + 16));
}

template <class Dot>
float dot_q8_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  return sum_blocks(n / kBlock32, [w, x](float32x4_t acc, int b) {
    return vfmaq_n_f32(acc, vcvtq_f32_s32(dot32<Dot>(w[b].qs, x[b].q)), half(w[b].d) * x[b].d);
  });
}

// Low nibbles are values 0-15, high nibbles 16-31; the offset of 8 comes off in int8 before the
// multiply, which keeps the whole block in vector registers.
template <class Dot>
float dot_q4_0(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(weights);
  const auto* x = static_cast<const ActivationQ8_32*>(activations);
  return sum_blocks(n / kBlock32, [w, x](float32x4_t acc, int b) {
    const uint8x16_t raw = vld1q_u8(w[b].qs);
    const int8x16_t eight = vdupq_n_s8(8);
    const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0f))), eight);
    const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight);
    const int32x4_t p = Dot::step(Dot::step(vdupq_n_s32(0), lo, vld1q_s8(x[b].q)), hi, vld1q_s8(x[b].q + 16));
    return vfmaq_n_f32(acc, vcvtq_f32_s32(p), half(w[b].d) * x[b].d);
  });
}

// The 8 scales and 8 mins of a Q4_K super-block (scale_min_k4) unpacked with 32-bit word operations:
// bytes 0-3 hold scales 0-3 (and the top bits of scales 4-7), bytes 4-7 mins 0-3 (and the top bits of
// mins 4-7), bytes 8-11 the low nibbles of scales and mins 4-7.
inline void scales_mins_k4(const uint8_t* packed, uint8_t* sc, uint8_t* m) {
  uint32_t a, b, c;
  std::memcpy(&a, packed, 4);
  std::memcpy(&b, packed + 4, 4);
  std::memcpy(&c, packed + 8, 4);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x03030303;
  const uint32_t words[4] = {a & low6, (c & low4) | (((a >> 6) & top2) << 4), b & low6,
                             ((c >> 4) & low4) | (((b >> 6) & top2) << 4)};
  std::memcpy(sc, words, 8);
  std::memcpy(m, words + 2, 8);
}

// sum over sub-blocks s of (d sc_s q - dmin m_s) x = d * sum_s sc_s (q . x)_s - dmin * sum_s m_s (sum x)_s:
// the nibbles are multiplied as they are, and the mins meet the activations' sums of 32 once per block.
// (A super-block is 256 values: one accumulator chain is enough.)
template <class Dot>
float dot_q4_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ4K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  const uint8x16_t low4 = vdupq_n_u8(0x0f);
  const int32x4_t zero = vdupq_n_s32(0);
  float32x4_t acc = vdupq_n_f32(0);
  float mins = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    uint8_t sc[8], m[8];
    scales_mins_k4(w[b].scales, sc, m);
    const int16x8_t sums32 = vpaddq_s16(vld1q_s16(x[b].sums), vld1q_s16(x[b].sums + 8));
    const int16x8_t m16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
    const int32_t min_dot = vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(sums32), vget_low_s16(m16)), sums32, m16));
    mins += half(w[b].dmin) * x[b].d * static_cast<float>(min_dot);
    const int32x4_t scales_lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(sc))))),
                    scales_hi = vreinterpretq_s32_u32(vmovl_high_u16(vmovl_u8(vld1_u8(sc))));
    int32x4_t isum = zero;
    for (int c = 0; c < 4; ++c) {
      const uint8x16_t r0 = vld1q_u8(w[b].qs + 32 * c), r1 = vld1q_u8(w[b].qs + 32 * c + 16);
      const int8_t* xq = x[b].q + 64 * c;
      const int32x4_t lo = Dot::step(Dot::step(zero, vreinterpretq_s8_u8(vandq_u8(r0, low4)), vld1q_s8(xq)),
                                     vreinterpretq_s8_u8(vandq_u8(r1, low4)), vld1q_s8(xq + 16));
      const int32x4_t hi = Dot::step(Dot::step(zero, vreinterpretq_s8_u8(vshrq_n_u8(r0, 4)), vld1q_s8(xq + 32)),
                                     vreinterpretq_s8_u8(vshrq_n_u8(r1, 4)), vld1q_s8(xq + 48));
      // Sub-blocks 2c and 2c + 1: lanes 2c % 4 and 2c % 4 + 1 of the scale vectors.
      const int32x4_t scales = c < 2 ? scales_lo : scales_hi;
      if (c % 2 == 0) {
        isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, lo, scales, 0), hi, scales, 1);
      } else {
        isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, lo, scales, 2), hi, scales, 3);
      }
    }
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(isum), half(w[b].d) * x[b].d);
  }
  return vaddvq_f32(acc) - mins;
}

// The 6-bit values are assembled unsigned (0..63) 16 at a time, one sub-block per register; the offset
// of 32 comes off once per super-block through the activations' sums of 16 times the scales.
template <class Dot>
float dot_q6_k(const std::byte* weights, const void* activations, int n) {
  const auto* w = reinterpret_cast<const BlockQ6K*>(weights);
  const auto* x = static_cast<const ActivationQ8_256*>(activations);
  const uint8x16_t low4 = vdupq_n_u8(0x0f), bits01 = vdupq_n_u8(0x03), bits23 = vdupq_n_u8(0x0c),
                   bits45 = vdupq_n_u8(0x30), bits67 = vdupq_n_u8(0xc0);
  const int32x4_t zero = vdupq_n_s32(0);
  float32x4_t acc = vdupq_n_f32(0);
  float offsets = 0;
  for (int b = 0; b < n / kBlock256; ++b) {
    const int8x16_t scales = vld1q_s8(w[b].scales);
    const int16x8_t sc16[2] = {vmovl_s8(vget_low_s8(scales)), vmovl_high_s8(scales)};
    const int16x8_t sums_lo = vld1q_s16(x[b].sums), sums_hi = vld1q_s16(x[b].sums + 8);
    int32x4_t od = vmull_s16(vget_low_s16(sc16[0]), vget_low_s16(sums_lo));
    od = vmlal_high_s16(od, sc16[0], sums_lo);
    od = vmlal_s16(od, vget_low_s16(sc16[1]), vget_low_s16(sums_hi));
    od = vmlal_high_s16(od, sc16[1], sums_hi);
    const float scale = half(w[b].d) * x[b].d;
    offsets += scale * static_cast<float>(32 * vaddvq_s32(od));

    int32x4_t isum = zero;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[b].ql + 64 * h;
      const uint8_t* qh = w[b].qh + 32 * h;
      const int8_t* xq = x[b].q + 128 * h;
      // Scales of sub-blocks 8h .. 8h + 7 as 32-bit lanes: sub-block 8h + k is lane k % 4 of sc[k / 4].
      const int32x4_t sc[2] = {vmovl_s16(vget_low_s16(sc16[h])), vmovl_high_s16(sc16[h])};
      for (int j = 0; j < 2; ++j) {   // values 16j..16j+15 of each quarter of the half
        const uint8x16_t l0 = vld1q_u8(ql + 16 * j), l1 = vld1q_u8(ql + 32 + 16 * j), hb = vld1q_u8(qh + 16 * j);
        const uint8x16_t q0 = vorrq_u8(vandq_u8(l0, low4), vshlq_n_u8(vandq_u8(hb, bits01), 4));
        const uint8x16_t q1 = vorrq_u8(vandq_u8(l1, low4), vshlq_n_u8(vandq_u8(hb, bits23), 2));
        const uint8x16_t q2 = vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, bits45));
        const uint8x16_t q3 = vorrq_u8(vshrq_n_u8(l1, 4), vshrq_n_u8(vandq_u8(hb, bits67), 2));
        const int32x4_t p0 = Dot::step(zero, vreinterpretq_s8_u8(q0), vld1q_s8(xq + 16 * j));        // sub-block 8h + j
        const int32x4_t p1 = Dot::step(zero, vreinterpretq_s8_u8(q1), vld1q_s8(xq + 32 + 16 * j));   // 8h + 2 + j
        const int32x4_t p2 = Dot::step(zero, vreinterpretq_s8_u8(q2), vld1q_s8(xq + 64 + 16 * j));   // 8h + 4 + j
        const int32x4_t p3 = Dot::step(zero, vreinterpretq_s8_u8(q3), vld1q_s8(xq + 96 + 16 * j));   // 8h + 6 + j
        if (j == 0) {
          isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, p0, sc[0], 0), p1, sc[0], 2);
          isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, p2, sc[1], 0), p3, sc[1], 2);
        } else {
          isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, p0, sc[0], 1), p1, sc[0], 3);
          isum = vmlaq_laneq_s32(vmlaq_laneq_s32(isum, p2, sc[1], 1), p3, sc[1], 3);
        }
      }
    }
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(isum), scale);
  }
  return vaddvq_f32(acc) - offsets;
}

}  // namespace
}  // namespace pice::kernels::quant::neon_impl
