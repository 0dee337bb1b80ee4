#pragma once
// The OpenAI-compatible HTTP front door of a node: /v1/chat/completions (with and without SSE
// streaming), /v1/models, /health and /metrics.
//
// The HttpGateway is a client of the node's ZeroMQ gateway, exactly like `pice ask`: one DEALER
// socket (owned by a pump thread) carries one messages::Request per HTTP request and brings the answer
// chunks back, routed by request id to the waiting HTTP session. So the same server works in front of
// an all-in-one node (inproc://) or a remote cloud node (tcp://). This header stays light: Beast and
// Asio live in the .cpp files of actors/http/.
#include <memory>
#include <string>

namespace pice::brokers {
struct CurveSecurity;
}  // namespace pice::brokers

namespace pice::actors::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: the system picks a free port (see HttpGateway::port())
  int threads = 1;                  // Asio threads serving every connection
  int max_inflight = 256;           // chat completions running at once; beyond: 503 + Retry-After
  std::string api_key;              // empty: no authentication; else /v1/* need "Authorization: Bearer KEY"
  std::string model_name = "pice";  // the one model /v1/models lists and requests must name
  int answer_timeout_ms = 300000;   // a chat completion without its answer by then fails (504 / error event)
  std::string monitor_endpoint;     // the fleet's events (XPUB) to export on /metrics too; empty: gateway metrics only
  // CURVE keys for the link to a tcp gateway (brokers/curve.hpp); null: plain.
  std::shared_ptr<const brokers::CurveSecurity> security;
};

class HttpGateway {
 public:
  // gateway_endpoint: the node's ZeroMQ gateway (inproc://... in the same process, or tcp://...).
  // Throws std::invalid_argument for options out of range (threads, max_inflight, timeout, port).
  HttpGateway(HttpOptions options, std::string gateway_endpoint);
  ~HttpGateway();  // stop()
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // Binds and starts serving; throws std::runtime_error naming host:port on failure (e.g. in use).
  // std::logic_error if called twice.
  void start();
  void stop();      // idempotent; open connections are closed, running answers abandoned
  int port() const;  // the bound port (after start())

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "HOST:PORT" (HOST may be a name, an IPv4 address or a bracketed IPv6 address) -> options with
// host and port set, the rest default. Throws std::invalid_argument naming the value.
HttpOptions parse_http_address(const std::string& host_port);

}  // namespace pice::actors::http
