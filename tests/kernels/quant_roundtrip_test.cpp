// quantize_row then dequantize_row, on random data of several distributions: every value within the
// bound its format allows (derived here from the data, independently of the quantizer's code), and
// the RMS error within a fraction of the data's RMS that a sensible choice of scales achieves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "kernels/quant.hpp"

namespace pice::kernels {
namespace {

struct Distribution {
  std::string name;
  std::function<float(std::mt19937&)> draw;
};

std::vector<Distribution> distributions() {
  return {
      {"uniform", [](std::mt19937& g) { return std::uniform_real_distribution<float>(-1, 1)(g); }},
      {"normal", [](std::mt19937& g) { return std::normal_distribution<float>(0, 0.02f)(g); }},
      {"positive", [](std::mt19937& g) { return std::uniform_real_distribution<float>(0.5f, 3)(g); }},
      {"negative", [](std::mt19937& g) { return std::uniform_real_distribution<float>(-3, -0.5f)(g); }},
      // Mostly small values with rare large ones: the sub-block scales must differ widely.
      {"outliers", [](std::mt19937& g) {
         const float v = std::normal_distribution<float>(0, 0.01f)(g);
         return std::uniform_int_distribution<int>(0, 60)(g) == 0 ? v * 300 : v;
       }},
      {"sparse", [](std::mt19937& g) {
         return std::uniform_int_distribution<int>(0, 3)(g) == 0 ? std::uniform_real_distribution<float>(-2, 2)(g) : 0.0f;
       }},
  };
}

float amax(const float* x, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

// The largest error each value may have. Block formats: half a step, where the step is what the
// block's values need widened by the rounding of the scales to their stored precision.
std::vector<float> error_bounds(TensorType type, const std::vector<float>& x) {
  const int n = static_cast<int>(x.size());
  std::vector<float> bound(x.size());
  const float slack = 1.01f;   // scales stored as halves (rounded up), float arithmetic
  switch (type) {
    case TensorType::f16:
      for (size_t i = 0; i < x.size(); ++i) bound[i] = std::max(std::fabs(x[i]) * 0x1.0p-11f, 0x1.0p-25f);
      break;
    case TensorType::bf16:
      for (size_t i = 0; i < x.size(); ++i) bound[i] = std::fabs(x[i]) * 0x1.0p-8f;
      break;
    case TensorType::q8_0:
      for (int b = 0; b < n; b += 32) std::fill_n(bound.begin() + b, 32, 0.5f * amax(&x[static_cast<size_t>(b)], 32) / 127 * slack);
      break;
    case TensorType::q4_0:
      // Step amax / 8 (the extreme maps to -8); the opposite extreme clips at +7: one whole step.
      for (int b = 0; b < n; b += 32) std::fill_n(bound.begin() + b, 32, amax(&x[static_cast<size_t>(b)], 32) / 8 * slack);
      break;
    case TensorType::q4_k:
      for (int b = 0; b < n; b += 256) {
        // Sub-block s spans [min(0, lo_s), hi_s]; its min is a 6-bit multiple of dmin = max(-lo) / 63
        // (rounded up: up to dmin too far), its step (range + that) / 15 a 6-bit multiple of
        // d = max step / 63 (rounded up: up to d too coarse).
        float lo[8], hi[8], max_neg = 0, max_step = 0;
        for (int s = 0; s < 8; ++s) {
          const auto first = x.begin() + b + 32 * s;
          lo[s] = std::min(0.0f, *std::min_element(first, first + 32));
          hi[s] = *std::max_element(first, first + 32);
          max_neg = std::max(max_neg, -lo[s]);
        }
        for (int s = 0; s < 8; ++s) max_step = std::max(max_step, (hi[s] - lo[s] + max_neg / 63) / 15);
        for (int s = 0; s < 8; ++s)
          std::fill_n(bound.begin() + b + 32 * s, 32, 0.5f * ((hi[s] - lo[s] + max_neg / 63) / 15 + max_step / 63) * slack);
      }
      break;
    case TensorType::q6_k:
      for (int b = 0; b < n; b += 256) {
        float max_step = 0;
        for (int s = 0; s < 16; ++s) max_step = std::max(max_step, amax(&x[static_cast<size_t>(b + 16 * s)], 16) / 31);
        for (int s = 0; s < 16; ++s)
          std::fill_n(bound.begin() + b + 16 * s, 16,
                      0.5f * (amax(&x[static_cast<size_t>(b + 16 * s)], 16) / 31 + max_step / 127) * slack);
      }
      break;
    default:
      ADD_FAILURE() << "no bound for " << tensor_type_name(type);
  }
  return bound;
}

// RMS error / RMS of the data, at most; achieved with room to spare on uniform and normal data.
double rms_limit(TensorType type) {
  switch (type) {
    case TensorType::f16: return 3e-4;
    case TensorType::bf16: return 3e-3;
    case TensorType::q8_0: return 0.006;
    case TensorType::q4_0: return 0.09;
    case TensorType::q4_k: return 0.09;
    case TensorType::q6_k: return 0.025;
    default: return 0;
  }
}

class QuantRoundTrip : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantRoundTrip, EveryValueWithinItsBound) {
  const TensorType type = GetParam();
  std::mt19937 gen(42);
  for (const Distribution& dist : distributions()) {
    for (const int n : {256, 512, 2048}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (float& v : x) v = dist.draw(gen);
      if (dist.name == "sparse") std::fill_n(x.begin(), 32, 0.0f);   // an all-zero block (and sub-blocks)
      std::vector<std::byte> bytes(row_bytes(type, n));
      quantize_row(type, x.data(), bytes.data(), n);
      std::vector<float> y(x.size());
      dequantize_row(type, bytes.data(), y.data(), n);
      const std::vector<float> bound = error_bounds(type, x);
      double err2 = 0, sig2 = 0;
      int bad = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const float err = std::fabs(y[i] - x[i]);
        if (!(err <= bound[i]) && bad++ < 5)
          ADD_FAILURE() << dist.name << " n=" << n << " value " << i << ": " << x[i] << " -> " << y[i] << ", error "
                        << err << " > bound " << bound[i];
        err2 += static_cast<double>(err) * err;
        sig2 += static_cast<double>(x[i]) * x[i];
      }
      if (dist.name == "uniform" || dist.name == "normal") {
        EXPECT_LT(std::sqrt(err2 / sig2), rms_limit(type)) << dist.name << " n=" << n;
      }
    }
  }
}

TEST_P(QuantRoundTrip, ZerosStayZeroAndExactValuesStayExact) {
  const TensorType type = GetParam();
  std::vector<float> zeros(256, 0.0f), y(256, 1.0f);
  std::vector<std::byte> bytes(row_bytes(type, 256));
  quantize_row(type, zeros.data(), bytes.data(), 256);
  dequantize_row(type, bytes.data(), y.data(), 256);
  EXPECT_EQ(y, zeros);
  // Eighths from -1 to 0.875: exact in f16, bf16 and q4_0 (whose block extreme -1 gives the step 1/8),
  // within a fraction of a step in the others.
  std::vector<float> x(256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.125f * static_cast<float>(static_cast<int>(i % 16) - 8);
  quantize_row(type, x.data(), bytes.data(), 256);
  dequantize_row(type, bytes.data(), y.data(), 256);
  if (type == TensorType::f16 || type == TensorType::bf16 || type == TensorType::q4_0) {
    EXPECT_EQ(y, x);
  }
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 0.07) << i;
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(TensorType::f16, TensorType::bf16, TensorType::q8_0, TensorType::q4_0,
                                           TensorType::q4_k, TensorType::q6_k),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

}  // namespace
}  // namespace pice::kernels
