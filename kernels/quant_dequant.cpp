// Reference dequantization: one plain loop per type, written to be read against the layout comments
// in quant_blocks.hpp. Used for embedding lookups and by the tests as the meaning of each format.
#include <cstring>
#include <stdexcept>

#include "kernels/fp16.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_blocks.hpp"

namespace pice::kernels {
namespace {

using namespace quant;

template <class Block>
const Block* blocks_at(const std::byte* src) {
  // Blocks are read in place from the mapped file; their members are all naturally aligned to at most
  // 2 bytes, and tensor data offsets are multiples of the file alignment (32).
  return reinterpret_cast<const Block*>(src);
}

void dequantize_q8_0(const std::byte* src, float* out, int n) {
  const BlockQ8_0* b = blocks_at<BlockQ8_0>(src);
  for (int i = 0; i < n / kBlock32; ++i, out += kBlock32) {
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void dequantize_q4_0(const std::byte* src, float* out, int n) {
  const BlockQ4_0* b = blocks_at<BlockQ4_0>(src);
  for (int i = 0; i < n / kBlock32; ++i, out += kBlock32) {
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < 16; ++j) {
      out[j] = d * static_cast<float>((b[i].qs[j] & 0x0f) - 8);
      out[j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_k(const std::byte* src, float* out, int n) {
  const BlockQ4K* b = blocks_at<BlockQ4K>(src);
  for (int i = 0; i < n / kBlock256; ++i, out += kBlock256) {
    const float d = half_to_float(b[i].d), dmin = half_to_float(b[i].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t scale, min;
      scale_min_k4(b[i].scales, s, scale, min);
      const uint8_t* q = b[i].qs + 32 * (s / 2);   // chunk s / 2, low nibbles for even s
      const int shift = (s % 2) * 4;
      for (int l = 0; l < 32; ++l)
        out[32 * s + l] = d * scale * static_cast<float>((q[l] >> shift) & 0x0f) - dmin * min;
    }
  }
}

void dequantize_q6_k(const std::byte* src, float* out, int n) {
  const BlockQ6K* b = blocks_at<BlockQ6K>(src);
  for (int i = 0; i < n / kBlock256; ++i, out += kBlock256) {
    const float d = half_to_float(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      float* y = out + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q[4] = {
            (ql[l] & 0x0f) | ((qh[l] & 0x03) << 4),
            (ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 0x03) << 4),
            (ql[l] >> 4) | (((qh[l] >> 4) & 0x03) << 4),
            (ql[l + 32] >> 4) | (((qh[l] >> 6) & 0x03) << 4),
        };
        for (int k = 0; k < 4; ++k) {
          const int v = 128 * h + l + 32 * k;   // position in the super-block
          y[l + 32 * k] = d * b[i].scales[v / 16] * static_cast<float>(q[k] - 32);
        }
      }
    }
  }
}

}  // namespace

bool is_supported_type(TensorType type) {
  switch (type) {
    case TensorType::f32: case TensorType::f16: case TensorType::bf16: case TensorType::q8_0:
    case TensorType::q4_0: case TensorType::q4_k: case TensorType::q6_k: return true;
    default: return false;
  }
}

std::string supported_types_text() { return "f32, f16, bf16, q8_0, q4_0, q4_k, q6_k"; }

size_t row_bytes(TensorType type, int n) {
  const uint64_t block = tensor_type_block_elements(type);
  return static_cast<size_t>(static_cast<uint64_t>(n) / block * tensor_type_block_bytes(type));
}

void quant::check_row(TensorType type, int n, const char* what) {
  if (!is_supported_type(type))
    throw std::invalid_argument(std::string(what) + ": tensor type " + std::string(tensor_type_name(type)) +
                                " is not supported (" + supported_types_text() + ")");
  const auto block = static_cast<int>(tensor_type_block_elements(type));
  if (n < 0 || n % block != 0)
    throw std::invalid_argument(std::string(what) + ": a row of " + std::to_string(n) + " values is not a multiple of the " +
                                std::string(tensor_type_name(type)) + " block size " + std::to_string(block));
}

void dequantize_row(TensorType type, const std::byte* src, float* out, int n) {
  check_row(type, n, "dequantize_row");
  switch (type) {
    case TensorType::f32:
      std::memcpy(out, src, sizeof(float) * static_cast<size_t>(n));
      return;
    case TensorType::f16: {
      const auto* h = reinterpret_cast<const uint16_t*>(src);
      for (int i = 0; i < n; ++i) out[i] = half_to_float(h[i]);
      return;
    }
    case TensorType::bf16: {
      const auto* h = reinterpret_cast<const uint16_t*>(src);
      for (int i = 0; i < n; ++i) out[i] = bf16_to_float(h[i]);
      return;
    }
    case TensorType::q8_0: return dequantize_q8_0(src, out, n);
    case TensorType::q4_0: return dequantize_q4_0(src, out, n);
    case TensorType::q4_k: return dequantize_q4_k(src, out, n);
    case TensorType::q6_k: return dequantize_q6_k(src, out, n);
    default: return;   // excluded by check_row
  }
}

}  // namespace pice::kernels
