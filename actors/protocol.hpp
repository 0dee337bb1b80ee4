#pragma once
// The messages actors exchange inside one process (CAF), on top of the wire schema in messages/.
// Wire types travel between processes through brokers::Pump; these atoms and structs never leave a node.
#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/ensemble_scoring.hpp"
#include "brokers/pump.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {

// A request accepted by the gateway, on its way to the scheduler.
using begin_atom = caf::atom_constant<caf::atom("begin")>;
// Scheduler -> sketch worker: write the sketch of a request.
using sketch_atom = caf::atom_constant<caf::atom("sketch")>;
// Sketch worker -> scheduler -> assembly: one finished point of a sketch.
using point_atom = caf::atom_constant<caf::atom("point")>;
// Sketch worker -> scheduler -> assembly: the sketch is complete (or failed); with its token counts.
using sketched_atom = caf::atom_constant<caf::atom("sketched")>;
// Scheduler -> cloud worker: expand one point on the cloud model (no board could take it, or mode sot),
// or answer directly (a task with `direct` set), with the request's cancellation flag.
using expand_atom = caf::atom_constant<caf::atom("expand")>;
// An expansion result (from a board through the pump, or from the cloud worker) -> ensemble.
using result_atom = caf::atom_constant<caf::atom("result")>;
// Ensemble -> assembly: the candidate chosen for a point.
using chosen_atom = caf::atom_constant<caf::atom("chosen")>;
// Scheduler -> ensemble: the copies of a point now in flight (PointCopies), sent on every (re)dispatch.
using expect_atom = caf::atom_constant<caf::atom("expect")>;
// Ensemble -> itself: a point's wait for more candidates is over.
using decide_atom = caf::atom_constant<caf::atom("decide")>;
// Ensemble -> scheduler (for its telemetry): one candidate dropped, came after its point was decided
// (true) or was a duplicate (false).
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;
// Ensemble -> scheduler: a task is finished (first valid result), or failed and needs another board.
using task_done_atom = caf::atom_constant<caf::atom("taskdone")>;
using task_failed_atom = caf::atom_constant<caf::atom("taskfail")>;
// Scheduler -> assembly: the bytes a request's expansion tasks and results have taken on the wire so far
// (tasks, results), reported with its answer.
using traffic_atom = caf::atom_constant<caf::atom("traffic")>;
// Scheduler -> assembly: a request is open (so assembly knows its mode and start time).
using open_atom = caf::atom_constant<caf::atom("open")>;
// Assembly -> gateway: one chunk of an answer for the client.
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
// Cloud worker -> scheduler -> assembly: a piece of a direct answer, as it is written.
using piece_atom = caf::atom_constant<caf::atom("piece")>;
// Gateway -> scheduler -> assembly: the client has gone; stop the request's work and send nothing more.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
// Pump -> scheduler: a send failed (e.g. the board's DEALER is gone).
using send_failed_atom = caf::atom_constant<caf::atom("sendfail")>;
// Scheduler -> itself: send a task again to a board that has only just attached.
using resend_atom = caf::atom_constant<caf::atom("resend")>;
// Expander -> itself: run one step of the batch (queued behind the tasks that arrived meanwhile, so
// they join the batch at this step).
using step_atom = caf::atom_constant<caf::atom("step")>;
// Periodic timers.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// Publish this actor's telemetry now (then every kTelemetryInterval); the node sends the first once its
// sockets exist.
using telemetry_atom = caf::atom_constant<caf::atom("telemetry")>;
// Node -> edge heartbeat: the board is draining; announce it now.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
// Ask an actor for a snapshot of its state (tests, status).
using boards_atom = caf::atom_constant<caf::atom("boards")>;

// What the sketch worker needs to write one sketch.
struct SketchJob {
  std::string request_id;
  std::string question;
  int min_points = 2;
  int max_points = 5;
  int max_words_per_point = 6;
  double temperature = 0.8;
  double top_p = 0.95;
  uint64_t seed = 0;
  std::shared_ptr<const std::atomic<bool>> cancelled;  // set by the scheduler when the client has gone
};

// Scheduler -> assembly when a request opens: how it is served, reported on every chunk.
struct AnswerPlan {
  std::string mode;
  std::string path;
  std::string reason;
  int budget_points = 0;
  int budget_words = 0;
};

// Scheduler -> ensemble: a point was dispatched as these copies (task ids); the ensemble waits for
// them, at most wait_ms after the first valid one arrives, and scores what it has.
struct PointCopies {
  std::string request_id;
  int point_index = 0;
  std::string question;
  std::string point;
  std::vector<std::string> task_ids;  // the copies in flight now; results of older ones are still welcome
  int copies = 0;                     // dispatched so far in total (reported with the choice)
  EnsembleWeights weights;
  int wait_ms = 0;
};

// Ensemble -> assembly: the expansion chosen for a point, with every candidate's scores.
struct ChosenExpansion {
  messages::ExpansionResult result;
  double score = 0;
  std::vector<messages::EnsembleCandidate> candidates;
  int copies = 0;
};

}  // namespace pice::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::actors::SketchJob)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::actors::AnswerPlan)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const std::atomic<bool>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::actors::PointCopies)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::actors::ChosenExpansion)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::brokers::Inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::Envelope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::Request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::SketchPoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::ExpansionResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::AnswerChunk)
