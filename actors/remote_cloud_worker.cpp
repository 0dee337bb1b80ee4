// The cloud worker when the cloud model is a remote engine ([llm] url): the jobs, replies and
// cancellation of cloud_worker.cpp, with the generation done by the server (remote_generation.hpp).
#include <spdlog/spdlog.h>

#include "actors/actor_errors.hpp"
#include "actors/cloud_actors.hpp"
#include "actors/protocol.hpp"
#include "actors/remote_generation.hpp"

namespace pice::actors {
namespace {

using CancelFlag = std::shared_ptr<const std::atomic<bool>>;

bool is_set(const CancelFlag& flag) { return flag && flag->load(); }

}  // namespace

caf::behavior remote_cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::RemoteEngine> engine,
                                  std::string node_id) {
  log_exceptions(self, "remote cloud worker");
  return {
      [=](sketch_atom, const SketchJob& job) {
        auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
        const SketchBudget budget{job.min_points, job.max_points, job.max_words_per_point};
        kernels::RemoteOptions options;
        options.temperature = job.temperature;
        options.top_p = job.top_p;
        options.seed = job.seed;
        // Room for the list and a line of preamble; the stream is closed at max_points anyway.
        options.max_tokens = budget.max_points * (budget.max_words_per_point * 4 + 12) + 32;
        int total = 0, tokens = 0, prompt_tokens = 0;
        std::string error;
        try {
          // Each point leaves as soon as its line is complete: the scheduler dispatches it while the
          // server writes the next one.
          Sketch sketch = write_sketch_remotely(
              *engine, job.question, budget, options,
              [&](int index, const std::string& text) {
                messages::SketchPoint point;
                point.index = index;
                point.text = text;
                self->send(reply_to, point_atom::value, job.request_id, point);
              },
              [&] { return is_set(job.cancelled); });
          total = static_cast<int>(sketch.points.size());
          tokens = sketch.tokens;
          prompt_tokens = sketch.prompt_tokens;
          if (sketch.cancelled) error = "cancelled";
        } catch (const std::exception& e) {
          error = e.what();
          spdlog::error("remote cloud worker: sketch of {} failed: {}", job.request_id, error);
        }
        self->send(reply_to, sketched_atom::value, job.request_id, total, error, tokens, prompt_tokens);
      },
      [=](expand_atom, const messages::Envelope& task_envelope, const CancelFlag& cancelled) {
        auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
        const auto& task = std::get<messages::ExpansionTask>(task_envelope.body);
        messages::Envelope env;
        env.request_id = task_envelope.request_id;
        env.task_id = task_envelope.task_id;
        env.sender = node_id;
        env.created_us = task_envelope.created_us;
        if (is_set(cancelled)) {
          messages::ExpansionResult skipped;
          skipped.point_index = task.point_index;
          skipped.node = node_id;
          skipped.error = "cancelled";
          env.body = std::move(skipped);
        } else {
          PieceSink on_piece;
          // A direct answer streams as the server writes it; an expansion is a unit of the answer.
          if (task.direct)
            on_piece = [&](std::string_view piece) {
              self->send(reply_to, piece_atom::value, task_envelope.request_id, std::string(piece));
              return !is_set(cancelled);
            };
          else
            on_piece = [&](std::string_view) { return !is_set(cancelled); };
          env.body = expand_point_remotely(*engine, task, node_id, on_piece);
        }
        self->send(reply_to, result_atom::value, std::move(env));
      },
  };
}

}  // namespace pice::actors
