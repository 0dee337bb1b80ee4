#pragma once
// A TCP relay for tests that must see what crosses the wire: it listens on a range of loopback ports,
// forwards each connection to the same offset in a target range, and records every byte it forwards
// (both directions). Put it between an edge or client and a cloud (whose five service ports are
// consecutive) and look at captured().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pice::testing {

class TcpRelay {
 public:
  TcpRelay(int listen_base, int target_base, int count) : target_base_(target_base) {
    for (int i = 0; i < count; ++i) listeners_.push_back(listen_on(listen_base + i));
    thread_ = std::thread([this] { run(); });
  }
  ~TcpRelay() {
    stop_ = true;
    thread_.join();
    for (int fd : listeners_) ::close(fd);
    for (const Link& link : links_) {
      ::close(link.a);
      ::close(link.b);
    }
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::string captured() const {
    std::lock_guard lock(mutex_);
    return captured_;
  }
  size_t connections() const { return accepted_.load(); }

 private:
  struct Link {
    int a, b;   // the accepted peer and our connection to the target
  };

  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  static int listen_on(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address = loopback(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0) {
      ::close(fd);
      throw std::runtime_error("relay: cannot listen on port " + std::to_string(port));
    }
    return fd;
  }

  void accept_on(size_t index) {
    const int peer = ::accept4(listeners_[index], nullptr, nullptr, SOCK_CLOEXEC);
    if (peer < 0) return;
    const int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(target_base_ + static_cast<int>(index));
    if (::connect(target, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(peer);   // the target is not up yet: the peer reconnects
      ::close(target);
      return;
    }
    links_.push_back({peer, target});
    ++accepted_;
  }

  // False when the link is finished.
  bool forward(int from, int to) {
    char buffer[65536];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n <= 0) return n < 0 && errno == EINTR;
    {
      std::lock_guard lock(mutex_);
      captured_.append(buffer, static_cast<size_t>(n));
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buffer + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      done += w;
    }
    return true;
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      for (int fd : listeners_) fds.push_back({fd, POLLIN, 0});
      for (const Link& link : links_) {
        fds.push_back({link.a, POLLIN, 0});
        fds.push_back({link.b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      std::vector<Link> alive;
      for (size_t i = 0; i < links_.size(); ++i) {
        const Link link = links_[i];
        const short from_a = fds[listeners_.size() + 2 * i].revents;
        const short from_b = fds[listeners_.size() + 2 * i + 1].revents;
        bool ok = true;
        if (from_a) ok = forward(link.a, link.b);
        if (ok && from_b) ok = forward(link.b, link.a);
        if (ok) {
          alive.push_back(link);
        } else {
          ::close(link.a);
          ::close(link.b);
        }
      }
      links_ = std::move(alive);
      for (size_t i = 0; i < listeners_.size(); ++i)
        if (fds[i].revents & POLLIN) accept_on(i);
    }
  }

  const int target_base_;
  std::vector<int> listeners_;
  std::vector<Link> links_;   // relay thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  mutable std::mutex mutex_;
  std::string captured_;
};

}  // namespace pice::testing
