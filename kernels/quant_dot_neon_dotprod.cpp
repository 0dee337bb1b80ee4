// NEON integer dot kernels with the ARMv8.2 dot-product extension (SDOT: 16 int8 products summed in
// fours into 32-bit lanes, one instruction). ARM64 only; called only when the CPU reports the
// extension (HWCAP_ASIMDDP, quant_dot.cpp). Only the kernel templates are compiled for the extension:
// every header they use is included above the target pragma, so inline functions shared with other
// files (quant_blocks.hpp, the standard library) never carry an instruction an older CPU lacks.
#include "kernels/quant_dot_kernels.hpp"

#if defined(PICE_HAVE_NEON_KERNELS)

#include <arm_neon.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_dot.hpp"

#pragma GCC target("arch=armv8.2-a+dotprod")
#include "kernels/quant_dot_neon_impl.hpp"

namespace pice::kernels::quant::neon_dotprod {
namespace {

struct SdotDot {
  static int32x4_t step(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
};

}  // namespace

float dot_q8_0(const std::byte* w, const void* x, int n) { return neon_impl::dot_q8_0<SdotDot>(w, x, n); }
float dot_q4_0(const std::byte* w, const void* x, int n) { return neon_impl::dot_q4_0<SdotDot>(w, x, n); }
float dot_q4_k(const std::byte* w, const void* x, int n) { return neon_impl::dot_q4_k<SdotDot>(w, x, n); }
float dot_q6_k(const std::byte* w, const void* x, int n) { return neon_impl::dot_q6_k<SdotDot>(w, x, n); }

}  // namespace pice::kernels::quant::neon_dotprod

#endif  // PICE_HAVE_NEON_KERNELS
