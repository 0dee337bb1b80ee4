#include "brokers/pump_socket.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "brokers/endpoints.hpp"
#include "messages/envelope.hpp"

namespace pice::brokers {
namespace {

// Short: stop() must not hang, and the process's context is never terminated, so linger only bounds
// how long ZeroMQ keeps trying to deliver what was already handed to it after the socket closes.
constexpr int kLingerMs = 100;
// A peer can always make us queue: bound it so a dead peer costs memory, not the process.
constexpr size_t kMaxWaitingBytes = size_t{256} << 20;
// Retry delays after a flush in which nothing could be sent although the socket polled writable.
constexpr std::chrono::milliseconds kFirstBackoff{1};
constexpr std::chrono::milliseconds kMaxBackoff{50};

}  // namespace

const char* socket_type_name(zmq::socket_type type) {
  switch (type) {
    case zmq::socket_type::router: return "ROUTER";
    case zmq::socket_type::dealer: return "DEALER";
    case zmq::socket_type::push: return "PUSH";
    case zmq::socket_type::pull: return "PULL";
    case zmq::socket_type::pub: return "PUB";
    case zmq::socket_type::sub: return "SUB";
    case zmq::socket_type::req: return "REQ";
    case zmq::socket_type::rep: return "REP";
    case zmq::socket_type::xpub: return "XPUB";
    case zmq::socket_type::xsub: return "XSUB";
    case zmq::socket_type::pair: return "PAIR";
    case zmq::socket_type::stream: return "STREAM";
    default: return "unknown socket type";
  }
}

PumpSocket::PumpSocket(SocketSpec spec, Handler handler)
    : spec_(std::move(spec)), handler_(std::move(handler)), endpoint_(spec_.endpoint), backoff_(kFirstBackoff) {}

bool PumpSocket::can_send() const {
  return spec_.type != zmq::socket_type::pull && spec_.type != zmq::socket_type::sub;
}

bool PumpSocket::can_receive() const {
  return spec_.type != zmq::socket_type::push && spec_.type != zmq::socket_type::pub;
}

void PumpSocket::open(zmq::context_t& context, const std::string& pump_name, const CurveSecurity* security) {
  const bool bind = spec_.direction == Direction::bind;
  try {
    socket_.emplace(context, spec_.type);
    socket_->set(zmq::sockopt::linger, kLingerMs);
    if (can_receive()) socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(messages::kMaxMessageBytes));
    if (is_router()) {
      // Unknown peers fail loudly (EHOSTUNREACH) instead of being dropped in silence, and a full
      // peer queue returns EAGAIN so we keep the message.
      socket_->set(zmq::sockopt::router_mandatory, true);
      // A peer that reconnects with the same routing id (edge restarted, network blip) takes over
      // its id instead of being refused while the old connection lingers.
      socket_->set(zmq::sockopt::router_handover, true);
    }
    if (!spec_.routing_id.empty()) socket_->set(zmq::sockopt::routing_id, spec_.routing_id);
    if (spec_.type == zmq::socket_type::sub) {
      if (spec_.subscriptions.empty()) socket_->set(zmq::sockopt::subscribe, "");
      for (const std::string& prefix : spec_.subscriptions) socket_->set(zmq::sockopt::subscribe, prefix);
    }
    if (security) {
      apply_curve(*socket_, *security, spec_.direction, spec_.endpoint);
      if (!bind && curve_applies(spec_.endpoint)) {
        public_key_ = security->own.public_key;
        open_monitor(context);
      }
    }
    if (bind) {
      socket_->bind(spec_.endpoint);
      bound_ = true;
      endpoint_ = socket_->get(zmq::sockopt::last_endpoint);
    } else {
      socket_->connect(spec_.endpoint);
      endpoint_ = spec_.endpoint;
    }
  } catch (const std::exception& e) {   // zmq::error_t, or CURVE settings that do not fit the direction
    close();
    throw EndpointError("pump '" + pump_name + "': cannot " + (bind ? "bind" : "connect") + " socket '" +
                        spec_.name + "' (" + socket_type_name(spec_.type) + ") to " +
                        spec_.endpoint + ": " + e.what());
  }
}

void PumpSocket::close() {
  if (socket_ && bound_) {
    // Closing alone releases the address later, on ZeroMQ's reaper thread; unbinding releases an
    // inproc name at once, so a node restarted in the same process can bind it again right away.
    try {
      socket_->unbind(endpoint_);
    } catch (const zmq::error_t&) {   // already gone: nothing to release
    }
  }
  bound_ = false;
  close_monitor();
  socket_.reset();
}

void PumpSocket::open_monitor(zmq::context_t& context) {
  static std::atomic<uint64_t> counter{0};
  const std::string endpoint = "inproc://pice-curve-monitor-" + std::to_string(counter.fetch_add(1));
  constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (zmq_socket_monitor(socket_->handle(), endpoint.c_str(), kEvents) != 0) throw zmq::error_t();
  monitor_.emplace(context, zmq::socket_type::pair);
  monitor_->set(zmq::sockopt::linger, 0);
  monitor_->connect(endpoint);
}

void PumpSocket::close_monitor() {
  if (!monitor_) return;
  if (socket_) zmq_socket_monitor(socket_->handle(), nullptr, 0);
  monitor_.reset();
}

zmq_pollitem_t PumpSocket::monitor_poll_item() { return zmq_pollitem_t{monitor_->handle(), 0, ZMQ_POLLIN, 0}; }

void PumpSocket::read_monitor(const std::string& pump_name) {
  zmq::message_t event, address;
  // Each event is two frames: 16-bit event id and 32-bit value, then the peer's endpoint.
  while (monitor_->recv(event, zmq::recv_flags::dontwait)) {
    if (!event.more() || !monitor_->recv(address, zmq::recv_flags::none) || event.size() < 6) continue;
    uint16_t id = 0;
    uint32_t value = 0;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && !auth_refusal_logged_) {
      auth_refusal_logged_ = true;
      spdlog::error("pump '{}': {} refused socket '{}' (CURVE status {}): it does not accept this node's public key "
                    "{}; add it to the server's security.allowed_keys, then restart this node",
                    pump_name, address.to_string(), spec_.name, value, public_key_);
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && !protocol_failure_logged_) {
      protocol_failure_logged_ = true;
      spdlog::error("pump '{}': the CURVE handshake of socket '{}' with {} failed (protocol error {:#x}): does the "
                    "server speak CURVE?", pump_name, spec_.name, address.to_string(), value);
    }
  }
}

zmq_pollitem_t PumpSocket::poll_item(Clock::time_point now) {
  short events = 0;
  if (can_receive()) events |= ZMQ_POLLIN;
  if (has_waiting() && now >= retry_at_) events |= ZMQ_POLLOUT;
  return zmq_pollitem_t{socket_->handle(), 0, events, 0};
}

std::optional<PumpSocket::Clock::duration> PumpSocket::retry_due_in(Clock::time_point now) const {
  if (!has_waiting() || now >= retry_at_) return std::nullopt;
  return retry_at_ - now;
}

PumpSocket::Attempt PumpSocket::try_send(const std::string& peer, const std::string& bytes, std::string& why) {
  try {
    if (is_router()) {
      // With ROUTER_MANDATORY the routing frame is where an unknown or full peer is refused, before
      // anything is queued, so a refused message leaves no partial frames behind.
      if (!socket_->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
        return Attempt::would_block;
    }
    if (!socket_->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return Attempt::would_block;
    return Attempt::sent;
  } catch (const zmq::error_t& e) {
    why = e.num() == EHOSTUNREACH ? "no such peer" : e.what();
    return Attempt::failed;
  }
}

void PumpSocket::enqueue(std::string peer, std::string bytes, std::vector<Failure>& failed) {
  if (waiting_bytes_ + bytes.size() > kMaxWaitingBytes) {
    failed.push_back({std::move(peer), std::move(bytes),
                      "outbound queue full (" + std::to_string(waiting_count_) + " messages, " +
                          std::to_string(waiting_bytes_) + " bytes waiting for the peer)"});
    return;
  }
  waiting_bytes_ += bytes.size();
  ++waiting_count_;
  waiting_[std::move(peer)].push_back(std::move(bytes));
}

bool PumpSocket::send_or_queue(std::string peer, std::string bytes, std::vector<Failure>& failed) {
  if (waiting_.count(peer) != 0) {   // keep per-peer order behind what is already waiting
    enqueue(std::move(peer), std::move(bytes), failed);
    return false;
  }
  std::string why;
  switch (try_send(peer, bytes, why)) {
    case Attempt::sent: return true;
    case Attempt::would_block:
      if (!has_waiting()) retry_at_ = Clock::time_point{};   // first waiter: retry on the next POLLOUT
      enqueue(std::move(peer), std::move(bytes), failed);
      return false;
    case Attempt::failed: failed.push_back({std::move(peer), std::move(bytes), std::move(why)}); return false;
  }
  return false;
}

PumpSocket::FlushResult PumpSocket::flush(Clock::time_point now) {
  FlushResult result;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    std::deque<std::string>& queue = it->second;
    while (!queue.empty()) {
      std::string why;
      const size_t size = queue.front().size();
      const Attempt attempt = try_send(it->first, queue.front(), why);
      if (attempt == Attempt::would_block) break;
      if (attempt == Attempt::sent) {
        ++result.sent;
      } else {
        result.failed.push_back({it->first, std::move(queue.front()), std::move(why)});
      }
      waiting_bytes_ -= size;
      --waiting_count_;
      queue.pop_front();
    }
    it = queue.empty() ? waiting_.erase(it) : std::next(it);
  }
  if (result.sent == 0 && result.failed.empty() && has_waiting()) {
    retry_at_ = now + backoff_;
    backoff_ = std::min<Clock::duration>(backoff_ * 2, kMaxBackoff);
  } else {
    retry_at_ = Clock::time_point{};
    backoff_ = kFirstBackoff;
  }
  return result;
}

std::vector<PumpSocket::Failure> PumpSocket::drain_waiting(const std::string& why) {
  std::vector<Failure> failed;
  for (auto& [peer, queue] : waiting_) {
    for (std::string& bytes : queue) failed.push_back({peer, std::move(bytes), why});
  }
  waiting_.clear();
  waiting_count_ = 0;
  waiting_bytes_ = 0;
  return failed;
}

bool PumpSocket::receive(std::string& peer, zmq::message_t& payload) {
  if (!socket_->recv(payload, zmq::recv_flags::dontwait)) return false;
  peer.clear();
  bool first = true;
  // The rest of a multipart message is already here (ZeroMQ delivers messages whole): read it all so
  // the next receive starts at a message boundary, keeping the first frame (routing id) and the last.
  while (payload.more()) {
    if (first && is_router()) peer.assign(payload.data<char>(), payload.size());
    first = false;
    (void)socket_->recv(payload, zmq::recv_flags::none);
  }
  return true;
}

}  // namespace pice::brokers
