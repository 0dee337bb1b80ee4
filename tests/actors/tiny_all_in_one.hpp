#pragma once
// The node configuration the in-process all-in-one tests share: tiny synthetic models, a short sketch
// and short expansions, so a whole answer is quick.
#include <string>

#include "config/node_config.hpp"

namespace pice::testing {

// An all-in-one node with `edges` local edges, listening on inproc://<id>.
inline config::NodeConfig tiny_all_in_one(const std::string& id, int edges) {
  return config::parse("[node]\nid = \"" + id + "\"\nrole = \"all-in-one\"\nlisten = \"inproc://" + id +
                           "\"\nlocal_edges = " + std::to_string(edges) +
                           "\n[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:tiny\"\n"
                           "[sketch]\nmin_points = 2\nmax_points = 4\n[expand]\nmax_tokens = 12\n",
                       "<test config " + id + ">");
}

}  // namespace pice::testing
