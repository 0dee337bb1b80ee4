// The several-rows dot kernels (row_dot_multi) against the one-row kernels they must equal bit for bit
// (so that a token's logits do not depend on its batch), on every path this CPU has, for every row
// count 1..kMaxDotVectors and for odd and even numbers of blocks; and matmul on a thread pool against
// matmul without one.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/ops.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_dot.hpp"
#include "kernels/thread_pool.hpp"

namespace pice::kernels {
namespace {

std::vector<DotPath> available_paths() {
  std::vector<DotPath> paths{DotPath::portable};
  if (dot_path_available(DotPath::avx2)) paths.push_back(DotPath::avx2);
  if (dot_path_available(DotPath::avx512)) paths.push_back(DotPath::avx512);
  return paths;
}

class QuantDotMulti : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantDotMulti, EqualsTheOneRowKernelBitForBit) {
  const TensorType type = GetParam();
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0, 1);
  int kernels_seen = 0;
  for (const int blocks : {1, 2, 3, 18, 49}) {
    const int n = 32 * blocks;
    std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n * kMaxDotVectors));
    for (float& v : w) v = dist(gen) * 0.05f;
    for (float& v : x) v = dist(gen);
    std::vector<std::byte> bytes(row_bytes(type, n));
    quantize_row(type, w.data(), bytes.data(), n);
    QuantizedActivations acts;
    acts.quantize(type, x.data(), n, n, kMaxDotVectors);
    for (const DotPath path : available_paths()) {
      const RowDotMulti multi = row_dot_multi(type, path);
      if (multi == nullptr) continue;
      ++kernels_seen;
      for (int vectors = 1; vectors <= kMaxDotVectors; ++vectors) {
        std::vector<float> out(static_cast<size_t>(vectors * 3), -7.0f);
        multi(bytes.data(), acts.row(0), acts.row_bytes(), vectors, n, out.data(), 3);
        for (int j = 0; j < vectors; ++j) {
          EXPECT_EQ(out[static_cast<size_t>(j * 3)], row_dot(type, path)(bytes.data(), acts.row(j), n))
              << "path " << static_cast<int>(path) << " blocks " << blocks << " vectors " << vectors << " row " << j;
          EXPECT_EQ(out[static_cast<size_t>(j * 3 + 1)], -7.0f) << "wrote outside its slot";
        }
      }
    }
  }
  if (dot_path_available(DotPath::avx2)) {
    EXPECT_GT(kernels_seen, 0) << "x86-64 with AVX2 has multi-row kernels";
  }
}

TEST_P(QuantDotMulti, MatmulOnAPoolEqualsMatmulWithout) {
  const TensorType type = GetParam();
  const int rows = 203, cols = 96;
  std::mt19937 gen(5);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = dist(gen);
  std::vector<std::byte> bytes(row_bytes(type, cols) * rows);
  for (int r = 0; r < rows; ++r)
    quantize_row(type, &w[static_cast<size_t>(r * cols)], bytes.data() + row_bytes(type, cols) * static_cast<size_t>(r), cols);
  const Matrix m{bytes.data(), type, rows, cols};
  ThreadPool pool(3);
  for (const int tokens : {1, 5, 13}) {
    std::vector<float> x(static_cast<size_t>(tokens * cols));
    for (float& v : x) v = dist(gen);
    std::vector<float> alone(static_cast<size_t>(tokens * rows)), pooled(alone.size()), one_by_one(alone.size());
    matmul(alone.data(), rows, m, x.data(), cols, tokens);
    matmul(pooled.data(), rows, m, x.data(), cols, tokens, &pool);
    EXPECT_EQ(alone, pooled) << tokens << " tokens";
    for (int t = 0; t < tokens; ++t)
      matmul(&one_by_one[static_cast<size_t>(t * rows)], rows, m, &x[static_cast<size_t>(t * cols)], cols, 1);
    EXPECT_EQ(alone, one_by_one) << tokens << " tokens: a batched token differs from the same token alone";
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantDotMulti, ::testing::Values(TensorType::q8_0, TensorType::q4_0),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

TEST(FloatDotMulti, F16RowsEqualTheOneRowKernelBitForBit) {
  std::mt19937 gen(13);
  std::normal_distribution<float> dist(0, 1);
  int kernels_seen = 0;
  for (const int n : {8, 40, 100, 576}) {
    const int max_vectors = 9;
    std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n * max_vectors));
    for (float& v : w) v = dist(gen);
    for (float& v : x) v = dist(gen);
    std::vector<std::byte> bytes(row_bytes(TensorType::f16, n));
    quantize_row(TensorType::f16, w.data(), bytes.data(), n);
    for (const DotPath path : available_paths()) {
      const FloatRowDotMulti multi = float_row_dot_multi(TensorType::f16, path);
      if (multi == nullptr) continue;
      ++kernels_seen;
      for (int vectors = 1; vectors <= max_vectors; ++vectors) {
        std::vector<float> out(static_cast<size_t>(vectors * 2), -7.0f);
        multi(bytes.data(), x.data(), static_cast<size_t>(n), vectors, n, out.data(), 2);
        for (int j = 0; j < vectors; ++j) {
          EXPECT_EQ(out[static_cast<size_t>(j * 2)],
                    float_row_dot(TensorType::f16, path)(bytes.data(), &x[static_cast<size_t>(j * n)], n))
              << "path " << static_cast<int>(path) << " n " << n << " vectors " << vectors << " row " << j;
          EXPECT_EQ(out[static_cast<size_t>(j * 2 + 1)], -7.0f) << "wrote outside its slot";
        }
      }
    }
  }
  if (dot_path_available(DotPath::avx2)) {
    EXPECT_GT(kernels_seen, 0);
  }
}

TEST(ThreadPool, RunsEveryIndexOnceOverManyLoops) {
  for (const int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int loop = 0; loop < 200; ++loop) {
      const int count = 1 + loop * 7 % 300;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      pool.for_each(count, 1 + loop % 9, [&](int begin, int end) {
        for (int i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int i = 0; i < count; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i << " loop " << loop;
    }
  }
}

TEST(ThreadPool, LoopsFromSeveralThreadsTakeTurns) {
  ThreadPool pool(2);
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&] {
      for (int loop = 0; loop < 100; ++loop)
        pool.for_each(64, 4, [&](int begin, int end) { total += end - begin; });
    });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 3L * 100 * 64);
}

}  // namespace
}  // namespace pice::kernels
