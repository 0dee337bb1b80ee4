#pragma once
// What a node reports on the events socket besides heartbeats: counters (monotonic totals) and gauges
// (current values), one Telemetry message per node per interval. `pice top` and the scheduler read it.
#include <chrono>
#include <string>

#include "brokers/socket_spec.hpp"
#include "messages/bodies.hpp"

namespace pice::actors {

inline constexpr auto kTelemetryInterval = std::chrono::seconds(1);

// A telemetry message with the transport counters every node has.
inline messages::Telemetry telemetry_with_pump(const std::string& node_id, const std::string& role,
                                               const brokers::PumpStats& pump) {
  messages::Telemetry t;
  t.node_id = node_id;
  t.counters["messages_received"] = pump.received;
  t.counters["messages_rejected"] = pump.rejected;
  t.counters["messages_sent"] = pump.sent;
  t.counters["send_failures"] = pump.send_failures;
  t.counters["auth_rejected"] = pump.auth_rejected;   // CURVE handshakes refused (a cloud with [security])
  t.gauges["messages_waiting"] = static_cast<double>(pump.waiting);
  t.role = role;
  return t;
}

}  // namespace pice::actors
