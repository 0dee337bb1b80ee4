// `pice top --connect ADDR`: a live view of the fleet from the cloud's monitor socket (the XPUB side
// of its events proxy). `--once` listens for one window and prints one snapshot, for scripts.
#include <csignal>
#include <iostream>
#include <zmq.hpp>

#include "actors/cli/commands.hpp"
#include "actors/cli/node_setup.hpp"
#include "actors/fleet_view.hpp"
#include "brokers/context.hpp"
#include "brokers/endpoints.hpp"

namespace pice::cli {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_stop_signal(int) { stop_requested = 1; }

// Receives for `window`, feeding view; returns false on a receive error.
void listen(zmq::socket_t& sub, actors::FleetView& view, std::chrono::milliseconds window) {
  const auto until = std::chrono::steady_clock::now() + window;
  while (!stop_requested) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, left);
    zmq::message_t msg;
    while (sub.recv(msg, zmq::recv_flags::dontwait)) {
      try {
        view.observe(messages::decode(msg.to_string_view()), messages::now_us());
      } catch (const messages::DecodeError&) {
        // A monitor shows what it understands; the node that sent it counts its own errors.
      }
    }
  }
}

}  // namespace

int run_top(const TopOptions& options) {
  std::string monitor;
  try {
    monitor = brokers::derive_endpoints(options.connect).monitor;
  } catch (const std::exception& e) {
    std::cerr << "pice top: --connect " << options.connect << ": " << e.what() << "\n";
    return kExitConfigError;
  }
  std::optional<brokers::CurveSecurity> security;
  try {
    security = load_client_security(options.config_path, options.key_file, options.server_key_file);
  } catch (const std::exception& e) {   // config::ConfigError, or a key without server key
    std::cerr << "pice top: config error: " << e.what() << "\n";
    return kExitConfigError;
  }
  zmq::socket_t sub(brokers::shared_context(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "");
  if (security) brokers::apply_curve(sub, *security, brokers::Direction::connect, monitor);
  sub.connect(monitor);

  actors::FleetView view;
  const auto window = std::chrono::milliseconds(options.window_ms);
  if (options.once) {
    listen(sub, view, window);
    std::cout << view.render(messages::now_us());
    return view.nodes().empty() ? kExitFailure : kExitOk;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  while (!stop_requested) {
    listen(sub, view, window);
    int64_t now = messages::now_us();
    view.expire(now, int64_t{options.forget_after_ms} * 1000);
    std::cout << "\x1b[H\x1b[2J" << "pice top: " << monitor << "  (Ctrl-C to quit)\n\n" << view.render(now)
              << std::flush;
  }
  return kExitOk;
}

}  // namespace pice::cli
