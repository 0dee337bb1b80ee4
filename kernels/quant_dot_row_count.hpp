#pragma once
// The several-rows kernels are templates on their row count V (1..8), so that their V accumulators
// stay in registers; this turns a run-time count into one of those instantiations.
#include <type_traits>

namespace pice::kernels::quant {

inline constexpr int kMaxRowsPerCall = 8;

// Calls kernel(std::integral_constant<int, V>{}) with V = rows, or kMaxRowsPerCall for larger counts
// (callers hand over at most that many rows per call).
template <class Kernel>
inline void with_row_count(int rows, Kernel&& kernel) {
  switch (rows) {
    case 1: kernel(std::integral_constant<int, 1>{}); break;
    case 2: kernel(std::integral_constant<int, 2>{}); break;
    case 3: kernel(std::integral_constant<int, 3>{}); break;
    case 4: kernel(std::integral_constant<int, 4>{}); break;
    case 5: kernel(std::integral_constant<int, 5>{}); break;
    case 6: kernel(std::integral_constant<int, 6>{}); break;
    case 7: kernel(std::integral_constant<int, 7>{}); break;
    default: kernel(std::integral_constant<int, kMaxRowsPerCall>{}); break;
  }
}

}  // namespace pice::kernels::quant
