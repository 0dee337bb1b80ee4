#pragma once
// Locates ../shared (models, tokenizer vectors, datasets). Tests that need it skip when it is absent.
#include <filesystem>
#include <optional>
#include <string>

namespace pice::testing {

// The shared data folder: $PICE_SHARED_DIR if set, else ../shared beside the source tree;
// nullopt when neither exists.
std::optional<std::filesystem::path> shared_dir();

// shared_dir()/relative if that file exists, else nullopt.
std::optional<std::filesystem::path> shared_file(const std::string& relative);

}  // namespace pice::testing

// Skips the current test, saying which file was missing, when a shared file is absent.
#define PICE_REQUIRE_SHARED(var, relative)                                                   \
  auto var##_opt = ::pice::testing::shared_file(relative);                                   \
  if (!var##_opt) GTEST_SKIP() << "shared data not found: " << (relative)                    \
                               << " (set PICE_SHARED_DIR or place ../shared beside the repo)"; \
  const std::filesystem::path var = *var##_opt
