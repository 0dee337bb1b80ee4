#include "actors/fleet_monitor.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "brokers/context.hpp"

namespace pice::actors {
namespace {

// How long the thread waits for a message before it looks at the stop flag and expires silent nodes.
constexpr auto kPoll = std::chrono::milliseconds(200);

}  // namespace

struct FleetMonitor::Impl {
  std::string endpoint;
  int64_t forget_after_us;
  mutable std::mutex mutex;
  FleetView view;
  std::atomic<bool> stop{false};
  std::thread thread;

  void run(zmq::socket_t sub) {
    zmq::message_t msg;
    while (!stop.load()) {
      zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, kPoll);
        std::lock_guard lock(mutex);
        while (sub.recv(msg, zmq::recv_flags::dontwait)) {
          try {
            view.observe(messages::decode(msg.to_string_view()), messages::now_us());
          } catch (const messages::DecodeError&) {
            // A monitor keeps what it understands; the sender counts its own errors.
          }
        }
        view.expire(messages::now_us(), forget_after_us);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::error("fleet monitor on {} stopped: {}", endpoint, e.what());
        return;
      }
    }
  }
};

FleetMonitor::FleetMonitor(std::string monitor_endpoint, int forget_after_ms) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(monitor_endpoint);
  impl_->forget_after_us = int64_t{forget_after_ms} * 1000;
}

FleetMonitor::~FleetMonitor() { stop(); }

void FleetMonitor::start() {
  zmq::socket_t sub(brokers::shared_context(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(impl_->endpoint);
  // The socket moves to the thread that uses it from now on.
  impl_->thread = std::thread([impl = impl_.get(), s = std::move(sub)]() mutable { impl->run(std::move(s)); });
}

void FleetMonitor::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stop.store(true);
  impl_->thread.join();
}

FleetView FleetMonitor::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->view;
}

}  // namespace pice::actors
