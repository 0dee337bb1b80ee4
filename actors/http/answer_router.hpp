#pragma once
// The HTTP gateway's link to the node: one DEALER socket on the node's gateway ROUTER, owned by a
// brokers::Pump thread. Each chat completion registers a route (request id -> callback) and sends its
// messages::Request; answer chunks coming back are handed to the route's callback on the pump thread,
// which must only post them on (to the HTTP session's executor). A route ends with its done or error
// chunk, or when forgotten (timeout); later chunks of that id are dropped.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "messages/bodies.hpp"

namespace pice::brokers {
class Pump;
struct Inbound;
struct CurveSecurity;
}  // namespace pice::brokers

namespace pice::actors::http {

class AnswerRouter {
 public:
  using OnChunk = std::function<void(messages::AnswerChunk)>;

  // security: CURVE keys for a tcp gateway; null: plain.
  explicit AnswerRouter(std::string gateway_endpoint, std::shared_ptr<const brokers::CurveSecurity> security = nullptr);
  ~AnswerRouter();  // stop()
  AnswerRouter(const AnswerRouter&) = delete;
  AnswerRouter& operator=(const AnswerRouter&) = delete;

  void start();  // connects; throws brokers::EndpointError for a malformed endpoint
  // Idempotent. Drops every route (their callbacks are destroyed, never called again).
  void stop();

  // A request id unique within this process (the node tells clients apart by socket, so this suffices).
  std::string new_request_id();
  // Registers the route, then sends the request. If the request cannot be sent (queue full, stopped),
  // on_chunk receives an error chunk saying why.
  void submit(const std::string& request_id, const messages::Request& request, OnChunk on_chunk);
  void forget(const std::string& request_id);
  // forget(), and tells the node to stop the request's work (its client has gone).
  void cancel(const std::string& request_id);

  size_t open_routes() const;
  uint64_t dropped_chunks() const;  // chunks whose route was gone (late after a timeout) or unknown

 private:
  void on_inbound(brokers::Inbound&& in);
  void deliver(const std::string& request_id, messages::AnswerChunk chunk);

  std::string endpoint_;
  std::unique_ptr<brokers::Pump> pump_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<OnChunk>> routes_;
  uint64_t dropped_ = 0;
  uint64_t next_id_ = 0;
  std::string id_prefix_;
};

}  // namespace pice::actors::http
