// Known bytes -> known values for every quantized type: blocks written out byte by byte from the
// GGML format description (not through our quantizers), so a layout mistake cannot pass by symmetry
// (a quantizer and dequantizer that agree with each other but not with the format).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/quant.hpp"

namespace pice::kernels {
namespace {

// Halves used as scales below, exact in both formats.
constexpr uint8_t kHalfOne[2] = {0x00, 0x3c};    // 1.0
constexpr uint8_t kHalfHalf[2] = {0x00, 0x38};   // 0.5
constexpr uint8_t kHalfTwo[2] = {0x00, 0x40};    // 2.0
constexpr uint8_t kHalfQuarter[2] = {0x00, 0x34};  // 0.25

std::vector<float> dequantized(TensorType type, const std::vector<uint8_t>& bytes, int n) {
  EXPECT_EQ(bytes.size(), row_bytes(type, n)) << tensor_type_name(type);
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(type, reinterpret_cast<const std::byte*>(bytes.data()), out.data(), n);
  return out;
}

TEST(QuantLayout, Q8_0IsAHalfScaleThen32SignedBytes) {
  std::vector<uint8_t> bytes = {kHalfHalf[0], kHalfHalf[1]};
  for (int j = 0; j < 32; ++j) bytes.push_back(static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128)));
  // A second block, scale 2, all -1: blocks follow each other with no padding.
  bytes.push_back(kHalfTwo[0]);
  bytes.push_back(kHalfTwo[1]);
  for (int j = 0; j < 32; ++j) bytes.push_back(0xff);
  const std::vector<float> v = dequantized(TensorType::q8_0, bytes, 64);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(v[static_cast<size_t>(j)], 0.5f * static_cast<float>(j * 8 - 128)) << j;
  for (int j = 32; j < 64; ++j) EXPECT_EQ(v[static_cast<size_t>(j)], -2.0f) << j;
}

TEST(QuantLayout, Q4_0KeepsValues0To15InLowNibblesAnd16To31InHighNibbles) {
  std::vector<uint8_t> bytes = {kHalfTwo[0], kHalfTwo[1]};
  // Byte j: low nibble j, high nibble 15 - j.
  for (int j = 0; j < 16; ++j) bytes.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
  const std::vector<float> v = dequantized(TensorType::q4_0, bytes, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(v[static_cast<size_t>(j)], 2.0f * static_cast<float>(j - 8)) << j;
    EXPECT_EQ(v[static_cast<size_t>(j + 16)], 2.0f * static_cast<float>(7 - j)) << j + 16;
  }
}

TEST(QuantLayout, Q4_KPacksSixBitScalesAndMinsIntoTwelveBytes) {
  // Sub-block scales and mins; those of sub-blocks 4-7 are >= 16 so that their top two bits are used.
  const int sc[8] = {1, 2, 3, 4, 17, 33, 49, 63};
  const int mn[8] = {5, 6, 7, 8, 18, 34, 50, 62};
  std::vector<uint8_t> bytes = {kHalfOne[0], kHalfOne[1], kHalfHalf[0], kHalfHalf[1]};   // d = 1, dmin = 0.5
  // Bytes 0-3: scale s in the low 6 bits, top 2 bits of scale s+4 above; 4-7: the same for the mins;
  // 8-11: low 4 bits of scale s+4 | low 4 bits of min s+4 << 4. Written out by hand:
  const std::vector<uint8_t> scales = {0x41, 0x82, 0xc3, 0xc4, 0x45, 0x86, 0xc7, 0xc8, 0x21, 0x21, 0x21, 0xef};
  bytes.insert(bytes.end(), scales.begin(), scales.end());
  // Value v's 4-bit quant is q(v) = (v * 7 + 3) % 16. Chunk c (64 values) is 32 bytes: byte l holds
  // value 64c + l in its low nibble and value 64c + 32 + l in its high nibble.
  const auto q = [](int v) { return (v * 7 + 3) % 16; };
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) bytes.push_back(static_cast<uint8_t>(q(64 * c + l) | (q(64 * c + 32 + l) << 4)));
  const std::vector<float> v = dequantized(TensorType::q4_k, bytes, 256);
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32;
    EXPECT_EQ(v[static_cast<size_t>(i)], 1.0f * static_cast<float>(sc[s] * q(i)) - 0.5f * static_cast<float>(mn[s]))
        << "value " << i << " (sub-block " << s << ")";
  }
}

TEST(QuantLayout, Q6_KSplitsSixBitsIntoLowNibblesAndTwoBitPairs) {
  // 6-bit quant of value v: u(v) = (v * 5 + 1) % 64 (stored), value = d * scale[v / 16] * (u - 32).
  const auto u = [](int v) { return (v * 5 + 1) % 64; };
  std::vector<uint8_t> ql(128), qh(64);
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int b = 128 * h;   // half h covers values b .. b + 127
      ql[static_cast<size_t>(64 * h + l)] = static_cast<uint8_t>((u(b + l) & 15) | ((u(b + l + 64) & 15) << 4));
      ql[static_cast<size_t>(64 * h + l + 32)] = static_cast<uint8_t>((u(b + l + 32) & 15) | ((u(b + l + 96) & 15) << 4));
      qh[static_cast<size_t>(32 * h + l)] = static_cast<uint8_t>((u(b + l) >> 4) | ((u(b + l + 32) >> 4) << 2) |
                                                                 ((u(b + l + 64) >> 4) << 4) | ((u(b + l + 96) >> 4) << 6));
    }
  const int8_t scale[16] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 127, -128};
  std::vector<uint8_t> bytes(ql);
  bytes.insert(bytes.end(), qh.begin(), qh.end());
  for (const int8_t s : scale) bytes.push_back(static_cast<uint8_t>(s));
  bytes.push_back(kHalfQuarter[0]);   // d = 0.25, the last two bytes of the block
  bytes.push_back(kHalfQuarter[1]);
  const std::vector<float> v = dequantized(TensorType::q6_k, bytes, 256);
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(v[static_cast<size_t>(i)], 0.25f * static_cast<float>(scale[i / 16] * (u(i) - 32))) << "value " << i;
}

TEST(QuantLayout, Bf16IsTheTopHalfOfAFloat) {
  const std::vector<uint8_t> bytes = {0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40, 0x80, 0x7f};   // 1, -2, 3.140625, inf
  const std::vector<float> v = dequantized(TensorType::bf16, bytes, 4);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 3.140625f);
  EXPECT_TRUE(std::isinf(v[3]));
  // Encoding rounds to nearest even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> 1.
  std::vector<std::byte> out(4);
  const float in[2] = {1.0f + 0x1.0p-8f, 1.0f + 3 * 0x1.0p-8f};
  quantize_row(TensorType::bf16, in, out.data(), 2);
  EXPECT_EQ(std::to_integer<int>(out[0]), 0x80);
  EXPECT_EQ(std::to_integer<int>(out[1]), 0x3f);
  EXPECT_EQ(std::to_integer<int>(out[2]), 0x82);   // 1 + 3 * 2^-8 -> 1 + 2 * 2^-7 (tie, to even)
  EXPECT_EQ(std::to_integer<int>(out[3]), 0x3f);
}

TEST(QuantLayout, SizesMatchGgml) {
  EXPECT_EQ(row_bytes(TensorType::q8_0, 64), 68u);
  EXPECT_EQ(row_bytes(TensorType::q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(TensorType::q4_k, 512), 288u);
  EXPECT_EQ(row_bytes(TensorType::q6_k, 512), 420u);
  EXPECT_EQ(row_bytes(TensorType::bf16, 10), 20u);
}

TEST(QuantLayout, OtherTypesAndBadLengthsAreRejectedByName) {
  float values[256] = {};
  std::byte bytes[1024] = {};
  for (const TensorType t : {TensorType::q4_1, TensorType::q5_0, TensorType::q5_k, TensorType::q2_k}) {
    EXPECT_FALSE(is_supported_type(t));
    try {
      dequantize_row(t, bytes, values, 256);
      FAIL() << "no error for " << tensor_type_name(t);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string(tensor_type_name(t)) + " is not supported"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(quantize_row(t, values, bytes, 256), std::invalid_argument);
  }
  EXPECT_THROW(dequantize_row(TensorType::q4_k, bytes, values, 128), std::invalid_argument);
  EXPECT_THROW(quantize_row(TensorType::q8_0, values, bytes, 48), std::invalid_argument);
}

}  // namespace
}  // namespace pice::kernels
