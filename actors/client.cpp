#include "actors/client.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <zmq.hpp>

#include "brokers/pump.hpp"
#include "messages/compression.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {
namespace {

std::string random_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::atomic<uint64_t> monitor_counter{0};

}  // namespace

// The client's DEALER lives and dies on the calling thread; it uses the process-wide context so that
// inproc:// gateways of an in-process node are reachable.
// A DEALER reconnects in silence, so a cloud that dies would leave the caller waiting for the whole
// timeout; the socket's monitor reports the lost connection instead, and the request (which died with
// the cloud's state) fails at once with a clear error.
struct GatewayClient::Impl {
  zmq::socket_t socket{brokers::shared_context(), zmq::socket_type::dealer};
  zmq::socket_t monitor{brokers::shared_context(), zmq::socket_type::pair};
  std::string endpoint;

  ~Impl() { zmq_socket_monitor(socket.handle(), nullptr, 0); }   // stop the monitor before the sockets close

  // Reads pending monitor events; true if one says the connection to the gateway was lost.
  bool connection_lost() {
    bool lost = false;
    zmq::message_t event, address;
    while (monitor.recv(event, zmq::recv_flags::dontwait)) {
      (void)monitor.recv(address, zmq::recv_flags::none);   // the event's second frame: the endpoint
      uint16_t id = 0;
      if (event.size() >= sizeof id) std::memcpy(&id, event.data(), sizeof id);
      lost |= id == ZMQ_EVENT_DISCONNECTED;
    }
    return lost;
  }
};

GatewayClient::GatewayClient(std::string gateway_endpoint, const std::optional<brokers::CurveSecurity>& security)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = gateway_endpoint;
  impl_->socket.set(zmq::sockopt::linger, 0);
  impl_->socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(messages::kMaxMessageBytes));
  if (security) brokers::apply_curve(impl_->socket, *security, brokers::Direction::connect, gateway_endpoint);
  const std::string monitor_endpoint = "inproc://pice-client-monitor-" + std::to_string(monitor_counter++);
  if (zmq_socket_monitor(impl_->socket.handle(), monitor_endpoint.c_str(), ZMQ_EVENT_DISCONNECTED) != 0)
    throw zmq::error_t();
  impl_->monitor.set(zmq::sockopt::linger, 0);
  impl_->monitor.connect(monitor_endpoint);
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
  std::string bytes = messages::encode_frame(env);
  Answer answer;
  answer.sent_us = env.created_us;
  impl_->connection_lost();   // a drop before this request (since reconnected) does not concern it
  impl_->socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      answer.error = "no complete answer within " + std::to_string(timeout_ms) + " ms";
      return answer;
    }
    zmq::pollitem_t items[] = {{impl_->socket.handle(), 0, ZMQ_POLLIN, 0}, {impl_->monitor.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, left);
    if ((items[1].revents & ZMQ_POLLIN) && impl_->connection_lost()) {
      answer.error = "lost the connection to the gateway at " + impl_->endpoint +
                     " (the cloud node stopped or failed); the request was not answered";
      return answer;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
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
