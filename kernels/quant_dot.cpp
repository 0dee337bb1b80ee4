// Activation quantization and the choice of dot kernel (the kernels are in quant_dot_portable.cpp,
// quant_dot_avx2.cpp, quant_dot_avx512.cpp, quant_dot_neon*.cpp and quant_dot_float*.cpp).
#include "kernels/quant_dot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/quant_dot_kernels.hpp"

#if defined(PICE_HAVE_NEON_KERNELS)
#include <sys/auxv.h>
#endif

namespace pice::kernels {
namespace {

// Round half away from zero by truncation: a plain conversion instruction, not a libm call.
inline int8_t round_to_int8(float v) { return static_cast<int8_t>(static_cast<int>(v + (v >= 0 ? 0.5f : -0.5f))); }

// Symmetric 8-bit: the largest magnitude maps to +-127. Returns the scale. (This runs once per
// matmul input, a few percent of a decode step; the lengths are fixed so that g++ -O2 can vectorise
// at least the sums, which it does.)
template <int N>
float quantize_int8(const float* x, int8_t* q) {
  float amax = 0;
  for (int i = 0; i < N; ++i) {
    const float a = std::fabs(x[i]);
    amax = a > amax ? a : amax;
  }
  const float inv = amax > 0 ? 127 / amax : 0;
  for (int i = 0; i < N; ++i) q[i] = round_to_int8(x[i] * inv);
  return amax / 127;
}

template <int N>
int sum_of(const int8_t* q) {
  int s = 0;
  for (int i = 0; i < N; ++i) s += q[i];
  return s;
}

void quantize_32(const float* x, ActivationQ8_32* out, int n) {
  for (int b = 0; b < n / 32; ++b, x += 32) {
    out[b].d = quantize_int8<32>(x, out[b].q);
    out[b].sum = sum_of<32>(out[b].q);
  }
}

void quantize_256(const float* x, ActivationQ8_256* out, int n) {
  for (int b = 0; b < n / 256; ++b, x += 256) {
    out[b].d = quantize_int8<256>(x, out[b].q);
    for (int g = 0; g < 16; ++g) out[b].sums[g] = static_cast<int16_t>(sum_of<16>(out[b].q + 16 * g));
  }
}

int block_of(TensorType t) { return t == TensorType::q8_0 || t == TensorType::q4_0 ? 32 : 256; }

[[noreturn]] void no_integer_dot(TensorType t, const char* what) {
  throw std::invalid_argument(std::string(what) + ": tensor type " + std::string(tensor_type_name(t)) +
                              " has no integer dot product (q8_0, q4_0, q4_k, q6_k)");
}

bool cpu_has(DotPath path) {
  switch (path) {
    case DotPath::portable:
      return true;
#if defined(PICE_HAVE_AVX2_KERNELS)
    case DotPath::avx2:
    case DotPath::avx512: {
      __builtin_cpu_init();
      const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
      if (path == DotPath::avx2) return avx2;
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
#endif
#if defined(PICE_HAVE_NEON_KERNELS)
    case DotPath::neon:
    case DotPath::neon_dotprod: {
      // The kernel's view of the CPU (qemu-user reports the features of the CPU it emulates).
      const unsigned long hwcap = getauxval(AT_HWCAP);
      const bool neon = (hwcap & HWCAP_ASIMD) != 0;
      return path == DotPath::neon ? neon : neon && (hwcap & HWCAP_ASIMDDP) != 0;
    }
#endif
    default:
      return false;
  }
}

}  // namespace

bool has_integer_dot(TensorType t) {
  return t == TensorType::q8_0 || t == TensorType::q4_0 || t == TensorType::q4_k || t == TensorType::q6_k;
}

void QuantizedActivations::quantize(TensorType weight_type, const float* x, int x_stride, int cols, int n_rows) {
  if (!has_integer_dot(weight_type)) no_integer_dot(weight_type, "QuantizedActivations");
  const int block = block_of(weight_type);
  if (cols <= 0 || cols % block != 0)
    throw std::invalid_argument("QuantizedActivations: " + std::to_string(cols) + " columns are not a multiple of " +
                                std::to_string(block) + " (" + std::string(tensor_type_name(weight_type)) + ")");
  const auto blocks = static_cast<size_t>(cols / block);
  row_bytes_ = blocks * (block == 32 ? sizeof(ActivationQ8_32) : sizeof(ActivationQ8_256));
  // The storage only grows, so a matmul after the first reuses it without allocating.
  if (storage_.size() < row_bytes_ * static_cast<size_t>(n_rows)) storage_.resize(row_bytes_ * static_cast<size_t>(n_rows));
  for (int t = 0; t < n_rows; ++t) {
    const float* row = x + static_cast<size_t>(t) * static_cast<size_t>(x_stride);
    void* out = storage_.data() + static_cast<size_t>(t) * row_bytes_;
    if (block == 32) {
      quantize_32(row, static_cast<ActivationQ8_32*>(out), cols);
    } else {
      quantize_256(row, static_cast<ActivationQ8_256*>(out), cols);
    }
  }
}

const char* dot_path_name(DotPath path) {
  switch (path) {
    case DotPath::portable: return "portable";
    case DotPath::avx2: return "avx2";
    case DotPath::avx512: return "avx512";
    case DotPath::neon: return "neon";
    case DotPath::neon_dotprod: return "neon_dotprod";
  }
  return "unknown";
}

bool dot_path_available(DotPath path) {
  static const std::array<bool, std::size(kDotPaths)> has = [] {
    std::array<bool, std::size(kDotPaths)> h{};
    for (const DotPath p : kDotPaths) h[static_cast<size_t>(p)] = cpu_has(p);
    return h;
  }();
  return has.at(static_cast<size_t>(path));
}

DotPath best_dot_path() {
  static const DotPath best = [] {
    const char* simd = std::getenv("PICE_SIMD");
    const std::string cap = simd != nullptr ? simd : "";
    if (cap == "off") return DotPath::portable;
    // Widest first; a cap leaves out the paths above it in its family.
    for (const DotPath p : {DotPath::avx512, DotPath::avx2, DotPath::neon_dotprod, DotPath::neon}) {
      if ((cap == "avx2" && p == DotPath::avx512) || (cap == "neon" && p == DotPath::neon_dotprod)) continue;
      if (dot_path_available(p)) return p;
    }
    return DotPath::portable;
  }();
  return best;
}

FloatRowDot float_row_dot(TensorType t, DotPath path) {
  if (!dot_path_available(path)) throw std::invalid_argument(std::string("float_row_dot: this CPU has no ") + dot_path_name(path) + " path");
  if (t != TensorType::f32 && t != TensorType::f16 && t != TensorType::bf16)
    throw std::invalid_argument("float_row_dot: tensor type " + std::string(tensor_type_name(t)) +
                                " has no float dot product (f32, f16, bf16)");
#if defined(PICE_HAVE_AVX2_KERNELS)
  if (path == DotPath::avx2 || path == DotPath::avx512)   // AVX-512 has no float kernels of its own: AVX2's are memory-bound already
    return t == TensorType::f32 ? quant::avx2::dot_f32 : t == TensorType::f16 ? quant::avx2::dot_f16 : quant::avx2::dot_bf16;
#endif
#if defined(PICE_HAVE_NEON_KERNELS)
  // The dot-product extension has no float use; F32's portable loop is NEON already (quant_dot_kernels.hpp).
  if ((path == DotPath::neon || path == DotPath::neon_dotprod) && t != TensorType::f32)
    return t == TensorType::f16 ? quant::neon::dot_f16 : quant::neon::dot_bf16;
#endif
  return t == TensorType::f32 ? quant::portable::dot_f32 : t == TensorType::f16 ? quant::portable::dot_f16 : quant::portable::dot_bf16;
}

FloatRowDotMulti float_row_dot_multi(TensorType t, DotPath path) {
  if (!dot_path_available(path)) throw std::invalid_argument(std::string("float_row_dot_multi: this CPU has no ") + dot_path_name(path) + " path");
#if defined(PICE_HAVE_AVX2_KERNELS)
  if (t == TensorType::f16 && path == DotPath::avx512) return quant::avx2::dot_f16_rows_wide;
  if (t == TensorType::f16 && path == DotPath::avx2) return quant::avx2::dot_f16_rows;
#endif
  (void)t;
  return nullptr;
}

RowDotMulti row_dot_multi(TensorType t, DotPath path) {
  if (!dot_path_available(path)) throw std::invalid_argument(std::string("row_dot_multi: this CPU has no ") + dot_path_name(path) + " path");
#if defined(PICE_HAVE_AVX2_KERNELS)
  if (path == DotPath::avx512 && t == TensorType::q8_0) return quant::avx512::dot_q8_0_multi;
  if (path == DotPath::avx512 && t == TensorType::q4_0) return quant::avx512::dot_q4_0_multi;
  if (path != DotPath::portable && t == TensorType::q8_0) return quant::avx2::dot_q8_0_multi;
  if (path != DotPath::portable && t == TensorType::q4_0) return quant::avx2::dot_q4_0_multi;
#endif
  (void)t;
  return nullptr;
}

RowDot row_dot(TensorType t, DotPath path) {
  if (!dot_path_available(path)) throw std::invalid_argument(std::string("row_dot: this CPU has no ") + dot_path_name(path) + " path");
#if defined(PICE_HAVE_AVX2_KERNELS)
  if (path == DotPath::avx512 && t == TensorType::q8_0) return quant::avx512::dot_q8_0;
  if (path == DotPath::avx512 && t == TensorType::q4_0) return quant::avx512::dot_q4_0;
  if (path == DotPath::avx2 || path == DotPath::avx512) {
    switch (t) {
      case TensorType::q8_0: return quant::avx2::dot_q8_0;
      case TensorType::q4_0: return quant::avx2::dot_q4_0;
      case TensorType::q4_k: return quant::avx2::dot_q4_k;
      case TensorType::q6_k: return quant::avx2::dot_q6_k;
      default: no_integer_dot(t, "row_dot");
    }
  }
#endif
#if defined(PICE_HAVE_NEON_KERNELS)
  if (path == DotPath::neon_dotprod) {
    switch (t) {
      case TensorType::q8_0: return quant::neon_dotprod::dot_q8_0;
      case TensorType::q4_0: return quant::neon_dotprod::dot_q4_0;
      case TensorType::q4_k: return quant::neon_dotprod::dot_q4_k;
      case TensorType::q6_k: return quant::neon_dotprod::dot_q6_k;
      default: no_integer_dot(t, "row_dot");
    }
  }
  if (path == DotPath::neon) {
    switch (t) {
      case TensorType::q8_0: return quant::neon::dot_q8_0;
      case TensorType::q4_0: return quant::neon::dot_q4_0;
      case TensorType::q4_k: return quant::neon::dot_q4_k;
      case TensorType::q6_k: return quant::neon::dot_q6_k;
      default: no_integer_dot(t, "row_dot");
    }
  }
#endif
  switch (t) {
    case TensorType::q8_0: return quant::portable::dot_q8_0;
    case TensorType::q4_0: return quant::portable::dot_q4_0;
    case TensorType::q4_k: return quant::portable::dot_q4_k;
    case TensorType::q6_k: return quant::portable::dot_q6_k;
    default: no_integer_dot(t, "row_dot");
  }
}

}  // namespace pice::kernels
