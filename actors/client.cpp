#include "actors/client.hpp"

#include <chrono>
#include <random>
#include <zmq.hpp>

#include "brokers/pump.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {
namespace {

std::string random_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

// The client's DEALER lives and dies on the calling thread; it uses the process-wide context so that
// inproc:// gateways of an in-process node are reachable.
struct GatewayClient::Impl {
  zmq::socket_t socket{brokers::shared_context(), zmq::socket_type::dealer};
};

GatewayClient::GatewayClient(std::string gateway_endpoint) : impl_(std::make_unique<Impl>()) {
  impl_->socket.set(zmq::sockopt::linger, 0);
  impl_->socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(messages::kMaxMessageBytes));
  impl_->socket.connect(gateway_endpoint);
}

GatewayClient::~GatewayClient() = default;

Answer GatewayClient::ask(const messages::Request& request, int timeout_ms,
                          const std::function<void(const messages::AnswerChunk&)>& on_chunk) {
  messages::Envelope env;
  env.request_id = random_request_id();
  env.sender = "client";
  env.created_us = messages::now_us();
  env.sent_us = env.created_us;
  env.body = request;
  std::string bytes = messages::encode(env);
  Answer answer;
  answer.sent_us = env.created_us;
  impl_->socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      answer.error = "no complete answer within " + std::to_string(timeout_ms) + " ms";
      return answer;
    }
    zmq::pollitem_t item{impl_->socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, left);
    if (!(item.revents & ZMQ_POLLIN)) continue;
    zmq::message_t msg;
    if (!impl_->socket.recv(msg, zmq::recv_flags::dontwait)) continue;
    messages::Envelope reply;
    try {
      reply = messages::decode(msg.to_string_view());
    } catch (const messages::DecodeError& e) {
      answer.error = std::string("malformed reply from the gateway: ") + e.what();
      return answer;
    }
    const auto* chunk = std::get_if<messages::AnswerChunk>(&reply.body);
    if (!chunk || reply.request_id != env.request_id) continue;  // not ours: an earlier request's tail
    answer.received_us.push_back(messages::now_us());
    if (on_chunk) on_chunk(*chunk);
    answer.mode = chunk->mode;
    answer.path = chunk->path;
    answer.reason = chunk->reason;
    answer.elapsed_ms = chunk->elapsed_ms;
    switch (chunk->kind) {
      case messages::ChunkKind::sketch_point: answer.sketch.push_back(chunk->text); break;
      case messages::ChunkKind::expansion: answer.points.push_back(*chunk); break;
      case messages::ChunkKind::text: answer.text += chunk->text; break;
      case messages::ChunkKind::error: answer.error = chunk->text; return answer;
      case messages::ChunkKind::done:
        answer.done = *chunk;
        answer.finished = true;
        return answer;
    }
  }
}

}  // namespace pice::actors
