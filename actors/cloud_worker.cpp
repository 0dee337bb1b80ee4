// The cloud worker: the only actor that runs the cloud model. Spawned detached, so its forward passes
// run on a thread of its own and never stall CAF's workers. It serves one job at a time: sketches,
// expansions no board could take (or every expansion, in mode sot) and direct answers. Each job carries
// its request's cancellation flag, read between sketch points and between tokens: a job whose client
// has gone stops within a token.
#include <spdlog/spdlog.h>

#include "actors/cloud_actors.hpp"
#include "actors/expansion.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/sketch_writer.hpp"
#include "kernels/model.hpp"

namespace pice::actors {
namespace {

using CancelFlag = std::shared_ptr<const std::atomic<bool>>;

bool is_set(const CancelFlag& flag) { return flag && flag->load(); }

}  // namespace

caf::behavior cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                           std::string node_id) {
  log_exceptions(self, "cloud worker");
  return {
      [=](sketch_atom, const SketchJob& job) {
        auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
        SketchBudget budget{job.min_points, job.max_points, job.max_words_per_point};
        kernels::SamplingParams sampling;
        sampling.temperature = static_cast<float>(job.temperature);
        sampling.top_p = static_cast<float>(job.top_p);
        sampling.seed = job.seed;
        int total = 0, tokens = 0, prompt_tokens = 0;
        std::string error;
        try {
          // Each point leaves as soon as it is written: the scheduler dispatches it while the
          // model writes the next one.
          Sketch sketch = write_sketch(
              model, job.question, budget, sampling,
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
          spdlog::error("cloud worker: sketch of {} failed: {}", job.request_id, error);
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
          // A direct answer streams as it is written; an expansion is a unit of the answer.
          if (task.direct)
            on_piece = [&](std::string_view piece) {
              self->send(reply_to, piece_atom::value, task_envelope.request_id, std::string(piece));
              return !is_set(cancelled);
            };
          else
            on_piece = [&](std::string_view) { return !is_set(cancelled); };
          env.body = expand_point(model, task, node_id, on_piece);
        }
        self->send(reply_to, result_atom::value, std::move(env));
      },
  };
}

}  // namespace pice::actors
