#pragma once
// What a node reports on the events socket besides heartbeats: counters (monotonic totals) and gauges
// (current values), one Telemetry message per node per interval. `pice top` and the scheduler read it.
#include <chrono>
#include <map>
#include <string>

#include "brokers/socket_spec.hpp"
#include "messages/envelope.hpp"

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

// A finished step of a request, ready for the events socket (see messages::Span for the names).
inline messages::Envelope span_envelope(const std::string& node_id, const std::string& request_id,
                                        const std::string& task_id, std::string name, int64_t start_us,
                                        int64_t end_us, std::map<std::string, std::string> attributes = {}) {
  messages::Envelope env;
  env.request_id = request_id;
  env.task_id = task_id;
  env.sender = node_id;
  env.created_us = start_us;
  env.body = messages::Span{std::move(name), node_id, start_us, end_us, std::move(attributes)};
  return env;
}

}  // namespace pice::actors
