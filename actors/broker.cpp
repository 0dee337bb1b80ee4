#include "actors/broker.hpp"

#include "actors/security.hpp"

#include <spdlog/spdlog.h>

#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/telemetry.hpp"

namespace pice::actors {
namespace {

struct BrokerCounters {
  uint64_t tasks = 0;        // forwarded cloud -> board
  uint64_t results = 0;      // forwarded board -> cloud
  uint64_t other = 0;        // forwarded, any other type (e.g. a future control message)
  uint64_t unaddressed = 0;  // arrived without Envelope::to: nowhere to send them
  uint64_t undeliverable = 0;  // the addressee was not connected
};

// The failed result a cloud gets for a task its board could not take.
messages::Envelope bounce(const messages::Envelope& task_env, const messages::ExpansionTask& task,
                          const std::string& board, const std::string& why, const std::string& node_id) {
  messages::ExpansionResult result;
  result.point_index = task.point_index;
  result.node = board;
  result.error = "broker '" + node_id + "' could not deliver the task: " + why;
  messages::Envelope env;
  env.request_id = task_env.request_id;
  env.task_id = task_env.task_id;
  env.sender = node_id;
  env.to = task_env.sender;
  env.created_us = task_env.created_us;
  env.body = std::move(result);
  return env;
}

}  // namespace

caf::behavior broker(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id) {
  log_exceptions(self, "broker");
  auto counters = std::make_shared<BrokerCounters>();
  return {
      [=](brokers::Inbound& in) {
        const messages::Envelope& env = in.envelope;
        if (env.to.empty()) {
          ++counters->unaddressed;
          spdlog::warn("broker: {} message from '{}' on '{}' names no addressee; dropped",
                       messages::message_type_name(env.type()), env.sender, in.socket);
          return;
        }
        if (std::holds_alternative<messages::ExpansionTask>(env.body)) ++counters->tasks;
        else if (std::holds_alternative<messages::ExpansionResult>(env.body)) ++counters->results;
        else ++counters->other;
        pump->send("tasks", env, env.to);
      },
      [=](send_failed_atom, const std::string& socket, const std::string& peer, const messages::Envelope& env,
          const std::string& why) {
        ++counters->undeliverable;
        const auto* task = std::get_if<messages::ExpansionTask>(&env.body);
        spdlog::warn("broker: {} for '{}' on '{}' not delivered: {}", messages::message_type_name(env.type()), peer,
                     socket, why);
        if (task && !env.sender.empty()) pump->send("tasks", bounce(env, *task, peer, why, node_id), env.sender);
      },
      [=](telemetry_atom) {
        messages::Telemetry t = telemetry_with_pump(node_id, "broker", pump->stats());
        t.counters["tasks_forwarded"] = counters->tasks;
        t.counters["results_forwarded"] = counters->results;
        t.counters["other_forwarded"] = counters->other;
        t.counters["unaddressed"] = counters->unaddressed;
        t.counters["undeliverable"] = counters->undeliverable;
        messages::Envelope env;
        env.sender = node_id;
        env.body = std::move(t);
        pump->send("telemetry", env);
        self->delayed_send(self, kTelemetryInterval, telemetry_atom::value);
      },
  };
}

BrokerPart::BrokerPart(caf::actor_system& system, const config::NodeConfig& config)
    : pump_(std::make_shared<brokers::Pump>(config.node_id)),
      endpoints_(brokers::derive_endpoints(config.listen)),
      events_in_("inproc://events-in@" + endpoints_.events),
      proxy_(config.node_id, {endpoints_.events, events_in_}, {endpoints_.monitor}) {
  forwarder_ = system.spawn(broker, pump_, config.node_id);
  using brokers::Direction;
  auto to_forwarder = [target = forwarder_](brokers::Inbound&& in) { caf::anon_send(target, std::move(in)); };
  // One ROUTER for both directions: edges' DEALERs and clouds' DEALERs connect here, each with its
  // node id as routing id, so whatever names a node id can reach it.
  pump_->add_socket({"tasks", zmq::socket_type::router, endpoints_.tasks, Direction::bind}, to_forwarder);
  // Edges push results exactly as they would to a cloud; the result names the cloud it is for.
  pump_->add_socket({"results", zmq::socket_type::pull, endpoints_.results, Direction::bind}, to_forwarder);
  pump_->add_socket({"telemetry", zmq::socket_type::pub, events_in_, Direction::connect});
  auto target = forwarder_;
  pump_->on_send_failure([target](const std::string& socket, const std::string& peer, const messages::Envelope& env,
                                  const std::string& why) {
    caf::anon_send(target, send_failed_atom::value, socket, peer, env, why);
  });
  if (auto security = node_security(config)) {   // boards and clouds alike must be on the access list
    pump_->set_security(*security);
    proxy_.set_security(*security);
  }
  try {
    pump_->start();
    proxy_.start();
  } catch (...) {
    pump_->stop();
    caf::anon_send_exit(forwarder_, caf::exit_reason::user_shutdown);
    throw;
  }
  caf::anon_send(forwarder_, telemetry_atom::value);
}

BrokerPart::~BrokerPart() { stop(); }

void BrokerPart::stop() {
  pump_->stop();
  proxy_.stop();
  if (forwarder_) caf::anon_send_exit(forwarder_, caf::exit_reason::user_shutdown);
}

}  // namespace pice::actors
