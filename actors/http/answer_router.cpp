#include "actors/http/answer_router.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "brokers/pump.hpp"

namespace pice::actors::http {
namespace {

constexpr const char* kSocket = "gateway";

std::string random_prefix() {
  std::random_device device;
  std::mt19937_64 rng{(static_cast<uint64_t>(device()) << 32) ^ device()};
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

bool is_last(const messages::AnswerChunk& c) {
  return c.kind == messages::ChunkKind::done || c.kind == messages::ChunkKind::error;
}

}  // namespace

AnswerRouter::AnswerRouter(std::string gateway_endpoint, std::shared_ptr<const brokers::CurveSecurity> security)
    : endpoint_(std::move(gateway_endpoint)), pump_(std::make_unique<brokers::Pump>("http")),
      id_prefix_("http-" + random_prefix() + "-") {
  if (security) pump_->set_security(*security);
  pump_->add_socket({kSocket, zmq::socket_type::dealer, endpoint_, brokers::Direction::connect},
                    [this](brokers::Inbound&& in) { on_inbound(std::move(in)); });
  pump_->on_send_failure([this](const std::string&, const std::string&, const messages::Envelope& env,
                                const std::string& why) {
    messages::AnswerChunk error;
    error.kind = messages::ChunkKind::error;
    error.text = "the request could not be sent to the node's gateway (" + endpoint_ + "): " + why;
    deliver(env.request_id, std::move(error));
  });
}

AnswerRouter::~AnswerRouter() { stop(); }

void AnswerRouter::start() { pump_->start(); }

void AnswerRouter::stop() {
  pump_->stop();
  std::unordered_map<std::string, std::shared_ptr<OnChunk>> routes;
  {
    std::lock_guard lock(mutex_);
    routes.swap(routes_);
  }
  // Destroyed outside the lock: a callback may own the last reference to an HTTP session.
}

std::string AnswerRouter::new_request_id() {
  std::lock_guard lock(mutex_);
  return id_prefix_ + std::to_string(++next_id_);
}

void AnswerRouter::submit(const std::string& request_id, const messages::Request& request, OnChunk on_chunk) {
  {
    std::lock_guard lock(mutex_);
    routes_[request_id] = std::make_shared<OnChunk>(std::move(on_chunk));
  }
  messages::Envelope env;
  env.request_id = request_id;
  env.sender = "http";
  env.created_us = messages::now_us();
  env.body = request;
  pump_->send(kSocket, env);
}

void AnswerRouter::forget(const std::string& request_id) {
  std::shared_ptr<OnChunk> route;
  std::lock_guard lock(mutex_);
  if (auto it = routes_.find(request_id); it != routes_.end()) {
    route = std::move(it->second);
    routes_.erase(it);
  }
  // `route` is released after the lock (declared before it): see stop().
}

void AnswerRouter::cancel(const std::string& request_id) {
  forget(request_id);
  messages::Request withdraw;
  withdraw.cancel = true;
  messages::Envelope env;
  env.request_id = request_id;
  env.sender = "http";
  env.created_us = messages::now_us();
  env.body = withdraw;
  pump_->send(kSocket, env);
}

size_t AnswerRouter::open_routes() const {
  std::lock_guard lock(mutex_);
  return routes_.size();
}

uint64_t AnswerRouter::dropped_chunks() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void AnswerRouter::on_inbound(brokers::Inbound&& in) {
  auto* chunk = std::get_if<messages::AnswerChunk>(&in.envelope.body);
  if (!chunk) {
    spdlog::warn("http: unexpected {} message from the gateway; ignored",
                 messages::message_type_name(in.envelope.type()));
    return;
  }
  deliver(in.envelope.request_id, std::move(*chunk));
}

void AnswerRouter::deliver(const std::string& request_id, messages::AnswerChunk chunk) {
  std::shared_ptr<OnChunk> route;
  {
    std::lock_guard lock(mutex_);
    auto it = routes_.find(request_id);
    if (it == routes_.end()) {
      ++dropped_;
      return;
    }
    route = it->second;
    if (is_last(chunk)) routes_.erase(it);
  }
  (*route)(std::move(chunk));
}

}  // namespace pice::actors::http
