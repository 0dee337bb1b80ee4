// The testbed's delay relay on real loopback sockets: the delay it adds, order and completeness of a
// transfer larger than it may hold, half-close, many connections, and an unreachable target.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "bench/testbed/delay_relay.hpp"

namespace pice::testbed {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int listen_any(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(listen(fd, 128), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval timeout{30, 0};   // a broken relay fails the test instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
}

// Reads until EOF (or `limit` bytes).
std::string read_all(int fd, size_t limit = SIZE_MAX) {
  std::string out;
  char buffer[65536];
  while (out.size() < limit) {
    ssize_t n = recv(fd, buffer, std::min(sizeof buffer, limit - out.size()), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// A server thread that, for each of `connections` connections, hands the socket to `serve`.
class Server {
 public:
  Server(int connections, std::function<void(int)> serve) {
    fd_ = listen_any(port_);
    thread_ = std::thread([this, connections, serve] {
      std::vector<std::thread> handlers;
      for (int i = 0; i < connections; ++i) {
        int client = accept(fd_, nullptr, nullptr);
        if (client < 0) break;
        handlers.emplace_back([client, serve] {
          serve(client);
          close(client);
        });
      }
      for (auto& h : handlers) h.join();
    });
  }
  ~Server() {
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

// A relay running on its own thread for the test's duration.
class RunningRelay {
 public:
  RunningRelay(int target_port, std::chrono::microseconds delay)
      : relay_({RelayRoute{"127.0.0.1", 0, "127.0.0.1", target_port}}, delay), thread_([this] { relay_.run(); }) {}
  ~RunningRelay() {
    relay_.stop();
    thread_.join();
  }
  int port() const { return relay_.bound_ports().at(0); }
  const RelayStats& stats() const { return relay_.stats(); }

 private:
  DelayRelay relay_;
  std::thread thread_;
};

void echo(int fd) {
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) send(fd, buffer, static_cast<size_t>(n), MSG_NOSIGNAL);
}

TEST(DelayRelay, ARoundTripTakesAtLeastTwiceTheDelay) {
  Server server(1, echo);
  RunningRelay relay(server.port(), 40ms);
  int fd = connect_to(relay.port());
  for (int i = 0; i < 5; ++i) {
    const Clock::time_point start = Clock::now();
    send_all(fd, "ping");
    ASSERT_EQ(read_all(fd, 4), "ping");
    EXPECT_GE(Clock::now() - start, 80ms) << "round trip " << i;
  }
  close(fd);
}

TEST(DelayRelay, ATransferLargerThanItHoldsArrivesWholeAndInOrderThenTheHalfClose) {
  const size_t size = 3 * DelayRelay::kMaxHeldBytes + 12345;
  std::string data(size, '\0');
  std::mt19937 rng(7);
  for (char& c : data) c = static_cast<char>(rng());
  std::string received;
  // The server reads to EOF (the client's half-close, relayed), then answers and closes.
  Server server(1, [&](int fd) {
    received = read_all(fd);
    send_all(fd, std::to_string(received.size()));
  });
  {
    RunningRelay relay(server.port(), 2ms);
    int fd = connect_to(relay.port());
    send_all(fd, data);
    shutdown(fd, SHUT_WR);
    EXPECT_EQ(read_all(fd), std::to_string(size));   // ends: the server's close was relayed too
    close(fd);
  }
  EXPECT_TRUE(received == data) << "received " << received.size() << " of " << size << " bytes, or out of order";
}

TEST(DelayRelay, ManyConcurrentConnectionsEachGetTheirOwnBytes) {
  constexpr int kClients = 40;
  Server server(kClients, echo);
  RunningRelay relay(server.port(), 5ms);
  std::vector<std::thread> clients;
  std::vector<std::string> answers(kClients);
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      int fd = connect_to(relay.port());
      const std::string message(1000, static_cast<char>('A' + i % 26));
      send_all(fd, message);
      answers[i] = read_all(fd, message.size());
      close(fd);
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(answers[i], std::string(1000, static_cast<char>('A' + i % 26))) << i;
  EXPECT_EQ(relay.stats().connections.load(), static_cast<uint64_t>(kClients));
}

TEST(DelayRelay, AnUnreachableTargetClosesTheClientsConnection) {
  int port = 0;
  close(listen_any(port));   // a port that nothing listens on any more
  RunningRelay relay(port, 1ms);
  int fd = connect_to(relay.port());
  EXPECT_EQ(read_all(fd), "");   // closed, not hanging (the receive timeout would fail it as well)
  close(fd);
  for (int i = 0; i < 100 && relay.stats().refused.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(relay.stats().refused.load(), 1u);
}

TEST(DelayRelay, AddressesAreCheckedWithTheirTextInTheError) {
  EXPECT_EQ(parse_host_port("10.0.0.1:7700"), (std::pair<std::string, int>{"10.0.0.1", 7700}));
  for (const char* bad : {"10.0.0.1", "10.0.0.1:", ":80", "host:port", "1.2.3.4:70000", "1.2.3.4:80x"}) {
    try {
      parse_host_port(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(DelayRelay({RelayRoute{"not-an-ip", 0, "127.0.0.1", 1}}, 1ms), std::invalid_argument);
}

}  // namespace
}  // namespace pice::testbed
