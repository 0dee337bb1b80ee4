#include "actors/fleet_prometheus.hpp"

#include <cctype>
#include <map>
#include <sstream>
#include <vector>

namespace pice::actors {
namespace {

// Prometheus metric names allow [a-zA-Z0-9_:]; anything else a node sends becomes '_'.
std::string metric_name(const std::string& prefix, const std::string& name, const std::string& suffix = {}) {
  std::string out = prefix;
  for (unsigned char c : name) out += std::isalnum(c) || c == '_' ? static_cast<char>(c) : '_';
  return out + suffix;
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string format_number(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// One metric family: its type and its sample lines, which the format wants together.
struct Family {
  std::string type;
  std::vector<std::string> samples;
};

}  // namespace

std::string render_prometheus(const FleetView& view) {
  std::map<std::string, Family> families;
  auto add = [&](const std::string& name, const char* type, const std::string& labels, const std::string& value) {
    Family& family = families[name];
    family.type = type;
    family.samples.push_back(name + "{" + labels + "} " + value);
  };
  for (const auto& [id, node] : view.nodes()) {
    const std::string labels = "node=\"" + escape_label(id) + "\",role=\"" + escape_label(node.role) + "\"";
    add("pice_node_up", "gauge", labels, "1");
    for (const auto& [name, value] : node.telemetry.counters)
      add(metric_name("pice_node_", name, "_total"), "counter", labels, std::to_string(value));
    for (const auto& [name, value] : node.telemetry.gauges)
      add(metric_name("pice_node_", name), "gauge", labels, format_number(value));
    for (const auto& [name, h] : node.telemetry.histograms) {
      const std::string base = metric_name("pice_node_", name);
      Family& family = families[base];
      family.type = "histogram";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size() && i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        family.samples.push_back(base + "_bucket{" + labels + ",le=\"" + format_number(h.bounds[i]) + "\"} " +
                                 std::to_string(cumulative));
      }
      family.samples.push_back(base + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count));
      family.samples.push_back(base + "_sum{" + labels + "} " + format_number(h.sum));
      family.samples.push_back(base + "_count{" + labels + "} " + std::to_string(h.count));
    }
  }
  std::string out;
  for (const auto& [name, family] : families) {
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const auto& sample : family.samples) out += sample + "\n";
  }
  return out;
}

}  // namespace pice::actors
