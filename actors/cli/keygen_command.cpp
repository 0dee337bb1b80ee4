// `pice keygen --out PREFIX`: a CURVE key pair for a node or client (config/key_files.hpp has the format).
#include <iostream>

#include "actors/cli/commands.hpp"
#include "brokers/curve.hpp"
#include "config/key_files.hpp"

namespace pice::cli {

int run_keygen(const KeygenOptions& options) {
  try {
    const brokers::CurveKeyPair pair = brokers::generate_curve_key_pair();
    config::write_key_files(options.prefix, {pair.public_key, pair.secret_key}, options.force);
    std::cerr << "pice keygen: wrote " << options.prefix << ".key (secret, mode 0600) and " << options.prefix
              << ".pub\n";
    std::cout << pair.public_key << "\n";   // stdout: only the public key, for scripts
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice keygen: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
