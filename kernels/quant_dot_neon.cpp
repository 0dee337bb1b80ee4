// NEON integer dot kernels for every ARMv8 CPU (ARM64 only: kernels/CMakeLists.txt compiles this file
// for aarch64 alone). ARMv8.0 has no int8 dot instruction: SMULL/SMULL2 form 16 products in 16-bit
// lanes and SADALP adds them in pairs into 32-bit lanes, 4 instructions per 16 byte pairs (the
// dot-product extension does it in 1: quant_dot_neon_dotprod.cpp).
#include "kernels/quant_dot_kernels.hpp"

#if defined(PICE_HAVE_NEON_KERNELS)

#include "kernels/quant_dot_neon_impl.hpp"

namespace pice::kernels::quant::neon {
namespace {

struct WideningDot {
  static int32x4_t step(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
  }
};

}  // namespace

float dot_q8_0(const std::byte* w, const void* x, int n) { return neon_impl::dot_q8_0<WideningDot>(w, x, n); }
float dot_q4_0(const std::byte* w, const void* x, int n) { return neon_impl::dot_q4_0<WideningDot>(w, x, n); }
float dot_q4_k(const std::byte* w, const void* x, int n) { return neon_impl::dot_q4_k<WideningDot>(w, x, n); }
float dot_q6_k(const std::byte* w, const void* x, int n) { return neon_impl::dot_q6_k<WideningDot>(w, x, n); }

}  // namespace pice::kernels::quant::neon

#endif  // PICE_HAVE_NEON_KERNELS
