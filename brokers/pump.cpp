#include "brokers/pump.hpp"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "brokers/outbound_queue.hpp"
#include "brokers/pump_socket.hpp"
#include "brokers/zap_handler.hpp"
#include "messages/compression.hpp"

namespace pice::brokers {
namespace {

// Messages read from one socket before the loop looks at the others and at the outbound queue again,
// so one busy socket cannot starve the rest.
constexpr int kReceiveBatch = 256;
// A ZeroMQ routing id is 1..255 bytes and may not start with a zero byte (reserved by libzmq).
constexpr size_t kMaxRoutingIdBytes = 255;

bool supported(zmq::socket_type type) {
  switch (type) {
    case zmq::socket_type::router:
    case zmq::socket_type::dealer:
    case zmq::socket_type::push:
    case zmq::socket_type::pull:
    case zmq::socket_type::pub:
    case zmq::socket_type::sub: return true;
    default: return false;
  }
}

std::string printable(const std::string& peer) {
  std::string out;
  for (unsigned char c : peer) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace

class Pump::Impl {
 public:
  explicit Impl(std::string name) : name_(std::move(name)) {}
  ~Impl() { stop(); }

  void add_socket(SocketSpec spec, Handler on_message);
  void on_send_failure(FailureHandler handler);
  void set_security(CurveSecurity security);
  void start();
  void stop();
  void send(const std::string& socket, const messages::Envelope& envelope, const std::string& peer);
  PumpStats stats() const;
  const std::string& name() const { return name_; }
  std::string endpoint(const std::string& socket) const;

 private:
  size_t socket_index(const std::string& socket) const;
  void check_not_started(const char* what) const;

  // Pump thread.
  void run(std::promise<void> ready);
  void open_sockets();
  void loop();
  void take_outbound();
  void receive_from(PumpSocket& socket);
  void dispatch(PumpSocket& socket, std::string peer, const zmq::message_t& payload);
  void flush(PumpSocket& socket, PumpSocket::Clock::time_point now);
  void report_failures(const PumpSocket& socket, std::vector<PumpSocket::Failure>& failures);
  void shut_down(const std::string& why);
  void update_waiting();

  const std::string name_;
  std::vector<PumpSocket> sockets_;                   // fixed once started
  std::unordered_map<std::string, size_t> by_name_;   // fixed once started
  FailureHandler on_failure_;
  std::optional<CurveSecurity> security_;   // fixed once started
  OutboundQueue outbound_;

  std::mutex lifecycle_mutex_;   // start()/stop() from several threads
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> open_{false};   // set once start() succeeded: endpoints are known from then on
  std::atomic<bool> stop_requested_{false};

  std::atomic<uint64_t> received_{0}, rejected_{0}, sent_{0}, send_failures_{0}, waiting_{0};
};

// ---- configuration (before start) ----

void Pump::Impl::check_not_started(const char* what) const {
  if (started_) throw std::logic_error("pump '" + name_ + "': " + what + " must be called before start()");
}

void Pump::Impl::add_socket(SocketSpec spec, Handler on_message) {
  check_not_started("add_socket()");
  const std::string where = "pump '" + name_ + "': socket '" + spec.name + "'";
  if (spec.name.empty()) throw std::invalid_argument("pump '" + name_ + "': a socket needs a name");
  if (by_name_.count(spec.name) != 0) throw std::invalid_argument(where + " is added twice");
  if (!supported(spec.type))
    throw std::invalid_argument(where + ": socket type " + socket_type_name(spec.type) +
                                " is not supported (ROUTER, DEALER, PUSH, PULL, PUB, SUB)");
  try {
    validate_endpoint(spec.endpoint);
  } catch (const EndpointError& e) {
    throw EndpointError(where + ": " + e.what());
  }
  if (spec.routing_id.size() > kMaxRoutingIdBytes || (!spec.routing_id.empty() && spec.routing_id.front() == '\0'))
    throw std::invalid_argument(where + ": routing id must be 1.." + std::to_string(kMaxRoutingIdBytes) +
                                " bytes and not start with a zero byte (got " +
                                std::to_string(spec.routing_id.size()) + " bytes)");
  if (!spec.subscriptions.empty() && spec.type != zmq::socket_type::sub)
    throw std::invalid_argument(where + ": only SUB sockets take subscriptions");
  PumpSocket socket(std::move(spec), std::move(on_message));
  if (socket.handler() && !socket.can_receive())
    throw std::invalid_argument(where + " is " + socket_type_name(socket.spec().type) +
                                ", which never receives: it takes no handler");
  by_name_.emplace(socket.spec().name, sockets_.size());
  sockets_.push_back(std::move(socket));
}

void Pump::Impl::on_send_failure(FailureHandler handler) {
  check_not_started("on_send_failure()");
  on_failure_ = std::move(handler);
}

void Pump::Impl::set_security(CurveSecurity security) {
  check_not_started("set_security()");
  security_ = std::move(security);
}

size_t Pump::Impl::socket_index(const std::string& socket) const {
  const auto it = by_name_.find(socket);
  if (it == by_name_.end()) throw std::invalid_argument("pump '" + name_ + "' has no socket '" + socket + "'");
  return it->second;
}

std::string Pump::Impl::endpoint(const std::string& socket) const {
  const size_t index = socket_index(socket);
  if (!open_.load()) throw std::logic_error("pump '" + name_ + "': endpoint() is known only after start() succeeded");
  return sockets_[index].endpoint();
}

// ---- lifecycle ----

void Pump::Impl::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_) throw std::logic_error("pump '" + name_ + "': start() called twice");
  started_ = true;
  std::promise<void> ready;
  std::future<void> opened = ready.get_future();
  // The thread owns the promise: it may still be inside set_value() when we return from get().
  thread_ = std::thread([this, ready = std::move(ready)]() mutable { run(std::move(ready)); });
  try {
    opened.get();
  } catch (...) {
    thread_.join();   // it has closed its sockets and returns right after reporting
    throw;
  }
  open_.store(true);
}

void Pump::Impl::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id())
    throw std::logic_error("pump '" + name_ + "': stop() called from its own thread (a handler)");
  stop_requested_.store(true);
  outbound_.wake();
  thread_.join();
}

void Pump::Impl::run(std::promise<void> ready) {
  try {
    open_sockets();
  } catch (...) {
    shut_down("the pump failed to start");
    ready.set_exception(std::current_exception());
    return;
  }
  ready.set_value();
  try {
    loop();
  } catch (const std::exception& e) {
    // Only a ZeroMQ failure of the poll itself gets here; nothing a peer sends can.
    spdlog::critical("pump '{}': stopped by an unexpected error: {}", name_, e.what());
  }
  shut_down("the pump stopped before the message could be sent");
}

void Pump::Impl::open_sockets() {
  zmq::context_t& context = shared_context();
  for (PumpSocket& socket : sockets_) socket.open(context, name_, security_ ? &*security_ : nullptr);
}

void Pump::Impl::shut_down(const std::string& why) {
  for (PumpSocket& socket : sockets_) {
    std::vector<PumpSocket::Failure> failures = socket.drain_waiting(why);
    report_failures(socket, failures);
  }
  for (OutboundMessage& message : outbound_.close()) {
    std::vector<PumpSocket::Failure> failures;
    failures.push_back({std::move(message.peer), std::move(message.bytes), why});
    report_failures(sockets_[message.socket], failures);
  }
  for (PumpSocket& socket : sockets_) socket.close();
  update_waiting();
}

void Pump::Impl::update_waiting() {
  uint64_t waiting = 0;
  for (const PumpSocket& socket : sockets_) waiting += socket.waiting_count();
  waiting_.store(waiting);
}

// ---- the loop (pump thread) ----

void Pump::Impl::loop() {
  std::vector<zmq_pollitem_t> items;
  items.reserve(sockets_.size() + 1);
  while (!stop_requested_.load()) {
    auto now = PumpSocket::Clock::now();
    items.clear();
    items.push_back(zmq_pollitem_t{nullptr, outbound_.fd(), ZMQ_POLLIN, 0});
    std::optional<PumpSocket::Clock::duration> wait;
    for (PumpSocket& socket : sockets_) {
      items.push_back(socket.poll_item(now));
      if (const auto due = socket.retry_due_in(now); due && (!wait || *due < *wait)) wait = due;
    }
    for (PumpSocket& socket : sockets_)
      if (socket.has_monitor()) items.push_back(socket.monitor_poll_item());
    // No timeout unless a backed-off retry is due: every send wakes us through the eventfd.
    const auto timeout = wait ? std::chrono::ceil<std::chrono::milliseconds>(*wait) : std::chrono::milliseconds{-1};
    try {
      zmq::poll(items, timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if (items[0].revents & ZMQ_POLLIN) take_outbound();
    now = PumpSocket::Clock::now();
    for (size_t i = 0; i < sockets_.size(); ++i) {
      if (items[i + 1].revents & ZMQ_POLLIN) receive_from(sockets_[i]);
      if (items[i + 1].revents & ZMQ_POLLOUT) flush(sockets_[i], now);
    }
    for (size_t i = 0, monitor = sockets_.size() + 1; i < sockets_.size(); ++i) {
      if (!sockets_[i].has_monitor()) continue;
      if (items[monitor++].revents & ZMQ_POLLIN) sockets_[i].read_monitor(name_);
    }
    update_waiting();
  }
}

void Pump::Impl::take_outbound() {
  for (OutboundMessage& message : outbound_.take_all()) {
    PumpSocket& socket = sockets_[message.socket];
    std::vector<PumpSocket::Failure> failures;
    if (socket.send_or_queue(std::move(message.peer), std::move(message.bytes), failures)) sent_.fetch_add(1);
    report_failures(socket, failures);
  }
}

void Pump::Impl::flush(PumpSocket& socket, PumpSocket::Clock::time_point now) {
  PumpSocket::FlushResult result = socket.flush(now);
  sent_.fetch_add(result.sent);
  report_failures(socket, result.failed);
}

void Pump::Impl::receive_from(PumpSocket& socket) {
  std::string peer;
  zmq::message_t payload;
  for (int i = 0; i < kReceiveBatch; ++i) {
    try {
      if (!socket.receive(peer, payload)) return;
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::warn("pump '{}': receiving on socket '{}' failed: {}", name_, socket.spec().name, e.what());
      return;
    }
    dispatch(socket, std::move(peer), payload);
  }
}

void Pump::Impl::dispatch(PumpSocket& socket, std::string peer, const zmq::message_t& payload) {
  messages::Envelope envelope;
  try {
    envelope = messages::decode(std::string_view(payload.data<char>(), payload.size()));
  } catch (const std::exception& e) {   // DecodeError; anything else from decode is rejected the same way
    rejected_.fetch_add(1);
    if (const auto held_back = socket.reject_log().admit()) {
      spdlog::warn("pump '{}': socket '{}' rejected a {}-byte message{}{}: {}{}", name_, socket.spec().name,
                   payload.size(), peer.empty() ? "" : " from peer ", printable(peer), e.what(),
                   *held_back ? " (and " + std::to_string(*held_back) + " more rejected since the last report)" : "");
    }
    return;
  }
  received_.fetch_add(1);
  if (!socket.handler()) return;
  try {
    socket.handler()(Inbound{socket.spec().name, std::move(peer), std::move(envelope)});
  } catch (const std::exception& e) {
    if (const auto held_back = socket.handler_log().admit())
      spdlog::error("pump '{}': handler of socket '{}' threw: {}{}", name_, socket.spec().name, e.what(),
                    *held_back ? " (and " + std::to_string(*held_back) + " more since the last report)" : "");
  } catch (...) {
    if (socket.handler_log().admit())
      spdlog::error("pump '{}': handler of socket '{}' threw a non-standard exception", name_, socket.spec().name);
  }
}

void Pump::Impl::report_failures(const PumpSocket& socket, std::vector<PumpSocket::Failure>& failures) {
  for (PumpSocket::Failure& failure : failures) {
    send_failures_.fetch_add(1);
    spdlog::debug("pump '{}': socket '{}' could not send to '{}': {}", name_, socket.spec().name,
                  printable(failure.peer), failure.why);
    if (!on_failure_) continue;
    messages::Envelope envelope;
    try {
      envelope = messages::decode(failure.bytes);   // we encoded it: decoding gives the caller's envelope back
    } catch (const std::exception& e) {
      spdlog::error("pump '{}': cannot decode an unsent message of socket '{}': {}", name_, socket.spec().name, e.what());
    }
    try {
      on_failure_(socket.spec().name, failure.peer, envelope, failure.why);
    } catch (const std::exception& e) {
      spdlog::error("pump '{}': send-failure handler threw: {}", name_, e.what());
    } catch (...) {
      spdlog::error("pump '{}': send-failure handler threw a non-standard exception", name_);
    }
  }
}

// ---- any thread ----

void Pump::Impl::send(const std::string& socket, const messages::Envelope& envelope, const std::string& peer) {
  const size_t index = socket_index(socket);
  const PumpSocket& target = sockets_[index];
  const std::string where = "pump '" + name_ + "': socket '" + socket + "' (" + socket_type_name(target.spec().type) + ")";
  if (!target.can_send()) throw std::invalid_argument(where + " cannot send");
  if (target.is_router() && peer.empty()) throw std::invalid_argument(where + ": send() needs the peer's routing id");
  if (!target.is_router() && !peer.empty())
    throw std::invalid_argument(where + ": only ROUTER sockets address a peer (got peer '" + printable(peer) + "')");
  // Stamped here, once, for every message a node sends: receivers measure transport and queueing time.
  if (!outbound_.push(OutboundMessage{index, peer, messages::encode_frame(envelope, messages::now_us())})) {
    send_failures_.fetch_add(1);
    spdlog::debug("{}: message of request '{}' dropped: the pump is stopped", where, envelope.request_id);
  }
}

PumpStats Pump::Impl::stats() const {
  const uint64_t auth_rejected = security_ && security_->access ? security_->access->rejected() : 0;
  return PumpStats{received_.load(), rejected_.load(), sent_.load(), send_failures_.load(), waiting_.load(), auth_rejected};
}

// ---- Pump: forwards to Impl ----

Pump::Pump(std::string name) : impl_(std::make_unique<Impl>(std::move(name))) {}
Pump::Pump(Pump&&) noexcept = default;
Pump& Pump::operator=(Pump&&) noexcept = default;
Pump::~Pump() = default;   // Impl's destructor stops the thread

void Pump::add_socket(SocketSpec spec, Handler on_message) { impl_->add_socket(std::move(spec), std::move(on_message)); }
void Pump::on_send_failure(FailureHandler handler) { impl_->on_send_failure(std::move(handler)); }
void Pump::set_security(CurveSecurity security) { impl_->set_security(std::move(security)); }
void Pump::start() { impl_->start(); }
void Pump::stop() {
  if (impl_) impl_->stop();
}
void Pump::send(const std::string& socket, const messages::Envelope& envelope, const std::string& peer) {
  impl_->send(socket, envelope, peer);
}
PumpStats Pump::stats() const { return impl_->stats(); }
const std::string& Pump::name() const { return impl_->name(); }
std::string Pump::endpoint(const std::string& socket) const { return impl_->endpoint(socket); }

}  // namespace pice::brokers
