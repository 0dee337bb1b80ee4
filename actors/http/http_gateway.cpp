// HttpGateway: the accept loop and the threads that run every HTTP session (Asio), plus the link to
// the node (AnswerRouter) and the metrics they share. Sessions themselves are in http_session.cpp.
#include "actors/http/http_gateway.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "actors/http/http_session.hpp"
#include "actors/http/server_context.hpp"

namespace pice::actors::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr int kMaxThreads = 256;
// After a failed accept (e.g. out of file descriptors) wait before trying again instead of spinning.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

HttpOptions checked(HttpOptions options) {
  auto bad = [](const std::string& what) { return std::invalid_argument("HTTP gateway: " + what); };
  if (options.port < 0 || options.port > 65535) throw bad("port must be 0..65535, got " + std::to_string(options.port));
  if (options.threads < 1 || options.threads > kMaxThreads)
    throw bad("threads must be 1.." + std::to_string(kMaxThreads) + ", got " + std::to_string(options.threads));
  if (options.max_inflight < 1) throw bad("max_inflight must be at least 1, got " + std::to_string(options.max_inflight));
  if (options.answer_timeout_ms < 1)
    throw bad("answer_timeout_ms must be at least 1, got " + std::to_string(options.answer_timeout_ms));
  if (options.model_name.empty()) throw bad("model_name is empty");
  if (options.host.empty()) throw bad("host is empty");
  return options;
}

std::string host_port(const HttpOptions& o) {
  bool v6 = o.host.find(':') != std::string::npos;
  return (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

}  // namespace

struct HttpGateway::Impl {
  Impl(HttpOptions options, std::string gateway_endpoint)
      : router(std::move(gateway_endpoint), options.security), context(checked(std::move(options)), router, metrics),
        io(context.options.threads) {
    if (!context.options.monitor_endpoint.empty()) {
      fleet = std::make_unique<FleetMonitor>(context.options.monitor_endpoint);
      context.fleet = fleet.get();
    }
  }

  void start();
  void stop();
  void accept();
  tcp::endpoint resolve() const;

  Metrics metrics;
  std::unique_ptr<FleetMonitor> fleet;
  AnswerRouter router;
  ServerContext context;
  net::io_context io;
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::vector<std::thread> threads;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  int port = 0;
};

tcp::endpoint HttpGateway::Impl::resolve() const {
  const HttpOptions& o = context.options;
  boost::system::error_code ec;
  auto address = net::ip::make_address(o.host, ec);
  if (!ec) return {address, static_cast<unsigned short>(o.port)};
  net::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty())
    throw std::runtime_error("HTTP gateway: cannot listen on " + host_port(o) + ": cannot resolve '" + o.host +
                             "': " + (ec ? ec.message() : "no address"));
  return results.begin()->endpoint();
}

void HttpGateway::Impl::start() {
  if (started.exchange(true)) throw std::logic_error("HttpGateway::start called twice");
  const HttpOptions& o = context.options;
  tcp::endpoint endpoint = resolve();
  boost::system::error_code ec;
  auto fail = [&](const char* step) {
    throw std::runtime_error("HTTP gateway: cannot listen on " + host_port(o) + ": " + step + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) fail("socket");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) fail("SO_REUSEADDR");
  if (acceptor.bind(endpoint, ec); ec) fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) fail("listen");
  port = acceptor.local_endpoint().port();
  router.start();
  if (fleet) fleet->start();
  accept();
  for (int i = 0; i < o.threads; ++i)
    threads.emplace_back([this] {
      // A handler that throws must not take the server down: log it and keep serving.
      while (true) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: unexpected exception in a connection handler: {}", e.what());
        }
      }
    });
  spdlog::info("http: serving the OpenAI-compatible API on {}:{} ({} thread(s), at most {} chat completions in "
               "flight{})",
               o.host, port, o.threads, o.max_inflight, o.api_key.empty() ? "" : ", API key required");
}

void HttpGateway::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      spdlog::warn("http: accept failed: {}; retrying", ec.message());
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    start_session(std::move(socket), context);
    accept();
  });
}

void HttpGateway::Impl::stop() {
  if (stopped.exchange(true)) return;
  io.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  boost::system::error_code ignored;
  acceptor.close(ignored);
  // Drops the routes, and with them the sessions waiting for answers; the rest go with `io`.
  router.stop();
  if (fleet) fleet->stop();
}

HttpGateway::HttpGateway(HttpOptions options, std::string gateway_endpoint)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(gateway_endpoint))) {}

HttpGateway::~HttpGateway() { stop(); }

void HttpGateway::start() { impl_->start(); }

void HttpGateway::stop() { impl_->stop(); }

int HttpGateway::port() const { return impl_->port; }

HttpOptions parse_http_address(const std::string& value) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("HTTP address '" + value + "': " + why + " (expected HOST:PORT, e.g. 127.0.0.1:8080)");
  };
  size_t colon = value.rfind(':');
  if (colon == std::string::npos) throw bad("no port");
  std::string host = value.substr(0, colon);
  std::string port = value.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find_first_of("[]:") != std::string::npos) throw bad("an IPv6 address must be in brackets");
  if (host.empty()) throw bad("the host is empty");
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535)
    throw bad("the port must be a number 0..65535");
  HttpOptions options;
  options.host = host;
  options.port = std::stoi(port);
  return options;
}

}  // namespace pice::actors::http
