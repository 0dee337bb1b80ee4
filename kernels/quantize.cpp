// Float -> each supported type. The block types choose scales so that every value of a block lies
// inside the block's representable range (no clipping), which bounds the error of every value by
// half a quantization step; the tests check those bounds.
//
// The k-quants store their sub-block scales as small integers times a per-super-block half: the
// super-block scale is rounded *up* to a half, and each sub-block scale up to the next integer
// multiple of it, so the rounding of the scales can only widen a sub-block's range, never cut it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_blocks.hpp"

namespace pice::kernels {
namespace {

using namespace quant;

// The smallest half >= v, for finite v >= 0 (a plain round-to-nearest could land just below v).
uint16_t half_at_least(float v) {
  uint16_t h = float_to_half(v);
  if (half_to_float(h) < v) ++h;   // positive halves are ordered like their bit patterns
  return h;
}

int round_clamp(float v, int lo, int hi) { return std::clamp(static_cast<int>(std::lround(v)), lo, hi); }

void quantize_q8_0(const float* x, BlockQ8_0* out, int n) {
  for (int i = 0; i < n / kBlock32; ++i, x += kBlock32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    out[i].d = half_at_least(amax / 127);
    const float d = half_to_float(out[i].d);
    const float inv = d > 0 ? 1 / d : 0;
    for (int j = 0; j < 32; ++j) out[i].qs[j] = static_cast<int8_t>(round_clamp(x[j] * inv, -127, 127));
  }
}

// The value of largest magnitude goes to -8 * d (the format's range is -8..7), as GGML does: the step
// is amax / 8 instead of amax / 7, at the price of clipping the opposite extreme to 7 steps.
void quantize_q4_0(const float* x, BlockQ4_0* out, int n) {
  for (int i = 0; i < n / kBlock32; ++i, x += kBlock32) {
    float extreme = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(x[j]) > std::fabs(extreme)) extreme = x[j];
    out[i].d = float_to_half(extreme / -8);
    const float d = half_to_float(out[i].d);
    const float inv = d != 0 ? 1 / d : 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = round_clamp(x[j] * inv + 8, 0, 15), hi = round_clamp(x[j + 16] * inv + 8, 0, 15);
      out[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

// Per sub-block s of 32: value = scale_s * q - min_s with q in 0..15, min_s >= 0 (so the range always
// includes 0, as in GGML), scale_s = d * sc[s], min_s = dmin * m[s].
void quantize_q4_k(const float* x, BlockQ4K* out, int n) {
  for (int i = 0; i < n / kBlock256; ++i, x += kBlock256) {
    float lo[8], hi[8], max_min = 0;
    for (int s = 0; s < 8; ++s) {
      lo[s] = 0;
      hi[s] = x[32 * s];
      for (int l = 0; l < 32; ++l) {
        lo[s] = std::min(lo[s], x[32 * s + l]);
        hi[s] = std::max(hi[s], x[32 * s + l]);
      }
      max_min = std::max(max_min, -lo[s]);
    }
    BlockQ4K& b = out[i];
    b.dmin = half_at_least(max_min / 63);
    const float dmin = half_to_float(b.dmin);
    uint8_t m[8], sc[8];
    float needed[8], max_needed = 0;
    for (int s = 0; s < 8; ++s) {
      m[s] = dmin > 0 ? static_cast<uint8_t>(std::min(63.0f, std::ceil(-lo[s] / dmin))) : 0;
      needed[s] = std::max(0.0f, (hi[s] + dmin * m[s]) / 15);   // the step that reaches hi from -min
      max_needed = std::max(max_needed, needed[s]);
    }
    b.d = half_at_least(max_needed / 63);
    const float d = half_to_float(b.d);
    for (int s = 0; s < 8; ++s) sc[s] = d > 0 ? static_cast<uint8_t>(std::min(63.0f, std::ceil(needed[s] / d))) : 0;
    pack_scale_min_k4(sc, m, b.scales);

    uint8_t q[256];
    for (int s = 0; s < 8; ++s) {
      const float step = d * sc[s], offset = dmin * m[s];
      for (int l = 0; l < 32; ++l)
        q[32 * s + l] = step > 0 ? static_cast<uint8_t>(round_clamp((x[32 * s + l] + offset) / step, 0, 15)) : 0;
    }
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
  }
}

// Per sub-block s of 16: value = d * scales[s] * (q - 32), symmetric (q - 32 in -31..31).
void quantize_q6_k(const float* x, BlockQ6K* out, int n) {
  for (int i = 0; i < n / kBlock256; ++i, x += kBlock256) {
    float needed[16], max_needed = 0;
    for (int s = 0; s < 16; ++s) {
      float amax = 0;
      for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * s + l]));
      needed[s] = amax / 31;
      max_needed = std::max(max_needed, needed[s]);
    }
    BlockQ6K& b = out[i];
    b.d = half_at_least(max_needed / 127);
    const float d = half_to_float(b.d);
    uint8_t q[256];
    for (int s = 0; s < 16; ++s) {
      b.scales[s] = d > 0 ? static_cast<int8_t>(std::min(127.0f, std::ceil(needed[s] / d))) : 0;
      const float step = d * b.scales[s];
      for (int l = 0; l < 16; ++l)
        q[16 * s + l] = static_cast<uint8_t>(step > 0 ? round_clamp(x[16 * s + l] / step, -32, 31) + 32 : 32);
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* v = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((v[l] & 0x0f) | ((v[l + 64] & 0x0f) << 4));
        b.ql[64 * h + l + 32] = static_cast<uint8_t>((v[l + 32] & 0x0f) | ((v[l + 96] & 0x0f) << 4));
        b.qh[32 * h + l] = static_cast<uint8_t>((v[l] >> 4) | ((v[l + 32] >> 4) << 2) | ((v[l + 64] >> 4) << 4) |
                                                ((v[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace

void quantize_row(TensorType type, const float* src, std::byte* dst, int n) {
  check_row(type, n, "quantize_row");
  switch (type) {
    case TensorType::f32:
      std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
      return;
    case TensorType::f16:
    case TensorType::bf16: {
      for (int i = 0; i < n; ++i) {
        const uint16_t h = type == TensorType::f16 ? float_to_half(src[i]) : float_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    }
    case TensorType::q8_0: return quantize_q8_0(src, reinterpret_cast<BlockQ8_0*>(dst), n);
    case TensorType::q4_0: return quantize_q4_0(src, reinterpret_cast<BlockQ4_0*>(dst), n);
    case TensorType::q4_k: return quantize_q4_k(src, reinterpret_cast<BlockQ4K*>(dst), n);
    case TensorType::q6_k: return quantize_q6_k(src, reinterpret_cast<BlockQ6K*>(dst), n);
    default: return;   // excluded by check_row
  }
}

}  // namespace pice::kernels
