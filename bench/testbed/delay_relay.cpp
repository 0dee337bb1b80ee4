#include "bench/testbed/delay_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <stdexcept>

namespace pice::testbed {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

sockaddr_in address_of(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::invalid_argument("not a numeric IPv4 address: '" + host + "'");
  return addr;
}

// Bytes read from one side, held until their release time, then written to the other. An empty chunk
// with eof set is the sender's half-close, delayed like the bytes before it.
struct Chunk {
  Clock::time_point release;
  std::string data;
  size_t offset = 0;
  bool eof = false;
};

struct Direction {
  int from = -1, to = -1;
  std::deque<Chunk> held;
  size_t held_bytes = 0;
  bool read_closed = false;   // from sent its FIN (queued as an eof chunk)
  bool write_closed = false;  // the FIN was passed on to `to`

  bool ready(Clock::time_point now) const { return !held.empty() && held.front().release <= now; }
};

struct Connection {
  int client = -1, target = -1;
  bool connecting = true;
  bool broken = false;
  Direction up, down;   // client -> target, target -> client
};

}  // namespace

struct DelayRelay::Impl {
  struct Listener {
    int fd;
    RelayRoute route;
  };
  std::vector<Listener> listeners;
  std::list<Connection> connections;
  std::chrono::microseconds delay;
  int wake[2] = {-1, -1};
  std::atomic<bool> stopping{false};
  RelayStats* stats = nullptr;

  void accept_from(const Listener& listener);
  void finish_connect(Connection& c);
  void read_into(Direction& d, Clock::time_point now, Connection& c);
  void write_out(Direction& d, Clock::time_point now, Connection& c);
  static void close(Connection& c);
};

std::pair<std::string, int> parse_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw std::invalid_argument("expected HOST:PORT, got '" + text + "'");
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw std::invalid_argument("bad port in '" + text + "'");
  }
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range in '" + text + "'");
  return {text.substr(0, colon), port};
}

DelayRelay::DelayRelay(std::vector<RelayRoute> routes, std::chrono::microseconds one_way_delay)
    : impl_(new Impl) {
  impl_->delay = one_way_delay;
  impl_->stats = &stats_;
  try {
    if (pipe(impl_->wake) != 0) fail("pipe");
    set_nonblocking(impl_->wake[0]);
    set_nonblocking(impl_->wake[1]);
    for (const RelayRoute& route : routes) {
      const std::string name = route.listen_host + ":" + std::to_string(route.listen_port);
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) fail("socket");
      impl_->listeners.push_back({fd, route});
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in addr = address_of(route.listen_host, route.listen_port);
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("cannot listen on " + name);
      if (listen(fd, 128) != 0) fail("listen on " + name);
      set_nonblocking(fd);
      socklen_t len = sizeof addr;
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      bound_ports_.push_back(ntohs(addr.sin_port));
    }
  } catch (...) {
    for (auto& l : impl_->listeners) ::close(l.fd);
    if (impl_->wake[0] >= 0) ::close(impl_->wake[0]), ::close(impl_->wake[1]);
    delete impl_;
    throw;
  }
}

DelayRelay::~DelayRelay() {
  for (auto& c : impl_->connections) Impl::close(c);
  for (auto& l : impl_->listeners) ::close(l.fd);
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
  delete impl_;
}

void DelayRelay::stop() {
  impl_->stopping = true;
  const char byte = 1;
  [[maybe_unused]] ssize_t ignored = write(impl_->wake[1], &byte, 1);
}

void DelayRelay::Impl::close(Connection& c) {
  if (c.client >= 0) ::close(c.client);
  if (c.target >= 0) ::close(c.target);
  c.client = c.target = -1;
}

void DelayRelay::Impl::accept_from(const Listener& listener) {
  int client = accept(listener.fd, nullptr, nullptr);
  if (client < 0) return;   // the peer gave up already, or EAGAIN
  set_nonblocking(client);
  int target = socket(AF_INET, SOCK_STREAM, 0);
  if (target < 0) {
    ::close(client);
    return;
  }
  set_nonblocking(target);
  int one = 1;
  // The relay's own buffering must not add Nagle's delay on top of the configured one.
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr = address_of(listener.route.target_host, listener.route.target_port);
  if (connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(client);
    ::close(target);
    ++stats->refused;
    return;
  }
  Connection& c = connections.emplace_back();
  c.client = client;
  c.target = target;
  c.up.from = c.down.to = client;
  c.up.to = c.down.from = target;
  ++stats->connections;
}

void DelayRelay::Impl::finish_connect(Connection& c) {
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(c.target, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) {
    ++stats->refused;
    c.broken = true;   // the client sees its connection closed, as if the target had refused it
    return;
  }
  c.connecting = false;
}

void DelayRelay::Impl::read_into(Direction& d, Clock::time_point now, Connection& c) {
  char buffer[65536];
  ssize_t n = recv(d.from, buffer, sizeof buffer, 0);
  if (n > 0) {
    d.held.push_back({now + delay, std::string(buffer, static_cast<size_t>(n))});
    d.held_bytes += static_cast<size_t>(n);
  } else if (n == 0) {
    d.read_closed = true;
    d.held.push_back({now + delay, {}, 0, true});
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    c.broken = true;   // a reset: nothing more can be delivered either way
  }
}

void DelayRelay::Impl::write_out(Direction& d, Clock::time_point now, Connection& c) {
  while (d.ready(now)) {
    Chunk& chunk = d.held.front();
    if (chunk.eof) {
      shutdown(d.to, SHUT_WR);
      d.write_closed = true;
      d.held.pop_front();
      return;
    }
    ssize_t n = send(d.to, chunk.data.data() + chunk.offset, chunk.data.size() - chunk.offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) c.broken = true;
      return;
    }
    chunk.offset += static_cast<size_t>(n);
    d.held_bytes -= static_cast<size_t>(n);
    stats->bytes += static_cast<uint64_t>(n);
    if (chunk.offset < chunk.data.size()) return;   // the socket is full: wait for POLLOUT
    d.held.pop_front();
  }
}

void DelayRelay::run() {
  Impl& s = *impl_;
  std::vector<pollfd> fds;
  while (!s.stopping) {
    const Clock::time_point now = Clock::now();
    Clock::time_point next_release = Clock::time_point::max();
    fds.clear();
    fds.push_back({s.wake[0], POLLIN, 0});
    for (const auto& l : s.listeners) fds.push_back({l.fd, POLLIN, 0});
    for (Connection& c : s.connections) {
      short client_events = 0, target_events = 0;
      if (c.connecting) {
        target_events = POLLOUT;
      } else {
        for (Direction* d : {&c.up, &c.down}) {
          short& from_events = d->from == c.client ? client_events : target_events;
          short& to_events = d->to == c.client ? client_events : target_events;
          if (!d->read_closed && d->held_bytes < DelayRelay::kMaxHeldBytes) from_events |= POLLIN;
          if (d->ready(now)) to_events |= POLLOUT;
          else if (!d->held.empty() && d->held.front().release < next_release) next_release = d->held.front().release;
        }
      }
      fds.push_back({c.client, client_events, 0});
      fds.push_back({c.target, target_events, 0});
    }
    timespec timeout{};
    timespec* wait = nullptr;   // nothing held: sleep until a socket or stop() wakes us
    if (next_release != Clock::time_point::max()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next_release - now).count();
      timeout.tv_sec = ns / 1000000000;
      timeout.tv_nsec = ns % 1000000000;
      wait = &timeout;
    }
    if (ppoll(fds.data(), fds.size(), wait, nullptr) < 0 && errno != EINTR) fail("ppoll");

    const Clock::time_point after = Clock::now();
    size_t i = 1;
    for (const auto& l : s.listeners)
      if (fds[i++].revents & POLLIN) s.accept_from(l);
    // Connections accepted just now have no pollfd entries yet: only the first `polled` are examined.
    const size_t polled = (fds.size() - i) / 2;
    auto it = s.connections.begin();
    for (size_t k = 0; k < polled; ++k, ++it) {
      Connection& c = *it;
      const short client_revents = fds[i++].revents, target_revents = fds[i++].revents;
      if (c.connecting) {
        if (target_revents & (POLLOUT | POLLERR | POLLHUP)) s.finish_connect(c);
        continue;
      }
      for (Direction* d : {&c.up, &c.down}) {
        const short from_revents = d->from == c.client ? client_revents : target_revents;
        const bool may_read = !d->read_closed && d->held_bytes < DelayRelay::kMaxHeldBytes;
        if (may_read && (from_revents & (POLLIN | POLLHUP | POLLERR))) s.read_into(*d, after, c);
        s.write_out(*d, after, c);
      }
    }
    for (auto c = s.connections.begin(); c != s.connections.end();) {
      const bool done = c->broken || (c->up.write_closed && c->down.write_closed);
      if (done) {
        Impl::close(*c);
        c = s.connections.erase(c);
      } else {
        ++c;
      }
    }
    char drain[64];
    while (read(s.wake[0], drain, sizeof drain) > 0) {
    }
  }
}

}  // namespace pice::testbed
