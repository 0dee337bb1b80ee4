#pragma once
// Fast dot products of quantized weight rows with activation rows, as llama.cpp computes them: the
// activation row is quantized once per matmul to 8-bit blocks (QuantizedActivations), and every
// weight row's dot product with it is then computed in integers, block by block, with the block
// scales applied once per block.
//
//   weight type    activation blocks
//   q8_0, q4_0     32 int8 + float scale + their sum           (ActivationQ8_32)
//   q4_k, q6_k     256 int8 + float scale + sums of each 16    (ActivationQ8_256)
//
// F32, F16 and BF16 rows have float dots instead (float_row_dot). Each kernel has a portable C++
// implementation (builds everywhere) and per CPU family SIMD ones: on x86-64 AVX2 (and AVX-512 VNNI
// for Q8_0 and Q4_0), on ARM64 NEON (and the dot-product extension for the integer dots); the widest
// the CPU has is picked at run time (best_dot_path).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/gguf_file.hpp"

namespace pice::kernels {

struct ActivationQ8_32 {
  float d;        // value = d * q
  int32_t sum;    // sum of q (lets an offset format like Q4_0 subtract its offset once per block)
  int8_t q[32];
};

struct ActivationQ8_256 {
  float d;
  int16_t sums[16];   // sum of q over each group of 16
  int8_t q[256];
};

// True for the block types whose matmul runs on quantized activations (q8_0, q4_0, q4_k, q6_k).
bool has_integer_dot(TensorType weight_type);

// Activation rows quantized for the dot product of one weight type.
class QuantizedActivations {
 public:
  // Quantizes n_rows rows of `cols` values, row t at x + t * x_stride. cols must be a multiple of
  // the weight type's block size (std::invalid_argument otherwise, or for a type without an integer dot).
  void quantize(TensorType weight_type, const float* x, int x_stride, int cols, int n_rows);
  const void* row(int t) const { return storage_.data() + static_cast<size_t>(t) * row_bytes_; }
  size_t row_bytes() const { return row_bytes_; }

 private:
  std::vector<std::byte> storage_;
  size_t row_bytes_ = 0;
};

// avx512: AVX-512 VNNI kernels for Q8_0 and Q4_0, the AVX2 ones for the other types (x86-64).
// neon_dotprod: SDOT kernels for the integer dots, the NEON ones for the float types (ARM64).
enum class DotPath { portable, avx2, avx512, neon, neon_dotprod };
inline constexpr DotPath kDotPaths[] = {DotPath::portable, DotPath::avx2, DotPath::avx512, DotPath::neon,
                                        DotPath::neon_dotprod};
// The widest path the CPU has (AVX2 needs AVX2, FMA and F16C; avx512 also AVX-512 F, BW, VL and
// VNNI; neon needs ASIMD, neon_dotprod also ASIMDDP, from the kernel's HWCAP), capped by the
// environment variable PICE_SIMD ("off": portable, "avx2": at most AVX2, "neon": NEON without the
// dot-product extension); decided once per process.
DotPath best_dot_path();
bool dot_path_available(DotPath path);
const char* dot_path_name(DotPath path);   // "portable", "avx2", "avx512", "neon", "neon_dotprod"

// The dot product of one F32, F16 or BF16 weight row with a float row (no activation quantization;
// F16/BF16 are widened in registers).
using FloatRowDot = float (*)(const std::byte* weights, const float* x, int n);
// std::invalid_argument for another type or a path this CPU lacks.
FloatRowDot float_row_dot(TensorType weight_type, DotPath path = best_dot_path());

// The dot products of one F16 weight row with `vectors` float rows (row j at x + j * x_stride) into
// out[j * out_stride], each equal bit for bit to float_row_dot's; any number of rows. nullptr for
// other types and the portable path.
using FloatRowDotMulti = void (*)(const std::byte* weights, const float* x, size_t x_stride, int vectors, int n,
                                  float* out, size_t out_stride);
FloatRowDotMulti float_row_dot_multi(TensorType weight_type, DotPath path = best_dot_path());

// The dot product of one weight row (n values of the type) with one quantized activation row.
using RowDot = float (*)(const std::byte* weights, const void* activations, int n);
// std::invalid_argument for a type without an integer dot or a path this CPU lacks.
RowDot row_dot(TensorType weight_type, DotPath path = best_dot_path());

// The dot products of one weight row with `vectors` (1..kMaxDotVectors) quantized activation rows,
// row j at activations + j * stride bytes, into out[j * out_stride]. Each weight block is loaded and
// unpacked once for all the rows: the weight reuse that makes prefill and batched decode cheaper per
// token than single decode. Every result equals row_dot's for the same inputs bit for bit (the same
// operations in the same order), so a sequence's tokens do not depend on what else is in its batch.
using RowDotMulti = void (*)(const std::byte* weights, const void* activations, size_t stride, int vectors, int n,
                             float* out, size_t out_stride);
constexpr int kMaxDotVectors = 8;
// nullptr where no such kernel exists (then call the RowDot once per row).
RowDotMulti row_dot_multi(TensorType weight_type, DotPath path = best_dot_path());

}  // namespace pice::kernels
