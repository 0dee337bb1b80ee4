#include <spdlog/spdlog.h>

#include "actors/cloud_actors.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/request_limits.hpp"

namespace pice::actors {
namespace {

void reply_error(brokers::Pump& pump, const std::string& node_id, const brokers::Inbound& in,
                 const std::string& why) {
  messages::Envelope env;
  env.request_id = in.envelope.request_id;
  env.sender = node_id;
  env.created_us = in.envelope.created_us;
  messages::AnswerChunk chunk;
  chunk.kind = messages::ChunkKind::error;
  chunk.text = why;
  env.body = chunk;
  pump.send("gateway", env, in.peer);
}

// Clients choose their request ids; the peer's routing id keeps two clients' ids apart.
std::string internal_id(const brokers::Inbound& in) {
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char c : in.peer) {
    id += hex[c >> 4];
    id += hex[c & 15];
  }
  return id + ":" + in.envelope.request_id;
}

}  // namespace

caf::behavior gateway(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id,
                      caf::actor scheduler) {
  log_exceptions(self, "gateway");
  return {
      [=](brokers::Inbound& in) {
        const auto* request = std::get_if<messages::Request>(&in.envelope.body);
        if (!request) {
          reply_error(*pump, node_id, in,
                      std::string("expected a request, got a ") +
                          std::string(messages::message_type_name(in.envelope.type())) + " message");
          return;
        }
        if (request->cancel) {
          self->send(scheduler, cancel_atom::value, internal_id(in));
          return;
        }
        if (auto problem = check_request(*request, in.envelope.request_id)) {
          spdlog::warn("gateway: rejected request '{}': {}", in.envelope.request_id, *problem);
          reply_error(*pump, node_id, in, *problem);
          return;
        }
        int64_t created = in.envelope.created_us ? in.envelope.created_us : messages::now_us();
        self->send(scheduler, begin_atom::value, internal_id(in), in.peer, in.envelope.request_id, *request,
                   created);
      },
  };
}

}  // namespace pice::actors
