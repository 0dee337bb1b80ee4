#pragma once
// The per-type row dot kernels behind row_dot() (quant_dot.hpp): internal to the quant_dot files.
#include <cstddef>

namespace pice::kernels::quant {

// Portable C++ (quant_dot_portable.cpp, quant_dot_float.cpp).
namespace portable {
float dot_f32(const std::byte* weights, const float* x, int n);
float dot_f16(const std::byte* weights, const float* x, int n);
float dot_bf16(const std::byte* weights, const float* x, int n);
float dot_q8_0(const std::byte* weights, const void* activations, int n);
float dot_q4_0(const std::byte* weights, const void* activations, int n);
float dot_q4_k(const std::byte* weights, const void* activations, int n);
float dot_q6_k(const std::byte* weights, const void* activations, int n);
}  // namespace portable

#if defined(__x86_64__)
#define PICE_HAVE_AVX2_KERNELS 1
// AVX2 + FMA + F16C (quant_dot_avx2.cpp, quant_dot_float_avx2.cpp); call only when the CPU has them.
namespace avx2 {
float dot_f32(const std::byte* weights, const float* x, int n);
float dot_f16(const std::byte* weights, const float* x, int n);
float dot_bf16(const std::byte* weights, const float* x, int n);
float dot_q8_0(const std::byte* weights, const void* activations, int n);
float dot_q4_0(const std::byte* weights, const void* activations, int n);
float dot_q4_k(const std::byte* weights, const void* activations, int n);
float dot_q6_k(const std::byte* weights, const void* activations, int n);
void dot_q8_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n, float* out,
                    size_t out_stride);
void dot_q4_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n, float* out,
                    size_t out_stride);
void dot_f16_rows(const std::byte* weights, const float* x, size_t x_stride, int vectors, int n, float* out,
                  size_t out_stride);
// The same with AVX-512VL's 32 registers (four rows at a time); call only when the CPU has AVX-512 F and VL.
void dot_f16_rows_wide(const std::byte* weights, const float* x, size_t x_stride, int vectors, int n, float* out,
                       size_t out_stride);
}  // namespace avx2

// AVX-512 F/BW/VL/VNNI (quant_dot_avx512.cpp): the 32-blocks; call only when the CPU has them.
namespace avx512 {
float dot_q8_0(const std::byte* weights, const void* activations, int n);
float dot_q4_0(const std::byte* weights, const void* activations, int n);
void dot_q8_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n, float* out,
                    size_t out_stride);
void dot_q4_0_multi(const std::byte* weights, const void* activations, size_t stride, int vectors, int n, float* out,
                    size_t out_stride);
}  // namespace avx512
#endif

#if defined(__aarch64__)
#define PICE_HAVE_NEON_KERNELS 1
// ARMv8 NEON (quant_dot_neon.cpp, quant_dot_float_neon.cpp): every ARM64 CPU has it. F32 uses the
// portable kernel, which g++ compiles to NEON already.
namespace neon {
float dot_f16(const std::byte* weights, const float* x, int n);
float dot_bf16(const std::byte* weights, const float* x, int n);
float dot_q8_0(const std::byte* weights, const void* activations, int n);
float dot_q4_0(const std::byte* weights, const void* activations, int n);
float dot_q4_k(const std::byte* weights, const void* activations, int n);
float dot_q6_k(const std::byte* weights, const void* activations, int n);
}  // namespace neon

// NEON with the ARMv8.2 dot-product extension (quant_dot_neon_dotprod.cpp): the integer kernels; call
// only when the CPU has it. The float types use the NEON kernels on this path.
namespace neon_dotprod {
float dot_q8_0(const std::byte* weights, const void* activations, int n);
float dot_q4_0(const std::byte* weights, const void* activations, int n);
float dot_q4_k(const std::byte* weights, const void* activations, int n);
float dot_q6_k(const std::byte* weights, const void* activations, int n);
}  // namespace neon_dotprod
#endif

}  // namespace pice::kernels::quant
