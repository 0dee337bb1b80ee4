#pragma once
// CURVE (libzmq's public-key encryption and authentication) on a node's tcp sockets.
//
// A node with keys encrypts every tcp connection: the sockets it binds are CURVE servers whose
// handshakes the process's ZAP handler checks against the node's access list (brokers/zap_handler.hpp);
// the sockets it connects are CURVE clients that know the server's public key. inproc:// never runs a
// handshake and ipc:// is guarded by file permissions, so both stay plain.
#include <memory>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "brokers/socket_spec.hpp"

namespace pice::brokers {

class AccessList;

inline constexpr size_t kZ85KeyLength = 40;   // a 32-byte CURVE key in Z85 text

struct CurveKeyPair {
  std::string public_key;   // Z85
  std::string secret_key;   // Z85; never logged
};

// A fresh key pair from libzmq (libsodium underneath). Throws std::runtime_error if libzmq was built
// without CURVE.
CurveKeyPair generate_curve_key_pair();

// What a node's (or a client's) sockets need to speak CURVE.
struct CurveSecurity {
  CurveKeyPair own;                       // this node's identity, on every tcp socket
  std::string server_key;                 // sockets that connect: the server's public key (Z85)
  std::shared_ptr<AccessList> access;     // sockets that bind: who may connect; null: this node binds no tcp socket
};

// Whether CURVE applies to an endpoint: tcp only.
bool curve_applies(std::string_view endpoint);

// Sets the CURVE options on a socket before it binds or connects to `endpoint` (nothing unless tcp).
// A bind makes it a server checked by the ZAP handler (started here if it is not yet running) against
// security.access; a connect makes it a client of security.server_key. Throws std::invalid_argument
// when what the direction needs is missing (no access list to bind, no server key to connect).
void apply_curve(zmq::socket_t& socket, const CurveSecurity& security, Direction direction, std::string_view endpoint);

}  // namespace pice::brokers
