#include "actors/edge_actors.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <optional>

#include "actors/expansion.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/telemetry.hpp"
#include "kernels/batch_generator.hpp"
#include "kernels/model.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {
namespace {

constexpr int kFirstHeartbeatMs = 20;  // then doubling up to the configured period
constexpr const char* kVersion = "0.1.0";

messages::Envelope result_envelope(const messages::Envelope& task_env, const std::string& node_id,
                                   messages::ExpansionResult result) {
  messages::Envelope env;
  env.request_id = task_env.request_id;
  env.task_id = task_env.task_id;
  env.sender = node_id;
  env.created_us = task_env.created_us;
  env.body = std::move(result);
  return env;
}

}  // namespace

caf::behavior expander(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                       std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id) {
  log_exceptions(self, "expander");
  struct Task {
    messages::Envelope envelope;
    messages::ExpansionResult result;   // point, node and model filled in
    std::chrono::steady_clock::time_point started;
  };
  struct State {
    kernels::BatchGenerator generator;
    std::map<kernels::BatchGenerator::Id, Task> tasks;
    bool stepping = false;
  };
  const int cache_tokens = std::min(kExpanderCacheTokens, kExpanderBatch * model->hparams().context_length);
  auto state = std::make_shared<State>(State{kernels::BatchGenerator(model, cache_tokens, kExpanderBatch), {}, false});
  auto answer = [=](const messages::Envelope& task_env, messages::ExpansionResult result) {
    ++(result.error.empty() ? load->done : load->failed);
    load->queued--;
    pump->send("results", result_envelope(task_env, node_id, std::move(result)));
  };
  return {
      [=](brokers::Inbound& in) {
        const auto* task = std::get_if<messages::ExpansionTask>(&in.envelope.body);
        if (!task) {
          spdlog::warn("expander: expected an expansion task, got a {} message; ignored",
                       messages::message_type_name(in.envelope.type()));
          load->queued--;
          return;
        }
        messages::ExpansionResult result = expansion_result(*model, *task, node_id);
        if (task->deadline_us && messages::now_us() > task->deadline_us) {
          // The scheduler has already sent this point elsewhere; computing it would only delay others.
          result.error = "deadline passed before the task started";
          answer(in.envelope, std::move(result));
          return;
        }
        try {
          std::optional<ExpansionJob> job = expansion_job(*model, *task, result);
          if (!job) {
            answer(in.envelope, std::move(result));
            return;
          }
          const auto id = state->generator.add(std::move(job->prompt), job->options);
          result.timings.queue_ms = static_cast<double>(messages::now_us() - in.envelope.sent_us) / 1000.0;
          state->tasks.emplace(id, Task{std::move(in.envelope), std::move(result), std::chrono::steady_clock::now()});
        } catch (const std::exception& e) {
          result.error = e.what();
          answer(in.envelope, std::move(result));
          return;
        }
        if (!state->stepping) {
          state->stepping = true;
          self->send(self, step_atom::value);
        }
      },
      [=](step_atom) {
        const auto start = std::chrono::steady_clock::now();
        std::vector<kernels::BatchGenerator::Finished> finished;
        try {
          finished = state->generator.step();
        } catch (const std::exception& e) {
          // Nothing in a step fails for one task alone (each was checked when added): fail them all
          // rather than step a broken batch again.
          spdlog::error("expander: batch step failed: {}; {} tasks failed", e.what(), state->tasks.size());
          for (auto& [id, task] : state->tasks) {
            task.result.error = std::string("expansion failed: ") + e.what();
            answer(task.envelope, std::move(task.result));
          }
          state->tasks.clear();
          state->generator = kernels::BatchGenerator(model, cache_tokens, kExpanderBatch);
          state->stepping = false;
          return;
        }
        const auto took = std::chrono::steady_clock::now() - start;
        load->busy_us += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
        for (auto& done : finished) {
          auto it = state->tasks.find(done.id);
          if (it == state->tasks.end()) continue;
          record_generation(it->second.result, done.generation);
          load->tokens += static_cast<uint64_t>(it->second.result.tokens);
          answer(it->second.envelope, std::move(it->second.result));
          state->tasks.erase(it);
        }
        // Tasks that arrived during this step are in the mailbox before this message: they join next step.
        state->stepping = !state->generator.idle();
        if (state->stepping) self->send(self, step_atom::value);
      },
  };
}

caf::behavior heartbeat(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump,
                        std::shared_ptr<EdgeLoad> load, EdgeIdentity identity, int period_ms) {
  auto next_delay = std::make_shared<int>(kFirstHeartbeatMs);
  auto telemetry_started = std::make_shared<bool>(false);
  log_exceptions(self, "heartbeat");
  return {
      [=](tick_atom) {
        messages::Heartbeat hb;
        hb.node_id = identity.node_id;
        hb.role = "edge";
        hb.models = {identity.model_name};
        hb.batch_slots = 1;  // one sequence at a time until the engine batches
        hb.queue_depth = std::max(0, load->queued.load());
        hb.tokens_per_s = load->tokens_per_s();
        hb.free_kv_tokens = identity.context_tokens;
        hb.version = kVersion;
        messages::Envelope env;
        env.sender = identity.node_id;
        env.body = std::move(hb);
        pump->send("events", env);
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
        messages::Envelope env;
        env.sender = identity.node_id;
        env.body = std::move(t);
        pump->send("events", env);
        self->delayed_send(self, kTelemetryInterval, telemetry_atom::value);
      },
  };
}

}  // namespace pice::actors
