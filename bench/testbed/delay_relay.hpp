#pragma once
// A TCP relay that holds every byte for a fixed time before passing it on: the latency of a cloud-edge
// link for the testbed. This kernel has no netem qdisc, so tc shapes only bandwidth (tbf); the relay adds
// the propagation delay, the same in both directions (a round trip through it takes 2 x delay more).
//
// It accepts on each listen address and, per accepted connection, connects to the matching target; bytes
// keep their order and boundaries do not matter (TCP). A half-close travels after the bytes before it.
// Memory is bounded: a direction holding more than kMaxHeldBytes stops reading, so TCP's window
// pushes back on the sender instead of the relay growing.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pice::testbed {

struct RelayRoute {
  std::string listen_host;   // numeric IPv4 address to bind
  int listen_port = 0;       // 0: any free port (see DelayRelay::bound_ports)
  std::string target_host;   // numeric IPv4 address to connect to
  int target_port = 0;
};

struct RelayStats {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> bytes{0};          // forwarded, both directions
  std::atomic<uint64_t> refused{0};        // accepted connections whose target could not be reached
};

class DelayRelay {
 public:
  static constexpr size_t kMaxHeldBytes = 8u << 20;

  // Binds every route's listen address (throws std::runtime_error naming the address on failure).
  DelayRelay(std::vector<RelayRoute> routes, std::chrono::microseconds one_way_delay);
  ~DelayRelay();
  DelayRelay(const DelayRelay&) = delete;
  DelayRelay& operator=(const DelayRelay&) = delete;

  // The ports actually bound, one per route, in order.
  const std::vector<int>& bound_ports() const { return bound_ports_; }

  // Relays until stop() is called from another thread (or a signal handler: it only stores a flag and
  // writes to a pipe).
  void run();
  void stop();

  const RelayStats& stats() const { return stats_; }

 private:
  struct Impl;
  Impl* impl_;
  std::vector<int> bound_ports_;
  RelayStats stats_;
};

// "HOST:PORT" -> host, port; throws std::invalid_argument naming the text.
std::pair<std::string, int> parse_host_port(const std::string& text);

}  // namespace pice::testbed
