// The ensemble: a point may be expanded by several boards at once ([ensemble] k). The scheduler says
// which copies are in flight (PointCopies); the ensemble collects their results, waits at most
// wait_ms after the first valid one for the rest, scores what it has (ensemble_scoring.hpp) and hands
// the best candidate, with every candidate's scores, to assembly. Whatever arrives after the choice
// (a late copy, or a re-dispatched point answered twice) is dropped. When every copy in flight has
// failed, the scheduler is told, and sends the point elsewhere.
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "actors/actor_errors.hpp"
#include "actors/cloud_actors.hpp"
#include "actors/protocol.hpp"

namespace pice::actors {
namespace {

constexpr auto kForgetAfter = std::chrono::minutes(10);
constexpr auto kSweepInterval = std::chrono::seconds(30);

struct PointGroup {
  PointCopies plan;                                 // the latest word from the scheduler
  std::set<std::string> arrived;                    // task ids answered (valid or not)
  std::vector<messages::ExpansionResult> candidates;  // valid results, in arrival order
  std::string failures;                             // "node: error; ..." since the last report
  bool chosen = false;
  int64_t touched_us = 0;
};

class Ensemble {
 public:
  Ensemble(caf::event_based_actor* self, caf::actor scheduler, caf::actor assembly)
      : self_(self), scheduler_(std::move(scheduler)), assembly_(std::move(assembly)) {}

  void expect(PointCopies plan) {
    const std::string key = group_key(plan.request_id, plan.point_index);
    PointGroup& group = groups_[key];
    group.touched_us = messages::now_us();
    if (group.chosen) return;
    group.plan = std::move(plan);
    settle(group);
  }

  void on_result(const messages::Envelope& envelope) {
    const auto& result = std::get<messages::ExpansionResult>(envelope.body);
    const std::string key = group_key(envelope.request_id, result.point_index);
    auto it = groups_.find(key);
    if (it == groups_.end()) {
      spdlog::debug("ensemble: result {} for no known point dropped", envelope.task_id);
      return;
    }
    PointGroup& group = it->second;
    if (group.chosen) {
      self_->send(scheduler_, dropped_atom::value, true);
      spdlog::info("ensemble: candidate {} from '{}' came after point {} was decided; dropped", envelope.task_id,
                   result.node, result.point_index);
      return;
    }
    if (!group.arrived.insert(envelope.task_id).second) {
      self_->send(scheduler_, dropped_atom::value, false);
      spdlog::debug("ensemble: duplicate result for {} from '{}' dropped", envelope.task_id, result.node);
      return;
    }
    if (!result.error.empty()) {
      group.failures += (group.failures.empty() ? "" : "; ") + result.node + ": " + result.error;
    } else {
      group.candidates.push_back(result);
      // The first candidate starts the clock: the others get wait_ms more, then are not waited for.
      if (group.candidates.size() == 1)
        self_->delayed_send(self_, std::chrono::milliseconds(group.plan.wait_ms), decide_atom::value, key);
    }
    settle(group);
  }

  void deadline(const std::string& key) {
    auto it = groups_.find(key);
    if (it == groups_.end() || it->second.chosen || it->second.candidates.empty()) return;
    PointGroup& group = it->second;
    spdlog::info("ensemble: point {} of {}: {} of {} copies answered within {} ms; choosing without the rest",
                 group.plan.point_index, group.plan.request_id, group.candidates.size(), group.plan.task_ids.size(),
                 group.plan.wait_ms);
    choose(group);
  }

  void sweep() {
    const int64_t horizon =
        messages::now_us() - std::chrono::duration_cast<std::chrono::microseconds>(kForgetAfter).count();
    std::erase_if(groups_, [&](const auto& entry) { return entry.second.touched_us < horizon; });
  }

 private:
  static std::string group_key(const std::string& request_id, int point_index) {
    return request_id + "/" + std::to_string(point_index);
  }

  // Decides as soon as every copy in flight has answered: with the candidates there are, or, when
  // all failed, by handing the point back to the scheduler.
  void settle(PointGroup& group) {
    if (group.plan.task_ids.empty()) return;  // results before the plan (cannot happen in order; harmless)
    for (const auto& id : group.plan.task_ids)
      if (!group.arrived.count(id)) return;
    if (!group.candidates.empty()) return choose(group);
    self_->send(scheduler_, task_failed_atom::value, group.plan.request_id, group.plan.point_index,
                group.failures.empty() ? std::string("no candidate") : group.failures);
    group.failures.clear();
  }

  void choose(PointGroup& group) {
    ChosenExpansion chosen;
    chosen.candidates = score_candidates(group.candidates, group.plan.question, group.plan.point, group.plan.weights);
    const size_t best = best_candidate(chosen.candidates);
    chosen.candidates[best].chosen = true;
    chosen.result = group.candidates[best];
    chosen.score = chosen.candidates[best].score;
    chosen.copies = group.plan.copies;
    group.chosen = true;
    group.touched_us = messages::now_us();
    group.candidates.clear();
    self_->send(assembly_, chosen_atom::value, group.plan.request_id, std::move(chosen));
    self_->send(scheduler_, task_done_atom::value, group.plan.request_id, group.plan.point_index);
  }

  caf::event_based_actor* self_;
  caf::actor scheduler_;
  caf::actor assembly_;
  std::map<std::string, PointGroup> groups_;
};

}  // namespace

caf::behavior ensemble(caf::event_based_actor* self, caf::actor scheduler, caf::actor assembly) {
  log_exceptions(self, "ensemble");
  auto e = std::make_shared<Ensemble>(self, std::move(scheduler), std::move(assembly));
  self->delayed_send(self, kSweepInterval, tick_atom::value);
  return {
      [=](expect_atom, PointCopies& plan) { e->expect(std::move(plan)); },
      [=](result_atom, const messages::Envelope& envelope) { e->on_result(envelope); },
      [=](decide_atom, const std::string& key) { e->deadline(key); },
      [=](tick_atom) {
        e->sweep();
        self->delayed_send(self, kSweepInterval, tick_atom::value);
      },
  };
}

}  // namespace pice::actors
