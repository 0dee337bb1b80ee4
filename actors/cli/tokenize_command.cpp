// Placeholder until the tokenize helper writes this file (keeps the pice binary linking meanwhile).
#include <iostream>

#include "actors/cli/commands.hpp"

namespace pice::cli {

int run_tokenize(const TokenizeOptions&) {
  std::cerr << "pice tokenize: not built yet\n";
  return kExitFailure;
}

}  // namespace pice::cli
