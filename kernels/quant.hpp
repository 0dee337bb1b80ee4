#pragma once
// Tensor types of weight rows: which ones the engine runs, their sizes, and conversion to and from
// float. These are the plain reference conversions; the fast matmul path is in quant_dot.hpp.
//
// Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K (GGML's layouts, see quant_blocks.hpp).
#include <cstddef>
#include <string>

#include "kernels/gguf_file.hpp"

namespace pice::kernels {

bool is_supported_type(TensorType type);
std::string supported_types_text();   // "f32, f16, bf16, q8_0, q4_0, q4_k, q6_k"

// Bytes of a row of n values (n a multiple of the type's block size).
size_t row_bytes(TensorType type, int n);

// out[0..n) = the n values of a row stored as `type` at src. Throws std::invalid_argument for an
// unsupported type or an n that is not a multiple of the block size.
void dequantize_row(TensorType type, const std::byte* src, float* out, int n);

// The n floats of src encoded as `type` into row_bytes(type, n) bytes at dst. Same throws.
// F16/BF16 round to nearest even; the block types pick their scales from the data of each block.
void quantize_row(TensorType type, const float* src, std::byte* dst, int n);

namespace quant {
// Throws the std::invalid_argument described above, prefixed with `what`.
void check_row(TensorType type, int n, const char* what);
}  // namespace quant

}  // namespace pice::kernels
