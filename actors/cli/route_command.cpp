// Placeholder until the route helper writes this file (keeps the pice binary linking meanwhile).
#include <iostream>

#include "actors/cli/commands.hpp"

namespace pice::cli {

int run_route(const RouteOptions&) {
  std::cerr << "pice route: not built yet\n";
  return kExitFailure;
}

}  // namespace pice::cli
