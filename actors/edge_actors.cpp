#include "actors/edge_actors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "actors/compact_messages.hpp"
#include "actors/expansion.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/remote_generation.hpp"
#include "actors/telemetry.hpp"
#include "kernels/batch_generator.hpp"
#include "kernels/model.hpp"
#include "kernels/remote_engine.hpp"
#include "kernels/resident_memory.hpp"
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

// Every task ends here, expanded or not: the result goes back, and a span says where its time went.
void finish_task(brokers::Pump& pump, EdgeLoad& load, const std::string& node_id, const messages::Envelope& task_env,
                 messages::ExpansionResult result, int64_t received_us) {
  ++(result.error.empty() ? load.done : load.failed);
  load.queued--;
  std::map<std::string, std::string> attributes{{"point", std::to_string(result.point_index)},
                                                {"tokens", std::to_string(result.tokens)}};
  if (!result.error.empty()) attributes["error"] = result.error;
  pump.send("results", result_envelope(task_env, node_id, std::move(result)));
  pump.send("events", span_envelope(node_id, task_env.request_id, task_env.task_id, "expand", received_us,
                                    messages::now_us(), std::move(attributes)));
}

// The task of an inbound message; a message of another type is counted out and logged.
const messages::ExpansionTask* task_of(brokers::Inbound& in, EdgeLoad& load) {
  const auto* task = std::get_if<messages::ExpansionTask>(&in.envelope.body);
  if (!task) {
    spdlog::warn("expander: expected an expansion task, got a {} message; ignored",
                 messages::message_type_name(in.envelope.type()));
    load.queued--;
  }
  return task;
}

bool past_deadline(const messages::ExpansionTask& task, messages::ExpansionResult& result) {
  if (!task.deadline_us || messages::now_us() <= task.deadline_us) return false;
  // The scheduler has already sent this point elsewhere; computing it would only delay others.
  result.error = "deadline passed before the task started";
  return true;
}

constexpr const char* kCancelledError = "cancelled: the request's client left";

// A task of a request whose client has left is not started. Counted here; answered by the caller.
bool cancelled_before_start(const messages::Envelope& task_env, EdgeLoad& load, messages::ExpansionResult& result) {
  if (!load.cancelled_requests.contains(task_env.request_id)) return false;
  ++load.cancelled;
  result.error = kCancelledError;
  return true;
}

}  // namespace

caf::behavior expander(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                       std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id,
                       std::shared_ptr<const TokenCodec> codec) {
  log_exceptions(self, "expander");
  struct Task {
    messages::Envelope envelope;
    messages::ExpansionTask task;
    messages::ExpansionResult result;   // point, node and model filled in
    int64_t received_us = 0;
    std::chrono::steady_clock::time_point started;
  };
  struct State {
    kernels::BatchGenerator generator;
    std::map<kernels::BatchGenerator::Id, Task> tasks;
    bool stepping = false;
  };
  const int cache_tokens = std::min(kExpanderCacheTokens, kExpanderBatch * model->hparams().context_length);
  auto state = std::make_shared<State>(State{kernels::BatchGenerator(model, cache_tokens, kExpanderBatch), {}, false});
  auto answer = [=](const messages::Envelope& task_env, messages::ExpansionResult result, int64_t received_us) {
    finish_task(*pump, *load, node_id, task_env, std::move(result), received_us);
  };
  return {
      [=](brokers::Inbound& in) {
        const auto* task = task_of(in, *load);
        if (!task) return;
        const int64_t received_us = messages::now_us();
        messages::ExpansionResult result = expansion_result(*model, *task, node_id);
        if (cancelled_before_start(in.envelope, *load, result) || past_deadline(*task, result)) {
          answer(in.envelope, std::move(result), received_us);
          return;
        }
        try {
          std::optional<ExpansionJob> job = expansion_job(*model, *task, result, codec.get());
          if (!job) {
            answer(in.envelope, std::move(result), received_us);
            return;
          }
          const auto id = state->generator.add(std::move(job->prompt), job->options);
          // Time from the scheduler's send to joining the batch: the network, then the mailbox.
          result.timings.queue_ms = static_cast<double>(messages::now_us() - in.envelope.sent_us) / 1000.0;
          load->queue_ms.observe(std::max(0.0, result.timings.queue_ms));
          messages::ExpansionTask copy = *task;
          state->tasks.emplace(id, Task{std::move(in.envelope), std::move(copy), std::move(result), received_us,
                                        std::chrono::steady_clock::now()});
        } catch (const std::exception& e) {
          result.error = e.what();
          answer(in.envelope, std::move(result), received_us);
          return;
        }
        if (!state->stepping) {
          state->stepping = true;
          self->send(self, step_atom::value);
        }
      },
      [=](cancel_atom, const std::string& request_id) {
        for (auto it = state->tasks.begin(); it != state->tasks.end();) {
          if (it->second.envelope.request_id != request_id) {
            ++it;
            continue;
          }
          state->generator.cancel(it->first);
          ++load->cancelled;
          it->second.result.error = kCancelledError;
          answer(it->second.envelope, std::move(it->second.result), it->second.received_us);
          it = state->tasks.erase(it);
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
            answer(task.envelope, std::move(task.result), task.received_us);
          }
          state->tasks.clear();
          state->generator = kernels::BatchGenerator(model, cache_tokens, kExpanderBatch);
          state->stepping = false;
          return;
        }
        const auto now = std::chrono::steady_clock::now();
        load->busy_us += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count());
        for (auto& done : finished) {
          auto it = state->tasks.find(done.id);
          if (it == state->tasks.end()) continue;
          Task& t = it->second;
          record_generation(t.result, t.task, done.generation, codec.get());
          load->tokens += static_cast<uint64_t>(t.result.tokens);
          load->expand_ms.observe(std::chrono::duration<double, std::milli>(now - t.started).count());
          answer(t.envelope, std::move(t.result), t.received_us);
          state->tasks.erase(it);
        }
        // Tasks that arrived during this step are in the mailbox before this message: they join next step.
        state->stepping = !state->generator.idle();
        if (state->stepping) self->send(self, step_atom::value);
      },
  };
}

caf::behavior remote_expander(caf::event_based_actor* self, std::shared_ptr<const kernels::RemoteEngine> engine,
                              std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id) {
  log_exceptions(self, "remote expander");
  return {
      // Its one request at a time is already on the server; its queued tasks are checked as they start.
      [=](cancel_atom, const std::string&) {},
      [=](brokers::Inbound& in) {
        const auto* task = task_of(in, *load);
        if (!task) return;
        const int64_t received_us = messages::now_us();
        messages::ExpansionResult result;
        result.point_index = task->point_index;
        result.node = node_id;
        result.model = engine->name();
        result.timings.started_us = received_us;
        result.timings.queue_ms = static_cast<double>(received_us - in.envelope.sent_us) / 1000.0;
        if (cancelled_before_start(in.envelope, *load, result)) {
          // Its client left; a request already on the server runs to its end (HTTP has no cancel).
        } else if (!task->prompt_ids.empty()) {
          // Its heartbeats announce no vocabulary, so a scheduler sends it text; ids cannot be read here.
          result.error = "the task is token ids, and a remote engine reads only text";
        } else if (!past_deadline(*task, result)) {
          const kernels::RemoteOptions options = remote_options(*task);
          try {
            kernels::RemoteGeneration g = engine->chat({{"user", expansion_prompt(*task)}}, options);
            result.text = expansion_text(*task, g.text);
            result.tokens = g.completion_tokens;
            result.prompt_tokens = g.prompt_tokens;
            result.mean_logprob = g.mean_logprob;
            result.timings.decode_ms = g.elapsed_ms;   // the server's prefill and decode, and the link
            load->tokens += static_cast<uint64_t>(std::max(0, g.completion_tokens));
            load->busy_us += static_cast<uint64_t>(g.elapsed_ms * 1000);
            load->expand_ms.observe(g.elapsed_ms);
            if (result.text.empty()) result.error = "the remote engine wrote nothing for this point";
          } catch (const std::exception& e) {
            result.error = e.what();
          }
        }
        finish_task(*pump, *load, node_id, in.envelope, std::move(result), received_us);
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
    // The expander batches up to kExpanderBatch points, but a bigger batch makes every step slower; the
    // placement's cost model (fleet.cpp) counts slots as free parallelism, so one is what it should see
    // until it models a batch's step time.
    hb.batch_slots = 1;
    hb.queue_depth = std::max(0, load->queued.load());
    hb.tokens_per_s = load->tokens_per_s();
    hb.free_kv_tokens = identity.context_tokens;
    hb.version = kVersion;
    hb.draining = load->draining.load();
    hb.vocab_hash = identity.vocab_hash;
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
        t.counters["tasks_failed"] = load->failed.load();   // the cancelled ones too
        t.counters["tasks_cancelled"] = load->cancelled.load();
        t.counters["tokens_generated"] = load->tokens.load();
        t.gauges["queue_depth"] = std::max(0, load->queued.load());
        t.gauges["tokens_per_s"] = load->tokens_per_s();
        t.gauges["draining"] = load->draining.load() ? 1.0 : 0.0;
        // The engine decodes one sequence at a time: a batch is 1 while there is work, else 0.
        t.gauges["batch_size"] = load->queued.load() > 0 ? 1.0 : 0.0;
        t.gauges["kv_tokens_free"] = static_cast<double>(identity.context_tokens);
        t.gauges["resident_mb"] = static_cast<double>(kernels::resident_bytes()) / (1 << 20);   // one small /proc read
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
