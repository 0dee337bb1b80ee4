#pragma once
// Pump: the one thread that owns a node's ZeroMQ sockets (a zmq socket must never be used from two
// threads). It binds/connects them, polls them, decodes what arrives and hands it to each socket's
// handler, and sends what any thread queues with send(). No policy: what to send where is the
// actors' business.

#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "brokers/context.hpp"
#include "brokers/curve.hpp"
#include "brokers/endpoints.hpp"
#include "brokers/socket_spec.hpp"
#include "messages/envelope.hpp"

namespace pice::brokers {

class Pump {
 public:
  // Both handlers run on the pump thread: keep them short (hand the message to an actor or a queue).
  // A handler that throws is logged and the pump goes on.
  using Handler = std::function<void(Inbound&&)>;
  using FailureHandler = std::function<void(const std::string& socket, const std::string& peer,
                                            const messages::Envelope&, const std::string& why)>;

  explicit Pump(std::string name);   // name: shown in log lines and error messages
  Pump(Pump&&) noexcept;
  Pump& operator=(Pump&&) noexcept;  // stops the pump being replaced
  ~Pump();                           // stop()

  // Before start() (and before any send()). Throws std::invalid_argument (duplicate name, unsupported
  // type, handler on a send-only socket, subscriptions on a non-SUB socket, bad routing id) or
  // EndpointError (malformed endpoint); std::logic_error after start().
  void add_socket(SocketSpec spec, Handler on_message = {});
  // Before start(). Called for every message that cannot be sent: "no such peer" (ROUTER peer unknown
  // or gone), the pump stopped before it went out, its outbound queue is full, or a ZeroMQ error.
  void on_send_failure(FailureHandler handler);
  // Before start(). Every tcp socket of this pump then speaks CURVE (brokers/curve.hpp): bound ones as
  // servers checked against security.access, connected ones as clients of security.server_key.
  void set_security(CurveSecurity security);

  // Creates, binds and connects every socket on the pump thread; returns once they are up.
  // Throws EndpointError (address in use, bad address...) naming the socket and endpoint; the thread
  // has then exited. std::logic_error if called twice.
  void start();
  // Idempotent, safe from any thread but the pump's own (i.e. not from a handler); joins the thread.
  // Messages still waiting (no peer ever connected) are reported to the failure handler.
  void stop();

  // Any thread; never blocks: the envelope is encoded here, with sent_us set to now, and queued for the pump thread, which
  // sends it at once or, while the socket cannot take it (no peer yet, high-water mark), keeps it and
  // retries in order when the socket becomes writable. peer: required for ROUTER sockets (the
  // routing id of an Inbound), not allowed otherwise. Throws std::invalid_argument for an unknown
  // socket, a socket that cannot send (PULL, SUB) or a wrong peer argument. After stop() the
  // message is counted as a send failure and dropped.
  void send(const std::string& socket, const messages::Envelope& envelope, const std::string& peer = {});

  PumpStats stats() const;

  // Additions to the contract:
  const std::string& name() const;
  // After start(): the endpoint a socket actually uses. For a bind to tcp://HOST:* this holds the
  // port the system picked (ZMQ_LAST_ENDPOINT); otherwise the configured endpoint.
  std::string endpoint(const std::string& socket) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pice::brokers
