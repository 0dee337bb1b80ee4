#pragma once
// The ZAP handler (ZeroMQ RFC 27) that decides which CURVE clients a node's bound sockets accept.
//
// libzmq asks one handler per context, at inproc://zeromq.zap.01, during every CURVE handshake on a
// server socket, passing the socket's ZAP domain and the client's public key. The process has one
// context (brokers/context.hpp) and may hold several nodes (tests, all-in-one), so the handler runs
// on a thread of its own, serves every bound socket of the process (each pump's and each events
// proxy's), and finds the node's AccessList by the domain its sockets carry.
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

namespace pice::brokers {

// The public keys (Z85) allowed to connect to one node's CURVE server sockets, and how many
// handshakes it refused. Shared by the node's pump and events proxy; the handler holds it weakly, so
// once the node is gone its domain refuses everyone.
class AccessList {
 public:
  AccessList(std::string domain, std::set<std::string> allowed_keys)
      : domain_(std::move(domain)), allowed_(std::move(allowed_keys)) {}

  const std::string& domain() const { return domain_; }
  bool allows(const std::string& z85_key) const { return allowed_.count(z85_key) != 0; }
  size_t size() const { return allowed_.size(); }
  uint64_t rejected() const { return rejected_.load(); }
  void count_rejection() { rejected_.fetch_add(1); }

 private:
  const std::string domain_;
  const std::set<std::string> allowed_;
  std::atomic<uint64_t> rejected_{0};
};

// Starts the process's ZAP handler thread if it is not running (it then runs until the process
// exits: libzmq accepts every CURVE client of a server socket when no handler is bound, so it must
// never go away while such a socket may exist) and routes the requests of access->domain() to
// `access`. Registering a domain again replaces the earlier list.
void zap_register(const std::shared_ptr<AccessList>& access);

}  // namespace pice::brokers
