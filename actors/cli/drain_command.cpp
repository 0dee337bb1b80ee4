// `pice drain --connect ADDR --node BOARD`: tells one edge board, through the cloud or broker it is
// attached to, to drain (finish its queued tasks, take no more, then exit). Succeeds once the board's
// heartbeats say it is draining, which is also when the schedulers stop placing tasks on it.
#include <iostream>
#include <zmq.hpp>

#include "actors/cli/commands.hpp"
#include "brokers/context.hpp"
#include "brokers/endpoints.hpp"
#include "messages/compression.hpp"
#include "messages/envelope.hpp"

namespace pice::cli {
namespace {

// The command goes again if the board keeps announcing that it is not draining (the first copy may
// have left before our connection to the cloud was up).
constexpr auto kResendAfter = std::chrono::milliseconds(1000);

std::string drain_message(const std::string& board) {
  messages::Envelope env;
  env.sender = "pice-drain";
  env.to = board;
  env.created_us = messages::now_us();
  env.body = messages::Control{"drain"};
  return messages::encode_frame(env, env.created_us);
}

}  // namespace

int run_drain(const DrainOptions& options) {
  brokers::ServiceEndpoints endpoints;
  try {
    endpoints = brokers::derive_endpoints(options.connect);
  } catch (const std::exception& e) {
    std::cerr << "pice drain: --connect " << options.connect << ": " << e.what() << "\n";
    return kExitConfigError;
  }
  zmq::socket_t sub(brokers::shared_context(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(endpoints.monitor);
  // The cloud's (or broker's) tasks ROUTER passes the command on to the board named in `to`.
  zmq::socket_t dealer(brokers::shared_context(), zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 1000);
  dealer.connect(endpoints.tasks);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  auto next_send = std::chrono::steady_clock::now();
  zmq::message_t msg;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::chrono::steady_clock::now() >= next_send) {
      (void)dealer.send(zmq::buffer(drain_message(options.node)), zmq::send_flags::dontwait);
      next_send = std::chrono::steady_clock::now() + kResendAfter;
    }
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    while (sub.recv(msg, zmq::recv_flags::dontwait)) {
      messages::Envelope env;
      try {
        env = messages::decode(msg.to_string_view());
      } catch (const messages::DecodeError&) {
        continue;
      }
      const auto* hb = std::get_if<messages::Heartbeat>(&env.body);
      if (hb && hb->node_id == options.node && hb->draining) {
        std::cout << "board '" << options.node << "' is draining (" << hb->queue_depth
                  << " task(s) queued); it exits when they are done\n";
        return kExitOk;
      }
    }
  }
  std::cerr << "pice drain: no draining heartbeat from board '" << options.node << "' within " << options.timeout_ms
            << " ms: is it attached to " << options.connect << "?\n";
  return kExitFailure;
}

}  // namespace pice::cli
