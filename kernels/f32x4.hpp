#pragma once
// Four floats as one GCC/Clang vector extension value, not an intrinsic: it compiles to SSE on x86-64
// and NEON on ARM64, so the portable float loops (ops.cpp, quant_dot_float.cpp) get SIMD without
// per-CPU code or flags.
#include <cstring>

namespace pice::kernels {

using f32x4 = float __attribute__((vector_size(16)));

inline f32x4 load4(const float* p) {
  f32x4 v;
  std::memcpy(&v, p, sizeof v);   // unaligned load
  return v;
}

}  // namespace pice::kernels
