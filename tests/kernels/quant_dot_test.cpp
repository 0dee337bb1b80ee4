// The fast dot products (every path this CPU has: portable, AVX2, AVX-512, NEON, NEON with the
// dot-product extension) against references built from the reference dequantization, over many random rows:
//  - against dequantized weights times the *quantized* activations, computed in double: the kernels
//    must agree to float rounding (a layout or offset mistake is off by far more);
//  - against dequantized weights times the original float activations: within the bound that the
//    8-bit rounding of the activations allows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_dot.hpp"

namespace pice::kernels {
namespace {

int block_of(TensorType t) { return t == TensorType::q8_0 || t == TensorType::q4_0 ? 32 : 256; }

// The activation row as the kernels see it: value i = d * q[i] of its block.
std::vector<double> activation_values(TensorType t, const void* row, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    if (block_of(t) == 32) {
      const auto& b = static_cast<const ActivationQ8_32*>(row)[i / 32];
      v[static_cast<size_t>(i)] = static_cast<double>(b.d) * b.q[i % 32];
    } else {
      const auto& b = static_cast<const ActivationQ8_256*>(row)[i / 256];
      v[static_cast<size_t>(i)] = static_cast<double>(b.d) * b.q[i % 256];
    }
  }
  return v;
}

std::vector<DotPath> available_paths() {
  std::vector<DotPath> paths;
  for (const DotPath p : kDotPaths)
    if (dot_path_available(p)) paths.push_back(p);
  return paths;
}

const char* path_name(DotPath p) { return dot_path_name(p); }

class QuantDot : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantDot, MatchesTheReferenceOnManyRandomRows) {
  const TensorType type = GetParam();
  const int block = block_of(type);
  std::mt19937 gen(7);
  std::normal_distribution<float> weight(0, 0.05f), activation(0, 1);
  std::uniform_int_distribution<int> blocks(1, 2048 / block);
  QuantizedActivations acts;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = block * blocks(gen);
    std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n)), wd(static_cast<size_t>(n));
    for (float& v : w) v = weight(gen);
    // Some rows with a large activation outlier or a constant offset, as real hidden states have.
    for (float& v : x) v = activation(gen) + (trial % 3 == 1 ? 2.0f : 0.0f);
    if (trial % 3 == 2) x[static_cast<size_t>(trial % n)] = 40;
    std::vector<std::byte> bytes(row_bytes(type, n));
    quantize_row(type, w.data(), bytes.data(), n);
    dequantize_row(type, bytes.data(), wd.data(), n);
    acts.quantize(type, x.data(), n, n, 1);
    const std::vector<double> xq = activation_values(type, acts.row(0), n);

    double exact = 0, magnitude = 0, with_floats = 0, rounding_bound = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      exact += wd[i] * xq[i];
      magnitude += std::fabs(wd[i] * xq[i]);
      with_floats += static_cast<double>(wd[i]) * x[i];
      // Each activation is off by at most half its block's step, amax / 254.
      const size_t b0 = i / static_cast<size_t>(block) * static_cast<size_t>(block);
      float amax = 0;
      for (size_t j = b0; j < b0 + static_cast<size_t>(block); ++j) amax = std::max(amax, std::fabs(x[j]));
      rounding_bound += std::fabs(wd[i]) * amax / 254 * 1.0001;
    }
    for (const DotPath path : available_paths()) {
      const double got = row_dot(type, path)(bytes.data(), acts.row(0), n);
      ASSERT_NEAR(got, exact, 2e-6 * magnitude + 1e-6) << path_name(path) << " trial " << trial << " n=" << n;
      ASSERT_NEAR(got, with_floats, rounding_bound + 2e-6 * magnitude + 1e-6) << path_name(path) << " trial " << trial;
    }
  }
}

TEST_P(QuantDot, PathsAgreeOnExtremeBlocks) {
  // Weights at the ends of their ranges and activations of +-127: the largest partial sums a
  // kernel's integer lanes have to hold.
  const TensorType type = GetParam();
  const int n = 1024;
  std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    w[static_cast<size_t>(i)] = (i % 7 == 3) ? -1.0f : 1.0f;
    x[static_cast<size_t>(i)] = (i % 5 == 0) ? -1.0f : 1.0f;
  }
  std::vector<std::byte> bytes(row_bytes(type, n));
  quantize_row(type, w.data(), bytes.data(), n);
  std::vector<float> wd(static_cast<size_t>(n));
  dequantize_row(type, bytes.data(), wd.data(), n);
  QuantizedActivations acts;
  acts.quantize(type, x.data(), n, n, 1);
  double expected = 0;
  for (int i = 0; i < n; ++i) expected += static_cast<double>(wd[static_cast<size_t>(i)]) * x[static_cast<size_t>(i)];
  for (const DotPath path : available_paths())
    EXPECT_NEAR(row_dot(type, path)(bytes.data(), acts.row(0), n), expected, 1e-3 * n) << path_name(path);
}

TEST_P(QuantDot, MatmulOverATokenBatchMatchesRowByRowDots) {
  const TensorType type = GetParam();
  const int rows = 5, cols = 2 * block_of(type) * 2, tokens = 3;
  std::mt19937 gen(3);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(tokens * (cols + 8)));
  for (float& v : w) v = dist(gen);
  for (float& v : x) v = dist(gen);
  std::vector<std::byte> bytes(row_bytes(type, cols) * rows);
  for (int r = 0; r < rows; ++r)
    quantize_row(type, &w[static_cast<size_t>(r * cols)], bytes.data() + row_bytes(type, cols) * static_cast<size_t>(r), cols);
  const Matrix m{bytes.data(), type, rows, cols};
  std::vector<float> out(static_cast<size_t>(tokens * (rows + 1)), -1.0f);
  matmul(out.data(), rows + 1, m, x.data(), cols + 8, tokens);   // strides wider than the rows
  for (int t = 0; t < tokens; ++t) {
    QuantizedActivations one;
    one.quantize(type, &x[static_cast<size_t>(t * (cols + 8))], cols, cols, 1);
    for (int r = 0; r < rows; ++r)
      EXPECT_EQ(out[static_cast<size_t>(t * (rows + 1) + r)], row_dot(type)(m.row(r), one.row(0), cols)) << t << "," << r;
    EXPECT_EQ(out[static_cast<size_t>(t * (rows + 1) + rows)], -1.0f) << "wrote past the row";
  }
  // And the row lookup (embeddings) dequantizes the right row.
  std::vector<float> row(static_cast<size_t>(cols)), expected(static_cast<size_t>(cols));
  matrix_row(row.data(), m, 3);
  dequantize_row(type, bytes.data() + 3 * row_bytes(type, cols), expected.data(), cols);
  EXPECT_EQ(row, expected);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantDot,
                         ::testing::Values(TensorType::q8_0, TensorType::q4_0, TensorType::q4_k, TensorType::q6_k),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

TEST(QuantDot, FloatDotsOfF32F16Bf16MatchDoublePrecision) {
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0, 1);
  for (const TensorType type : {TensorType::f32, TensorType::f16, TensorType::bf16}) {
    // Lengths with every kind of tail: whole 32-chunks, 8-steps, and single values.
    for (const int n : {1, 7, 8, 31, 32, 33, 64, 100, 576, 1000, 1536}) {
      std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n)), wd(static_cast<size_t>(n));
      for (float& v : w) v = dist(gen);
      for (float& v : x) v = dist(gen);
      std::vector<std::byte> bytes(row_bytes(type, n));
      quantize_row(type, w.data(), bytes.data(), n);
      dequantize_row(type, bytes.data(), wd.data(), n);
      double expected = 0, magnitude = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        expected += static_cast<double>(wd[i]) * x[i];
        magnitude += std::fabs(static_cast<double>(wd[i]) * x[i]);
      }
      for (const DotPath path : available_paths())
        EXPECT_NEAR(float_row_dot(type, path)(bytes.data(), x.data(), n), expected, 1e-6 * magnitude + 1e-7)
            << tensor_type_name(type) << " n=" << n << " " << path_name(path);
    }
  }
  EXPECT_THROW(float_row_dot(TensorType::q8_0), std::invalid_argument);
}

// Which paths a CPU offers, as far as this process can know it: every ARM64 CPU has NEON, and under
// qemu-user (QEMU_CPU) the dot-product extension follows the emulated model. The best path is the
// widest one the PICE_SIMD cap allows.
TEST(QuantDot, OffersThePathsOfThisCpuAndPicksTheWidestUnderTheCap) {
  const char* cap_env = std::getenv("PICE_SIMD");
  const std::string cap = cap_env != nullptr ? cap_env : "";
  EXPECT_TRUE(dot_path_available(DotPath::portable));
#if defined(__aarch64__)
  EXPECT_TRUE(dot_path_available(DotPath::neon));
  EXPECT_FALSE(dot_path_available(DotPath::avx2));
  const char* qemu_cpu_env = std::getenv("QEMU_CPU");
  const std::string qemu_cpu = qemu_cpu_env != nullptr ? qemu_cpu_env : "";
  if (qemu_cpu == "max") {
    EXPECT_TRUE(dot_path_available(DotPath::neon_dotprod));
  }
  if (qemu_cpu == "cortex-a53" || qemu_cpu == "cortex-a57" || qemu_cpu == "cortex-a72") {
    EXPECT_FALSE(dot_path_available(DotPath::neon_dotprod)) << qemu_cpu << " is ARMv8.0: no SDOT";
  }
  const DotPath widest = dot_path_available(DotPath::neon_dotprod) && cap != "neon" ? DotPath::neon_dotprod : DotPath::neon;
#elif defined(__x86_64__)
  EXPECT_FALSE(dot_path_available(DotPath::neon));
  EXPECT_FALSE(dot_path_available(DotPath::neon_dotprod));
  const DotPath widest = dot_path_available(DotPath::avx512) && cap != "avx2" ? DotPath::avx512
                         : dot_path_available(DotPath::avx2)                  ? DotPath::avx2
                                                                              : DotPath::portable;
#else
  const DotPath widest = DotPath::portable;
#endif
  EXPECT_EQ(dot_path_name(best_dot_path()), std::string(dot_path_name(cap == "off" ? DotPath::portable : widest)));
  for (const DotPath p : kDotPaths) {
    if (dot_path_available(p)) continue;
    EXPECT_THROW(row_dot(TensorType::q8_0, p), std::invalid_argument) << dot_path_name(p);
    EXPECT_THROW(float_row_dot(TensorType::f16, p), std::invalid_argument) << dot_path_name(p);
  }
}

TEST(QuantDot, ActivationBlocksCarryTheirSums) {
  std::vector<float> x(512);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 3;
  QuantizedActivations acts;
  acts.quantize(TensorType::q6_k, x.data(), 512, 512, 1);
  const auto* b = static_cast<const ActivationQ8_256*>(acts.row(0));
  for (int blk = 0; blk < 2; ++blk) {
    int peak = 0;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) {
        sum += b[blk].q[16 * g + i];
        peak = std::max(peak, std::abs(static_cast<int>(b[blk].q[16 * g + i])));
      }
      EXPECT_EQ(b[blk].sums[g], sum);
    }
    EXPECT_EQ(peak, 127);   // the largest magnitude of the block maps to 127
  }
  acts.quantize(TensorType::q4_0, x.data(), 512, 512, 1);
  const auto* c = static_cast<const ActivationQ8_32*>(acts.row(0));
  int sum = 0;
  for (int i = 0; i < 32; ++i) sum += c[5].q[i];
  EXPECT_EQ(c[5].sum, sum);
  EXPECT_THROW(acts.quantize(TensorType::f16, x.data(), 512, 512, 1), std::invalid_argument);
  EXPECT_THROW(acts.quantize(TensorType::q4_k, x.data(), 100, 100, 1), std::invalid_argument);
  EXPECT_THROW(row_dot(TensorType::f32), std::invalid_argument);
}

}  // namespace
}  // namespace pice::kernels
