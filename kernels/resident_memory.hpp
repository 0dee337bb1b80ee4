#pragma once
// The process's resident memory (RSS): what a loaded model really costs, as opposed to its file size
// (a mapped model that the kernel has evicted from the page cache is not resident).
#include <cstdint>

namespace pice::kernels {

// Bytes resident now, from /proc/self/statm; 0 where that file does not exist (not Linux).
uint64_t resident_bytes();

}  // namespace pice::kernels
