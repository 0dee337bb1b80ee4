#pragma once
// One socket of a Pump, as the pump thread sees it: the zmq socket, its handler, and the messages that
// could not be sent yet (kept in order per peer and retried when the socket polls writable).

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "brokers/curve.hpp"
#include "brokers/log_limiter.hpp"
#include "brokers/socket_spec.hpp"

namespace pice::brokers {

class PumpSocket {
 public:
  using Clock = std::chrono::steady_clock;
  using Handler = std::function<void(Inbound&&)>;

  struct Failure {
    std::string peer;
    std::string bytes;
    std::string why;
  };
  struct FlushResult {
    size_t sent = 0;
    std::vector<Failure> failed;
  };

  PumpSocket(SocketSpec spec, Handler handler);

  const SocketSpec& spec() const { return spec_; }
  const Handler& handler() const { return handler_; }
  bool is_router() const { return spec_.type == zmq::socket_type::router; }
  bool can_send() const;
  bool can_receive() const;
  const std::string& endpoint() const { return endpoint_; }   // after open(): the one in use

  // Pump thread. Creates the socket, sets its options (CURVE when `security` is given and the endpoint
  // is tcp), binds or connects. Throws EndpointError naming the pump, socket and endpoint; the socket
  // is then closed again.
  void open(zmq::context_t& context, const std::string& pump_name, const CurveSecurity* security);
  void close();

  // For zmq::poll: what to wait for now, and how long until a backed-off retry is due.
  zmq_pollitem_t poll_item(Clock::time_point now);
  std::optional<Clock::duration> retry_due_in(Clock::time_point now) const;

  // A new outbound message: sent at once unless messages for the same peer are already waiting (order)
  // or the socket cannot take it now, in which case it waits. Returns true if it went out; a message
  // that failed is appended to `failed`.
  bool send_or_queue(std::string peer, std::string bytes, std::vector<Failure>& failed);
  // Retries waiting messages (on POLLOUT). Backs off when nothing moved, so a ROUTER that polls
  // writable for other peers does not spin on one whose queue is full.
  FlushResult flush(Clock::time_point now);
  bool has_waiting() const { return waiting_count_ > 0; }
  size_t waiting_count() const { return waiting_count_; }
  // On stop: every message still waiting.
  std::vector<Failure> drain_waiting(const std::string& why);

  // Receives one whole message without blocking; false when none is ready. `peer` gets the ROUTER
  // routing id (first frame), `payload` the last frame.
  bool receive(std::string& peer, zmq::message_t& payload);

  // A CURVE client's handshake refusals (the server's ZAP handler said no) reach us only through a
  // socket monitor; the pump polls it so that a refused node says so in its own log, once per kind.
  bool has_monitor() const { return monitor_.has_value(); }
  zmq_pollitem_t monitor_poll_item();
  void read_monitor(const std::string& pump_name);

  LogLimiter& reject_log() { return reject_log_; }
  LogLimiter& handler_log() { return handler_log_; }

 private:
  enum class Attempt { sent, would_block, failed };
  Attempt try_send(const std::string& peer, const std::string& bytes, std::string& why);
  void enqueue(std::string peer, std::string bytes, std::vector<Failure>& failed);

  SocketSpec spec_;
  Handler handler_;
  std::optional<zmq::socket_t> socket_;
  std::string endpoint_;
  bool bound_ = false;

  std::map<std::string, std::deque<std::string>> waiting_;   // peer ("" unless ROUTER) -> encoded messages
  size_t waiting_count_ = 0;
  size_t waiting_bytes_ = 0;
  Clock::time_point retry_at_{};
  Clock::duration backoff_;

  void open_monitor(zmq::context_t& context);
  void close_monitor();

  std::optional<zmq::socket_t> monitor_;   // PAIR on the socket's monitor endpoint (CURVE clients)
  std::string public_key_;                 // this node's, for the refusal's log line
  bool auth_refusal_logged_ = false;
  bool protocol_failure_logged_ = false;

  LogLimiter reject_log_;
  LogLimiter handler_log_;
};

}  // namespace pice::brokers
