// The cloud worker: the only actor that runs the cloud model. Spawned detached, so its forward passes
// run on a thread of its own and never stall CAF's workers. It serves one job at a time: sketches,
// expansions no board could take (or every expansion, in mode sot) and direct answers. Each job carries
// its request's cancellation flag, read between sketch points and between tokens: a job whose client
// has gone stops within a token. With a remote engine ([llm] url) the same worker has the server
// write (remote_generation.hpp).
#include <spdlog/spdlog.h>

#include "actors/cloud_actors.hpp"
#include "actors/expansion.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/remote_generation.hpp"
#include "actors/sketch_writer.hpp"
#include "kernels/model.hpp"

namespace pice::actors {
namespace {

using CancelFlag = std::shared_ptr<const std::atomic<bool>>;

bool is_set(const CancelFlag& flag) { return flag && flag->load(); }

// How the cloud model writes: the local engine or a remote one. The worker around it is the same.
struct CloudGeneration {
  const char* name = "cloud worker";  // for the logs
  std::function<Sketch(const SketchJob&, const std::function<void(int, const std::string&)>& on_point,
                       const std::function<bool()>& cancelled)>
      sketch;
  std::function<messages::ExpansionResult(const messages::ExpansionTask&, const std::string& node_id,
                                          const PieceSink& on_piece)>
      expand;
};

caf::behavior cloud_worker_with(caf::event_based_actor* self, CloudGeneration generation, std::string node_id) {
  log_exceptions(self, generation.name);
  return {
      [=](sketch_atom, const SketchJob& job) {
        auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
        int total = 0, tokens = 0, prompt_tokens = 0;
        std::string error;
        try {
          // Each point leaves as soon as it is written: the scheduler dispatches it while the
          // model writes the next one.
          Sketch sketch = generation.sketch(
              job,
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
          spdlog::error("{}: sketch of {} failed: {}", generation.name, job.request_id, error);
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
          env.body = generation.expand(task, node_id, on_piece);
        }
        self->send(reply_to, result_atom::value, std::move(env));
      },
  };
}

}  // namespace

caf::behavior cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                           std::string node_id) {
  CloudGeneration generation;
  generation.name = "cloud worker";
  generation.sketch = [model](const SketchJob& job, const auto& on_point, const auto& cancelled) {
    kernels::SamplingParams sampling;
    sampling.temperature = static_cast<float>(job.temperature);
    sampling.top_p = static_cast<float>(job.top_p);
    sampling.seed = job.seed;
    return write_sketch(model, job.question, {job.min_points, job.max_points, job.max_words_per_point}, sampling,
                        on_point, cancelled);
  };
  generation.expand = [model](const messages::ExpansionTask& task, const std::string& node_id,
                              const PieceSink& on_piece) { return expand_point(model, task, node_id, on_piece); };
  return cloud_worker_with(self, std::move(generation), std::move(node_id));
}

caf::behavior remote_cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::RemoteEngine> engine,
                                  std::string node_id) {
  CloudGeneration generation;
  generation.name = "remote cloud worker";
  generation.sketch = [engine](const SketchJob& job, const auto& on_point, const auto& cancelled) {
    const SketchBudget budget{job.min_points, job.max_points, job.max_words_per_point};
    kernels::RemoteOptions options;
    options.temperature = job.temperature;
    options.top_p = job.top_p;
    options.seed = job.seed;
    // Room for the list and a line of preamble; the stream is closed at max_points anyway.
    options.max_tokens = budget.max_points * (budget.max_words_per_point * 4 + 12) + 32;
    return write_sketch_remotely(*engine, job.question, budget, options, on_point, cancelled);
  };
  generation.expand = [engine](const messages::ExpansionTask& task, const std::string& node_id,
                               const PieceSink& on_piece) {
    return expand_point_remotely(*engine, task, node_id, on_piece);
  };
  return cloud_worker_with(self, std::move(generation), std::move(node_id));
}

}  // namespace pice::actors
