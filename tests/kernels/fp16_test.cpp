// half <-> float conversion against a reference built from the IEEE definition with ldexp.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "kernels/fp16.hpp"

namespace pice::kernels {
namespace {

double reference_half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

TEST(Fp16, EveryHalfWidensExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    const double expected = reference_half_value(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(f)) << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), expected) << h;
      EXPECT_EQ(std::signbit(f), (h >> 15) != 0) << h;
    }
  }
}

TEST(Fp16, EveryHalfSurvivesARoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << h;
    } else {
      ASSERT_EQ(float_to_half(f), h) << h;
    }
  }
}

// Round to nearest, ties to even: the result is the closest half; at a tie the one with an even mantissa.
TEST(Fp16, NarrowingRoundsToNearestEven) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    float f = std::bit_cast<float>(bits(rng));
    if (std::isnan(f)) continue;
    if (i % 2) f = std::ldexp(std::fmod(f, 1.0f), static_cast<int>(rng() % 40) - 28);   // concentrate on half range
    const uint16_t h = float_to_half(f);
    const double got = reference_half_value(h);
    if (std::fabs(f) >= 65520.0) {
      EXPECT_TRUE(std::isinf(got)) << f;
      continue;
    }
    // Neighbouring halves (same sign) must not be strictly closer.
    for (const int step : {-1, 1}) {
      const int other = static_cast<int>(h & 0x7fff) + step;
      if (other < 0 || other >= 0x7c00) continue;
      const double alt = reference_half_value(static_cast<uint16_t>((h & 0x8000) | other));
      const double d_got = std::fabs(got - f), d_alt = std::fabs(alt - f);
      ASSERT_LE(d_got, d_alt) << f;
      if (d_got == d_alt) {
        EXPECT_EQ(h & 1, 0) << "tie not to even: " << f;
      }
    }
  }
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_half(-INFINITY), 0xfc00);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);           // tie between 0 and the smallest: even
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
}

}  // namespace
}  // namespace pice::kernels
