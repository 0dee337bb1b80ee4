#pragma once
// IEEE half <-> float conversion without intrinsics, exact for every value (subnormals, inf, NaN).
#include <bit>
#include <cmath>
#include <cstdint>

namespace pice::kernels {

// Branch-light so the compiler can vectorise a loop of it: shifting the 15 exponent+mantissa bits
// into a float's position and multiplying by 2^112 rebiases the exponent (15 -> 127) and normalises
// subnormals in one step; only inf/NaN need their exponent forced to all ones.
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;
  uint32_t bits = std::bit_cast<uint32_t>(std::bit_cast<float>(em << 13) * 0x1.0p112f);
  if (em >= 0x7c00u) bits |= 0x7f800000u;
  return std::bit_cast<float>(bits | sign);
}

// Round to nearest, ties to even (as the F16C instruction and numpy do).
inline uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;      // NaN stays NaN (quiet)
  if (ax >= 0x477ff000u) return sign | 0x7c00u;     // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {                           // below 2^-14: a half subnormal (or zero)
    // Units of 2^-24; the scaling is exact, so nearbyint's ties-to-even is the whole rounding.
    const float units = std::nearbyint(std::bit_cast<float>(ax) * 0x1.0p24f);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(units));
  }
  uint32_t v = ax - (112u << 23);                   // rebias the exponent 127 -> 15
  v += 0xfffu + ((v >> 13) & 1u);                   // round the 13 dropped bits, ties to even
  return static_cast<uint16_t>(sign | (v >> 13));
}

}  // namespace pice::kernels
