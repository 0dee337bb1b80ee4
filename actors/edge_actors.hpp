#pragma once
// The actors of an edge node: the expander (runs the small model) and the heartbeat (announces the
// board on the events socket, which is how the scheduler learns the board exists).
#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "actors/cancelled_requests.hpp"
#include "actors/latency_histogram.hpp"
#include "brokers/pump.hpp"

namespace pice::kernels {
class Model;
class RemoteEngine;
}

namespace pice::actors {

// Shared between the pump thread (counts tasks in), the expander (counts work done) and the heartbeat.
struct EdgeLoad {
  std::atomic<int> queued{0};               // tasks received and not finished
  std::atomic<uint64_t> tokens{0};          // tokens generated so far
  std::atomic<uint64_t> busy_us{0};         // time spent generating them
  std::atomic<uint64_t> done{0};            // tasks answered with an expansion
  std::atomic<uint64_t> failed{0};          // tasks answered with an error
  std::atomic<bool> draining{false};        // heartbeats say so: finish the queue, take no more
  std::atomic<uint64_t> cancelled{0};       // tasks dropped because their client left
  CancelledRequests cancelled_requests;     // requests whose tasks are dropped (the scheduler's "cancel")
  LatencyHistogram expand_ms;               // prefill + decode of one point
  LatencyHistogram queue_ms;                // task sent by its scheduler -> expansion started
  double tokens_per_s() const {
    uint64_t us = busy_us.load();
    return us ? static_cast<double>(tokens.load()) * 1e6 / static_cast<double>(us) : 0.0;
  }
};

struct EdgeIdentity {
  std::string node_id;
  std::string model_name;
  int context_tokens = 0;
  uint64_t vocab_hash = 0;   // announced in heartbeats: the cloud sends token ids when it shares it
};

class TokenCodec;

// Expands the points it receives (detached: off CAF's workers), up to kExpanderBatch at once in one
// batch (kernels::BatchGenerator): a point that arrives joins at the next step, and the points of one
// request prefill their shared prompt prefix once. codec: the model's vocabulary, to read tasks sent as
// token ids and answer in ids (compact_messages.hpp).
// cancel_atom(request_id): the request's client left (the id is already in load->cancelled_requests):
// its running and queued tasks leave the batch at once and are answered with an error.
constexpr int kExpanderBatch = 16;
constexpr int kExpanderCacheTokens = 8192;   // KV cache positions over the whole batch
caf::behavior expander(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                       std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id,
                       std::shared_ptr<const TokenCodec> codec);

// Expands points on a remote engine (an OpenAI-compatible server, e.g. llama-server on the board's GPU):
// one request at a time per actor, so a node runs as many of these as the server has parallel slots.
caf::behavior remote_expander(caf::event_based_actor* self, std::shared_ptr<const kernels::RemoteEngine> engine,
                              std::shared_ptr<brokers::Pump> pump, std::shared_ptr<EdgeLoad> load, std::string node_id);

// Publishes a heartbeat every period, more often at first so a board attaches quickly even though
// pub/sub drops what is sent before the subscription arrives, and the board's telemetry every
// kTelemetryInterval. Starts on its first tick_atom, which the node sends once the pump's sockets exist.
// drain_atom: publish a heartbeat now (the node has set EdgeLoad::draining), so the schedulers stop
// placing tasks here without waiting for the next period.
caf::behavior heartbeat(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump,
                        std::shared_ptr<EdgeLoad> load, EdgeIdentity identity, int period_ms);

}  // namespace pice::actors
