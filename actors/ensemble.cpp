// The ensemble: one candidate per point today (ensemble = 1), scored by fluency (mean token
// log-probability). The choice and its score are reported with the answer. Duplicate results of a
// task (a re-dispatched point answered twice) are dropped by task id.
#include <spdlog/spdlog.h>

#include <unordered_map>

#include "actors/cloud_actors.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"

namespace pice::actors {
namespace {

constexpr auto kForgetAfter = std::chrono::minutes(10);
constexpr auto kSweepInterval = std::chrono::seconds(30);

struct EnsembleState {
  std::unordered_map<std::string, int64_t> chosen_at_us;  // task id -> when its candidate was chosen
  uint64_t duplicates = 0;
};

}  // namespace

caf::behavior ensemble(caf::event_based_actor* self, caf::actor scheduler, caf::actor assembly) {
  log_exceptions(self, "ensemble");
  auto state = std::make_shared<EnsembleState>();
  self->delayed_send(self, kSweepInterval, tick_atom::value);
  return {
      [=](result_atom, const messages::Envelope& envelope) {
        const auto& result = std::get<messages::ExpansionResult>(envelope.body);
        if (state->chosen_at_us.count(envelope.task_id)) {
          ++state->duplicates;
          spdlog::debug("ensemble: duplicate result for {} from '{}' dropped", envelope.task_id, result.node);
          return;
        }
        if (!result.error.empty()) {
          self->send(scheduler, task_failed_atom::value, envelope.request_id, result.point_index,
                     result.node + ": " + result.error);
          return;
        }
        state->chosen_at_us[envelope.task_id] = messages::now_us();
        double score = result.mean_logprob;  // fluency; relevance and agreement join with ensemble > 1
        self->send(assembly, chosen_atom::value, envelope.request_id, result, score);
        self->send(scheduler, task_done_atom::value, envelope.request_id, result.point_index);
      },
      [=](tick_atom) {
        const int64_t horizon =
            messages::now_us() - std::chrono::duration_cast<std::chrono::microseconds>(kForgetAfter).count();
        std::erase_if(state->chosen_at_us, [&](const auto& entry) { return entry.second < horizon; });
        self->delayed_send(self, kSweepInterval, tick_atom::value);
      },
  };
}

}  // namespace pice::actors
