#pragma once
// A client of a node's gateway: sends one request and reads its answer chunks until done.
// Used by `pice ask` (both against a remote cloud and against the in-process all-in-one node).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "brokers/curve.hpp"
#include "messages/bodies.hpp"

namespace pice::actors {

struct Answer {
  std::vector<std::string> sketch;             // points in order
  std::vector<messages::AnswerChunk> points;   // expansions in order
  std::string text;                            // a direct answer (path "direct" or "direct-edge")
  std::string mode, path, reason;              // how the node served it
  messages::AnswerChunk done;                  // the last chunk: token totals; a direct answer's provenance
  int64_t sent_us = 0;                         // when the request left (wall clock, like the chunks' stamps)
  std::vector<int64_t> received_us;            // when each chunk arrived, in order
  double elapsed_ms = 0;
  std::string error;                           // empty on success
  bool finished = false;                       // the done chunk arrived
  bool direct() const { return path == "direct" || path == "direct-edge"; }
  bool complete() const {
    if (!error.empty() || !finished) return false;
    return direct() ? !text.empty() : !sketch.empty() && points.size() == sketch.size();
  }
};

class GatewayClient {
 public:
  // security: CURVE keys for a tcp gateway (the client's pair and the cloud's public key); none: plain.
  explicit GatewayClient(std::string gateway_endpoint, const std::optional<brokers::CurveSecurity>& security = {});
  ~GatewayClient();
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  // Sends the request and blocks until its `done` or `error` chunk, or until timeout_ms passes (then
  // Answer::error says so). on_chunk sees every chunk as it arrives.
  Answer ask(const messages::Request& request, int timeout_ms,
             const std::function<void(const messages::AnswerChunk&)>& on_chunk = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pice::actors
