#pragma once
// The fleet's telemetry (every node heard on the events socket) in Prometheus text format, for the
// gateway's /metrics: per node, its counters (pice_node_<name>_total), gauges (pice_node_<name>) and
// latency histograms (pice_node_<name>_bucket/_sum/_count, in milliseconds as the nodes report them),
// each labelled with node and role, plus pice_node_up for every live node.
#include <string>

#include "actors/fleet_view.hpp"

namespace pice::actors {

std::string render_prometheus(const FleetView& view);

}  // namespace pice::actors
