#include "tests/common/shared_data.hpp"

#include <cstdlib>

namespace pice::testing {

std::optional<std::filesystem::path> shared_dir() {
  if (const char* env = std::getenv("PICE_SHARED_DIR"); env && *env) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  std::filesystem::path fallback(PICE_SHARED_DIR);
  if (std::filesystem::is_directory(fallback)) return fallback;
  return std::nullopt;
}

std::optional<std::filesystem::path> shared_file(const std::string& relative) {
  auto dir = shared_dir();
  if (!dir) return std::nullopt;
  auto path = *dir / relative;
  if (!std::filesystem::exists(path)) return std::nullopt;
  return path;
}

}  // namespace pice::testing
