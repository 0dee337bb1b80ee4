#include "actors/fleet_view.hpp"

#include <cstdio>
#include <vector>

#include "actors/latency_histogram.hpp"

namespace pice::actors {
namespace {

uint64_t counter(const messages::Telemetry& t, const char* name) {
  auto it = t.counters.find(name);
  return it == t.counters.end() ? 0 : it->second;
}

double gauge(const messages::Telemetry& t, const char* name) {
  auto it = t.gauges.find(name);
  return it == t.gauges.end() ? 0.0 : it->second;
}

// The median of the node's main latency: a cloud's whole requests, an edge's expansions.
double median_ms(const NodeView& n) {
  const auto& histograms = n.telemetry.histograms;
  auto it = histograms.find(n.role == "edge" ? "expand_ms" : "request_ms");
  return it == histograms.end() ? 0.0 : histogram_quantile(it->second, 0.5);
}

}  // namespace

void FleetView::observe(const messages::Envelope& envelope, int64_t now_us) {
  if (const auto* hb = std::get_if<messages::Heartbeat>(&envelope.body)) {
    NodeView& node = nodes_[hb->node_id];
    node.heartbeat = *hb;
    node.role = hb->role;
    node.last_heard_us = now_us;
  } else if (const auto* t = std::get_if<messages::Telemetry>(&envelope.body)) {
    NodeView& node = nodes_[t->node_id];
    node.telemetry = *t;
    if (!t->role.empty()) node.role = t->role;
    node.last_heard_us = now_us;
  }
}

void FleetView::expire(int64_t now_us, int64_t silence_us) {
  std::erase_if(nodes_, [&](const auto& entry) { return now_us - entry.second.last_heard_us > silence_us; });
}

std::string FleetView::render(int64_t now_us) const {
  std::vector<const std::pair<const std::string, NodeView>*> order;
  for (const auto& entry : nodes_)
    if (entry.second.role != "edge") order.push_back(&entry);
  for (const auto& entry : nodes_)
    if (entry.second.role == "edge") order.push_back(&entry);

  std::string out;
  char line[256];
  // REJECTED: malformed messages; DENIED: CURVE handshakes the node's access list refused.
  snprintf(line, sizeof line, "%-24s %-6s %6s %9s %9s %9s %8s %9s %8s %8s %8s\n", "NODE", "ROLE", "QUEUE", "TOK/S",
           "DONE", "REQS", "RUNNING", "P50 MS", "REJECTED", "DENIED", "HEARD");
  out += line;
  uint64_t total_done = 0, total_requests = 0, total_redispatches = 0;
  double total_speed = 0;
  int edges = 0;
  for (const auto* entry : order) {
    const NodeView& n = entry->second;
    const bool edge = n.role == "edge";
    const double speed = edge ? n.heartbeat.tokens_per_s : 0.0;
    const uint64_t done = counter(n.telemetry, edge ? "tasks_done" : "requests_finished");
    const uint64_t requests = counter(n.telemetry, "requests_started");
    snprintf(line, sizeof line, "%-24.24s %-6.6s %6d %9.1f %9llu %9llu %8.0f %9.0f %8llu %8llu %6.1fs%s\n",
             entry->first.c_str(), n.role.empty() ? "?" : n.role.c_str(), edge ? n.heartbeat.queue_depth : 0, speed,
             static_cast<unsigned long long>(done), static_cast<unsigned long long>(requests),
             gauge(n.telemetry, "requests_running"), median_ms(n),
             static_cast<unsigned long long>(counter(n.telemetry, "messages_rejected")),
             static_cast<unsigned long long>(counter(n.telemetry, "auth_rejected")),
             static_cast<double>(now_us - n.last_heard_us) / 1e6, edge && n.heartbeat.draining ? "  draining" : "");
    total_redispatches += counter(n.telemetry, "redispatches");
    out += line;
    if (edge) {
      ++edges;
      total_speed += speed;
      total_done += done;
    } else {
      total_requests += requests;
    }
  }
  snprintf(line, sizeof line,
           "%zu nodes, %d edges, %.1f tokens/s on the edges, %llu points expanded, %llu requests, %llu re-dispatches\n",
           nodes_.size(), edges, total_speed, static_cast<unsigned long long>(total_done),
           static_cast<unsigned long long>(total_requests), static_cast<unsigned long long>(total_redispatches));
  out += line;
  return out;
}

}  // namespace pice::actors
