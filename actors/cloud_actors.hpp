#pragma once
// The actors of a cloud node. Each is a function returning its behaviour (CAF style); the state
// structs live in the .cpp files. Wiring is done by cloud_node.cpp:
//   pump(gateway) -> gateway -> scheduler -> cloud worker (sketch) -> scheduler -> pump(tasks) -> boards
//   boards -> pump(results) -> scheduler -> ensemble -> assembly -> pump(gateway) -> client
#include <caf/all.hpp>

#include <memory>
#include <string>

#include "brokers/pump.hpp"
#include "config/node_config.hpp"

namespace pice::kernels {
class Model;
class RemoteEngine;
}

namespace pice::actors {

// Validates requests from clients and hands them to the scheduler; answers bad ones with an error chunk.
caf::behavior gateway(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id,
                      caf::actor scheduler);

class TokenCodec;

// Per request: asks for the sketch, dispatches each point as it arrives (as [ensemble] k copies on
// distinct boards), re-dispatches what is late. codec: the cloud model's vocabulary, for compact
// messages with boards that share it (null: text only).
caf::behavior scheduler(caf::event_based_actor* self, config::NodeConfig config,
                        std::shared_ptr<brokers::Pump> pump, caf::actor cloud_worker, caf::actor assembly,
                        std::shared_ptr<const TokenCodec> codec);

// Collects the copies of each point, waits for late ones at most [ensemble] wait_ms, and hands the best
// scored candidate to assembly; drops what comes after the choice.
caf::behavior ensemble(caf::event_based_actor* self, caf::actor scheduler, caf::actor assembly);

// Streams each answer to its client: sketch points as they come, expansions in point order, then done.
caf::behavior assembly(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id);

// Runs the cloud model (detached: forward passes never block CAF's workers): writes sketches,
// streaming each point back to the sender, and expands points no board could take.
caf::behavior cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::Model> model,
                           std::string node_id);

// The same jobs and replies as cloud_worker, written by a remote engine ([llm] url): the server's
// streaming chat completions, so sketch points still leave one by one as the server writes them
// (actors/remote_generation.hpp says what degrades). Detached: its HTTP calls block.
caf::behavior remote_cloud_worker(caf::event_based_actor* self, std::shared_ptr<const kernels::RemoteEngine> engine,
                                  std::string node_id);

}  // namespace pice::actors
