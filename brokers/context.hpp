#pragma once
#include <zmq.hpp>

namespace pice::brokers {

// The process's one ZeroMQ context: inproc:// endpoints only connect sockets of the same context,
// so every socket of the process (all-in-one node, tests) is made from this one.
zmq::context_t& shared_context();

}  // namespace pice::brokers
