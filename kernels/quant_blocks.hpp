#pragma once
// GGML's block layouts of the quantized tensor types, byte for byte as they lie in a GGUF file, and
// the small helpers that read their packed fields. Everything else about quantization (dequantizing,
// quantizing, dot products) builds on these definitions.
//
// A row of `n` values of a quantized type is n / kBlock consecutive blocks. Scales are IEEE halves.
#include <cstdint>
#include <cstring>

namespace pice::kernels::quant {

// Q8_0: 32 values, value[i] = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};

// Q4_0: 32 values, value[i] = d * (nibble[i] - 8). Byte j holds value j in its low nibble and value
// j + 16 in its high nibble (not adjacent values: the two halves of the block are split by nibble).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};

// Q4_K: a super-block of 256 values in 8 sub-blocks of 32, value = d * sc[s] * q - dmin * m[s] with
// 4-bit q and 6-bit sub-block scales sc[s] and mins m[s] packed into 12 bytes (see scale_min_k4).
// qs holds 4 chunks of 64 values: chunk c's 32 bytes give sub-block 2c in their low nibbles and
// sub-block 2c + 1 in their high nibbles.
struct BlockQ4K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};

// Q6_K: a super-block of 256 values in 16 sub-blocks of 16, value = d * scales[s] * (q - 32) with 6-bit
// q split into 4 low bits (ql) and 2 high bits (qh). The block is two halves of 128 values; in half h,
// for l in 0..31, with L = ql + 64h and H = qh + 32h:
//   value l      : low nibble of L[l]      | bits 0-1 of H[l] << 4
//   value l + 32 : low nibble of L[l + 32] | bits 2-3 of H[l] << 4
//   value l + 64 : high nibble of L[l]     | bits 4-5 of H[l] << 4
//   value l + 96 : high nibble of L[l + 32]| bits 6-7 of H[l] << 4
// and value v of the super-block uses scales[v / 16].
struct BlockQ6K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4K) == 144 && sizeof(BlockQ6K) == 210);

constexpr int kBlock32 = 32;    // Q8_0, Q4_0
constexpr int kBlock256 = 256;  // the k-quants

// The 6-bit scale and min of sub-block s (0..7) of a Q4_K super-block. Sub-blocks 0-3 keep theirs in
// the low 6 bits of bytes s and s + 4; sub-blocks 4-7 split theirs: low 4 bits in the nibbles of byte
// s + 4 (scale low, min high) and the top 2 bits in the spare top bits of bytes s - 4 and s.
inline void scale_min_k4(const uint8_t* scales, int s, uint8_t& scale, uint8_t& min) {
  if (s < 4) {
    scale = scales[s] & 63;
    min = scales[s + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((scales[s + 4] & 0x0f) | ((scales[s - 4] >> 6) << 4));
    min = static_cast<uint8_t>((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

// The inverse of scale_min_k4: packs 8 scales and 8 mins (each 0..63) into 12 bytes.
inline void pack_scale_min_k4(const uint8_t* scale, const uint8_t* min, uint8_t* scales) {
  for (int s = 0; s < 4; ++s) {
    scales[s] = static_cast<uint8_t>((scale[s] & 63) | ((scale[s + 4] >> 4) << 6));
    scales[s + 4] = static_cast<uint8_t>((min[s] & 63) | ((min[s + 4] >> 4) << 6));
    scales[s + 8] = static_cast<uint8_t>((scale[s + 4] & 0x0f) | ((min[s + 4] & 0x0f) << 4));
  }
}

// BF16 is the top half of an IEEE single.
inline float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest, ties to even; NaN stays a (quiet) NaN.
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace pice::kernels::quant
