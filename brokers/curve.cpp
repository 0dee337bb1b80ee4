#include "brokers/curve.hpp"

#include <stdexcept>

#include "brokers/zap_handler.hpp"

namespace pice::brokers {

CurveKeyPair generate_curve_key_pair() {
  char public_key[kZ85KeyLength + 1] = {};
  char secret_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw std::runtime_error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                             " (libzmq built without CURVE?)");
  return {public_key, secret_key};
}

bool curve_applies(std::string_view endpoint) { return endpoint.starts_with("tcp://"); }

void apply_curve(zmq::socket_t& socket, const CurveSecurity& security, Direction direction, std::string_view endpoint) {
  if (!curve_applies(endpoint)) return;
  socket.set(zmq::sockopt::curve_secretkey, security.own.secret_key);
  socket.set(zmq::sockopt::curve_publickey, security.own.public_key);
  if (direction == Direction::bind) {
    if (!security.access) throw std::invalid_argument("binding " + std::string(endpoint) + " with CURVE needs an access list");
    // The handler is bound before this socket can accept anyone: without it libzmq would admit every client.
    zap_register(security.access);
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::zap_domain, security.access->domain());
  } else {
    if (security.server_key.empty())
      throw std::invalid_argument("connecting to " + std::string(endpoint) + " with CURVE needs the server's public key");
    socket.set(zmq::sockopt::curve_serverkey, security.server_key);
  }
}

}  // namespace pice::brokers
