#include "brokers/event_proxy.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "brokers/context.hpp"
#include "brokers/endpoints.hpp"

namespace pice::brokers {
namespace {

std::atomic<uint64_t> proxy_counter{0};

void bind_all(zmq::socket_t& socket, const std::vector<std::string>& endpoints, const std::string& name,
              const char* side, const std::optional<CurveSecurity>& security) {
  for (const auto& endpoint : endpoints) {
    try {
      if (security) apply_curve(socket, *security, Direction::bind, endpoint);
      socket.bind(endpoint);
    } catch (const std::exception& e) {
      throw EndpointError("events proxy '" + name + "': cannot bind its " + side + " side to '" + endpoint +
                          "': " + e.what());
    }
  }
}

void unbind_quietly(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.unbind(endpoint);
  } catch (const zmq::error_t&) {
    // Closing follows anyway; an endpoint that cannot be unbound is released then.
  }
}

}  // namespace

struct EventProxy::Impl {
  std::string name;
  std::vector<std::string> publishers_bind, subscribers_bind;
  std::optional<CurveSecurity> security;
  // The control pair: stop() says TERMINATE on `command`, the proxy thread listens on its peer.
  std::string control_endpoint;
  std::unique_ptr<zmq::socket_t> command;
  std::thread thread;
  std::mutex lifecycle;
};

EventProxy::EventProxy(std::string name, std::vector<std::string> publishers_bind,
                       std::vector<std::string> subscribers_bind)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->publishers_bind = std::move(publishers_bind);
  impl_->subscribers_bind = std::move(subscribers_bind);
  impl_->control_endpoint = "inproc://pice-events-proxy-control-" + std::to_string(proxy_counter++);
}

EventProxy::~EventProxy() { stop(); }

void EventProxy::set_security(CurveSecurity security) {
  std::lock_guard lock(impl_->lifecycle);
  impl_->security = std::move(security);
}

void EventProxy::start() {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->thread.joinable()) return;
  // Sockets are made and bound here so a bind failure reaches the caller; from then on only the
  // proxy thread touches them (the move into the thread is the hand-over).
  auto xsub = std::make_unique<zmq::socket_t>(shared_context(), zmq::socket_type::xsub);
  auto xpub = std::make_unique<zmq::socket_t>(shared_context(), zmq::socket_type::xpub);
  auto control = std::make_unique<zmq::socket_t>(shared_context(), zmq::socket_type::pair);
  for (auto* s : {xsub.get(), xpub.get(), control.get()}) s->set(zmq::sockopt::linger, 0);
  bind_all(*xsub, impl_->publishers_bind, impl_->name, "publisher (XSUB)", impl_->security);
  bind_all(*xpub, impl_->subscribers_bind, impl_->name, "subscriber (XPUB)", impl_->security);
  control->bind(impl_->control_endpoint);
  impl_->command = std::make_unique<zmq::socket_t>(shared_context(), zmq::socket_type::pair);
  impl_->command->set(zmq::sockopt::linger, 0);
  impl_->command->connect(impl_->control_endpoint);
  impl_->thread = std::thread([xsub = std::move(xsub), xpub = std::move(xpub), control = std::move(control),
                               name = impl_->name, publishers = impl_->publishers_bind,
                               subscribers = impl_->subscribers_bind]() mutable {
    try {
      zmq::proxy_steerable(*xsub, *xpub, zmq::socket_ref(), *control);
    } catch (const zmq::error_t& e) {
      spdlog::error("events proxy '{}' stopped: {}", name, e.what());
    }
    // Unbinding here (on the thread that used them) frees the names before stop() returns; closing
    // alone releases them later, on libzmq's reaper thread, and a quick restart would find them taken.
    for (const auto& endpoint : publishers) unbind_quietly(*xsub, endpoint);
    for (const auto& endpoint : subscribers) unbind_quietly(*xpub, endpoint);
    xsub.reset();
    xpub.reset();
    control.reset();
  });
}

void EventProxy::stop() {
  std::lock_guard lock(impl_->lifecycle);
  if (!impl_->thread.joinable()) return;
  impl_->command->send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
  impl_->thread.join();
  impl_->command.reset();
}

}  // namespace pice::brokers
