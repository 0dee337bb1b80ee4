// Runs one row dot product `calls` times, for counting the instructions a kernel executes per block
// where its speed cannot be measured (ARM64 kernels on an x86-64 machine): under qemu-user, every
// guest instruction run with -singlestep -d exec,nochain leaves one log line, and the difference between
// calls = 2 and calls = 1 is one call's alone. scripts/arm64_instruction_counts.sh runs it for every
// type and path.
//
//   dot_instruction_count TYPE PATH N CALLS     e.g. q4_k neon_dotprod 4096 1
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant.hpp"
#include "kernels/quant_dot.hpp"

namespace {

using pice::kernels::DotPath;
using pice::kernels::TensorType;

int usage(const char* message) {
  std::fprintf(stderr, "dot_instruction_count: %s\nusage: dot_instruction_count TYPE PATH N CALLS\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return usage("expected 4 arguments");
  const std::string type_name = argv[1], path_name = argv[2];
  const int n = std::atoi(argv[3]), calls = std::atoi(argv[4]);
  TensorType type{};
  bool known_type = false;
  for (const TensorType t : {TensorType::f32, TensorType::f16, TensorType::bf16, TensorType::q8_0, TensorType::q4_0,
                             TensorType::q4_k, TensorType::q6_k})
    if (type_name == pice::kernels::tensor_type_name(t)) type = t, known_type = true;
  if (!known_type) return usage(("unknown type '" + type_name + "' (f32 f16 bf16 q8_0 q4_0 q4_k q6_k)").c_str());
  DotPath path{};
  bool known_path = false;
  for (const DotPath p : pice::kernels::kDotPaths)
    if (path_name == pice::kernels::dot_path_name(p)) path = p, known_path = true;
  if (!known_path) return usage(("unknown path '" + path_name + "'").c_str());
  if (!pice::kernels::dot_path_available(path)) return usage(("this CPU has no " + path_name + " path").c_str());
  if (n <= 0 || n % 256 != 0 || calls < 0) return usage("N must be a positive multiple of 256 and CALLS >= 0");

  std::mt19937 gen(1);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n));
  for (float& v : w) v = dist(gen);
  for (float& v : x) v = dist(gen);
  std::vector<std::byte> row(pice::kernels::row_bytes(type, n));
  pice::kernels::quantize_row(type, w.data(), row.data(), n);
  float sum = 0;
  if (pice::kernels::has_integer_dot(type)) {
    pice::kernels::QuantizedActivations acts;
    acts.quantize(type, x.data(), n, n, 1);
    const auto dot = pice::kernels::row_dot(type, path);
    for (int c = 0; c < calls; ++c) sum += dot(row.data(), acts.row(0), n);
  } else {
    const auto dot = pice::kernels::float_row_dot(type, path);
    for (int c = 0; c < calls; ++c) sum += dot(row.data(), x.data(), n);
  }
  // The same output whatever the sum, so that runs differ only in the kernel calls.
  volatile float sink = sum;
  (void)sink;
  return 0;
}
