#include "actors/edge_actors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "actors/expansion.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/telemetry.hpp"
#include "kernels/model.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {
namespace {

constexpr int kFirstHeartbeatMs = 20;  // then doubling up to the configured period
constexpr const char* kVersion = PICE_VERSION;   // the project's version (CMake)

messages::Envelope result_envelope(const messages::Envelope& task_env, const std::string& node_id,
                                   messages::ExpansionResult result) {
  messages::Envelope env;
  env.request_id = task_env.request_id;
  env.task_id = task_env.task_id;
  env.sender = node_id;
  env.to = task_env.sender;   // a broker forwards the result to the cloud that sent the task
  env.created_us = task_env.created_us;
  env.body = std::move(result);
  return env;
}

}  // namespace

caf::behavior expander(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                       std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id) {
  log_exceptions(self, "expander");
  return {
      [=](brokers::Inbound& in) {
        const auto* task = std::get_if<messages::ExpansionTask>(&in.envelope.body);
        if (!task) {
          spdlog::warn("expander: expected an expansion task, got a {} message; ignored",
                       messages::message_type_name(in.envelope.type()));
          load->queued--;
          return;
        }
        messages::ExpansionResult result;
        const int64_t received_us = messages::now_us();
        if (task->deadline_us && messages::now_us() > task->deadline_us) {
          // The scheduler has already sent this point elsewhere; computing it would only delay others.
          result.point_index = task->point_index;
          result.node = node_id;
          result.model = model->name();
          result.error = "deadline passed before the task started";
        } else {
          auto start = std::chrono::steady_clock::now();
          result = expand_point(model, *task, node_id);
          auto took = std::chrono::steady_clock::now() - start;
          result.timings.queue_ms = static_cast<double>(messages::now_us() - in.envelope.sent_us) / 1000.0 -
                                    std::chrono::duration<double, std::milli>(took).count();
          load->expand_ms.observe(std::chrono::duration<double, std::milli>(took).count());
          load->queue_ms.observe(std::max(0.0, result.timings.queue_ms));
          load->tokens += static_cast<uint64_t>(result.tokens);
          load->busy_us += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
        }
        ++(result.error.empty() ? load->done : load->failed);
        load->queued--;
        std::map<std::string, std::string> attributes{{"point", std::to_string(result.point_index)},
                                                      {"tokens", std::to_string(result.tokens)}};
        if (!result.error.empty()) attributes["error"] = result.error;
        pump->send("results", result_envelope(in.envelope, node_id, std::move(result)));
        pump->send("events", span_envelope(node_id, in.envelope.request_id, in.envelope.task_id, "expand", received_us,
                                           messages::now_us(), std::move(attributes)));
      },
  };
}

caf::behavior heartbeat(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump,
                        std::shared_ptr<EdgeLoad> load, EdgeIdentity identity, int period_ms) {
  auto next_delay = std::make_shared<int>(kFirstHeartbeatMs);
  auto telemetry_started = std::make_shared<bool>(false);
  log_exceptions(self, "heartbeat");
  auto publish = [=] {
    messages::Heartbeat hb;
    hb.node_id = identity.node_id;
    hb.role = "edge";
    hb.models = {identity.model_name};
    hb.batch_slots = 1;  // one sequence at a time until the engine batches
    hb.queue_depth = std::max(0, load->queued.load());
    hb.tokens_per_s = load->tokens_per_s();
    hb.free_kv_tokens = identity.context_tokens;
    hb.version = kVersion;
    hb.draining = load->draining.load();
    messages::Envelope env;
    env.sender = identity.node_id;
    env.body = std::move(hb);
    pump->send("events", env);
  };
  return {
      [=](drain_atom) { publish(); },
      [=](tick_atom) {
        publish();
        self->delayed_send(self, std::chrono::milliseconds(*next_delay), tick_atom::value);
        *next_delay = std::min(*next_delay * 2, period_ms);
        if (*next_delay == period_ms && !*telemetry_started) {
          *telemetry_started = true;
          self->send(self, telemetry_atom::value);
        }
      },
      [=](telemetry_atom) {
        messages::Telemetry t = telemetry_with_pump(identity.node_id, "edge", pump->stats());
        t.counters["tasks_done"] = load->done.load();
        t.counters["tasks_failed"] = load->failed.load();
        t.counters["tokens_generated"] = load->tokens.load();
        t.gauges["queue_depth"] = std::max(0, load->queued.load());
        t.gauges["tokens_per_s"] = load->tokens_per_s();
        t.gauges["draining"] = load->draining.load() ? 1.0 : 0.0;
        // The engine decodes one sequence at a time: a batch is 1 while there is work, else 0.
        t.gauges["batch_size"] = load->queued.load() > 0 ? 1.0 : 0.0;
        t.gauges["kv_tokens_free"] = static_cast<double>(identity.context_tokens);
        t.histograms["expand_ms"] = load->expand_ms.snapshot();
        t.histograms["queue_ms"] = load->queue_ms.snapshot();
        messages::Envelope env;
        env.sender = identity.node_id;
        env.body = std::move(t);
        pump->send("events", env);
        self->delayed_send(self, kTelemetryInterval, telemetry_atom::value);
      },
  };
}

}  // namespace pice::actors
