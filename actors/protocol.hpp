#pragma once
// The messages actors exchange inside one process (CAF), on top of the wire schema in messages/.
// Wire types travel between processes through brokers::Pump; these atoms and structs never leave a node.
#include <caf/all.hpp>

#include <string>

#include "brokers/pump.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {

// A request accepted by the gateway, on its way to the scheduler.
using begin_atom = caf::atom_constant<caf::atom("begin")>;
// Scheduler -> sketch worker: write the sketch of a request.
using sketch_atom = caf::atom_constant<caf::atom("sketch")>;
// Sketch worker -> scheduler -> assembly: one finished point of a sketch.
using point_atom = caf::atom_constant<caf::atom("point")>;
// Sketch worker -> scheduler -> assembly: the sketch is complete (or failed).
using sketched_atom = caf::atom_constant<caf::atom("sketched")>;
// Scheduler -> cloud worker: expand one point on the cloud model (no board could take it).
using expand_atom = caf::atom_constant<caf::atom("expand")>;
// An expansion result (from a board through the pump, or from the cloud worker) -> ensemble.
using result_atom = caf::atom_constant<caf::atom("result")>;
// Ensemble -> assembly: the candidate chosen for a point.
using chosen_atom = caf::atom_constant<caf::atom("chosen")>;
// Ensemble -> scheduler: a task is finished (first valid result), or failed and needs another board.
using task_done_atom = caf::atom_constant<caf::atom("taskdone")>;
using task_failed_atom = caf::atom_constant<caf::atom("taskfail")>;
// Scheduler -> assembly: a request is open (so assembly knows its mode and start time).
using open_atom = caf::atom_constant<caf::atom("open")>;
// Assembly -> gateway: one chunk of an answer for the client.
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
// Pump -> scheduler: a send failed (e.g. the board's DEALER is gone).
using send_failed_atom = caf::atom_constant<caf::atom("sendfail")>;
// Expander -> itself: run one step of the batch (queued behind the tasks that arrived meanwhile, so
// they join the batch at this step).
using step_atom = caf::atom_constant<caf::atom("step")>;
// Periodic timers.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// Publish this actor's telemetry now (then every kTelemetryInterval); the node sends the first once its
// sockets exist.
using telemetry_atom = caf::atom_constant<caf::atom("telemetry")>;
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
};

}  // namespace pice::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::actors::SketchJob)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::brokers::Inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::Envelope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::Request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::SketchPoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::ExpansionResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pice::messages::AnswerChunk)
