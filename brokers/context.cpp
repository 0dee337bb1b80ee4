#include "brokers/context.hpp"

namespace pice::brokers {

zmq::context_t& shared_context() {
  // Deliberately never destroyed: zmq_ctx_term() blocks until every socket is closed, so a context
  // destroyed at static-destruction time would hang the exit of a process that still has a socket
  // open on some thread (a Pump held in a static, a detached thread). The OS reclaims it at exit.
  static zmq::context_t* const context = new zmq::context_t();
  return *context;
}

}  // namespace pice::brokers
