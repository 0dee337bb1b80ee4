#include "actors/node.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include "actors/broker.hpp"
#include "actors/cloud_actors.hpp"
#include "actors/compact_messages.hpp"
#include "actors/edge_actors.hpp"
#include "actors/http/http_gateway.hpp"
#include "actors/protocol.hpp"
#include "actors/security.hpp"
#include "brokers/endpoints.hpp"
#include "brokers/event_proxy.hpp"
#include "kernels/model.hpp"
#include "kernels/remote_engine.hpp"
#include "kernels/resident_memory.hpp"
#include "kernels/synth.hpp"

namespace pice::actors {
namespace {

std::shared_ptr<const kernels::Model> load_model(const config::ModelConfig& model, const char* role) {
  auto path = kernels::resolve_model_path(model.path);
  kernels::ModelOptions options;
  options.threads = model.threads;
  options.load = kernels::parse_load_mode(model.load).value_or(kernels::LoadMode::read);   // the config checked the name
  options.kv = {model.kv_window, model.kv_keep};
  auto loaded = kernels::Model::load(path, options);
  spdlog::info("{} model: {} ({}; {}, {} layers, dim {}, vocab {}; {} threads; load {}, {:.0f} MiB resident{})", role,
               loaded->name(), path.string(), loaded->hparams().arch, loaded->hparams().n_layers, loaded->hparams().dim,
               loaded->hparams().vocab_size, model.threads, model.load,
               static_cast<double>(kernels::resident_bytes()) / (1 << 20),
               model.kv_window > 0 ? fmt::format("; kv cache bounded to {} recent + {} kept", model.kv_window, model.kv_keep) : "");
  if (!loaded->file().lock_error().empty())
    spdlog::warn("{} model: weights stay mapped but unlocked, the kernel may evict them: {}", role, loaded->file().lock_error());
  return loaded;
}

// What an edge runs: a model of its own, or a remote engine (an OpenAI-compatible server) taking
// `parallel` requests at a time ([slm] threads: the server's parallel slots).
struct EdgeEngine {
  std::shared_ptr<const kernels::Model> model;
  std::shared_ptr<const kernels::RemoteEngine> remote;
  int parallel = 1;
  std::string name() const { return model ? model->name() : remote->name(); }
};

// A remote engine for [llm] or [slm] url; the API key from the variable api_key_env names.
std::shared_ptr<const kernels::RemoteEngine> load_remote_engine(const config::ModelConfig& model, const char* role) {
  std::string key;
  if (!model.api_key_env.empty()) {
    const char* value = std::getenv(model.api_key_env.c_str());
    if (value) key = value;
    else spdlog::warn("{} model: {} is not set; the remote engine is asked without an API key", role, model.api_key_env);
  }
  return std::make_shared<const kernels::RemoteEngine>(kernels::RemoteEngineConfig{model.url, model.path, key, 300000});
}

EdgeEngine load_edge_engine(const config::ModelConfig& slm) {
  if (slm.url.empty()) return {load_model(slm, "edge"), nullptr, 1};
  auto remote = load_remote_engine(slm, "edge");
  spdlog::info("edge model: remote engine {} ({} request(s) at a time)", remote->name(), slm.threads);
  return {nullptr, std::move(remote), slm.threads};
}

// What a cloud runs: a model of its own, or a remote engine ([llm] url) whose streaming chat
// completions write the sketches, direct answers and fallback expansions.
struct CloudEngine {
  std::shared_ptr<const kernels::Model> model;
  std::shared_ptr<const kernels::RemoteEngine> remote;
};

CloudEngine load_cloud_engine(const config::ModelConfig& llm) {
  if (llm.url.empty()) return {load_model(llm, "cloud"), nullptr};
  auto remote = load_remote_engine(llm, "cloud");
  spdlog::info("cloud model: remote engine {} (streaming chat completions)", remote->name());
  return {nullptr, std::move(remote)};
}

// Where a cloud's sockets go. On its own (node.listen) it binds every service endpoint and runs the
// events proxy; behind a broker (node.connect) it binds only its gateway (node.listen's, or an
// in-process one for the HTTP API) and reaches boards, heartbeats and monitors through the broker.
struct CloudEndpoints {
  std::string gateway;
  std::optional<brokers::ServiceEndpoints> own;      // on its own: every endpoint it binds
  std::optional<brokers::ServiceEndpoints> broker;   // behind a broker: the broker's endpoints
  std::string events_in, events_out;                 // on its own: the proxy's in-process sides
  std::string monitor;                               // where a monitor in this process subscribes

  explicit CloudEndpoints(const config::NodeConfig& config) {
    if (config.connect.empty()) {
      own = brokers::derive_endpoints(config.listen);
      gateway = own->gateway;
      // The node's own publishers and its scheduler reach the proxy in-process, whatever the
      // public transport (a tcp bind to * has no address to connect back to).
      events_in = "inproc://events-in@" + own->events;
      events_out = monitor = "inproc://events-out@" + own->events;
    } else {
      broker = brokers::derive_endpoints(config.connect);
      gateway = config.listen.empty() ? "inproc://" + config.node_id + "-gateway"
                                      : brokers::derive_endpoints(config.listen).gateway;
      monitor = broker->monitor;
    }
  }
};

// The sockets and actors of one cloud. The pump is made first so the actors can hold it; its
// sockets are added with handlers that deliver to those actors, and only then started.
class CloudPart {
 public:
  CloudPart(caf::actor_system& system, const config::NodeConfig& config, CloudEngine llm)
      : pump_(std::make_shared<brokers::Pump>(config.node_id)), endpoints_(config) {
    if (endpoints_.own)
      proxy_.emplace(config.node_id, std::vector<std::string>{endpoints_.own->events, endpoints_.events_in},
                     std::vector<std::string>{endpoints_.own->monitor, endpoints_.events_out});
    assembly_ = system.spawn(assembly, pump_, config.node_id);
    // Tasks to boards that share the cloud model's vocabulary go as token ids; a remote engine's
    // vocabulary is unknown here, so its cloud sends text.
    auto codec = llm.model ? std::make_shared<const TokenCodec>(llm.model->tokenizer()) : nullptr;
    worker_ = llm.remote ? system.spawn<caf::detached>(remote_cloud_worker, std::move(llm.remote), config.node_id)
                         : system.spawn<caf::detached>(cloud_worker, std::move(llm.model), config.node_id);
    scheduler_ = system.spawn(scheduler, config, pump_, worker_, assembly_, std::move(codec));
    gateway_ = system.spawn(gateway, pump_, config.node_id, scheduler_);

    using brokers::Direction;
    auto to = [](caf::actor target) { return [target](brokers::Inbound&& in) { caf::anon_send(target, std::move(in)); }; };
    pump_->add_socket({"gateway", zmq::socket_type::router, endpoints_.gateway, Direction::bind}, to(gateway_));
    if (const auto& own = endpoints_.own) {
      // Inbound only for operators' commands (`pice drain`), which the scheduler passes on to the board.
    pump_->add_socket({"tasks", zmq::socket_type::router, own->tasks, Direction::bind}, to(scheduler_));
      pump_->add_socket({"results", zmq::socket_type::pull, own->results, Direction::bind}, to(scheduler_));
      pump_->add_socket({"events", zmq::socket_type::sub, endpoints_.events_out, Direction::connect}, to(scheduler_));
      pump_->add_socket({"telemetry", zmq::socket_type::pub, endpoints_.events_in, Direction::connect});
    } else {
      const auto& broker = *endpoints_.broker;
      // One DEALER both ways: tasks out (each names its board), results back (each names this cloud).
      // Its routing id is the node id, which is how the broker addresses results to it.
      pump_->add_socket({"tasks", zmq::socket_type::dealer, broker.tasks, Direction::connect, config.node_id},
                        to(scheduler_));
      pump_->add_socket({"events", zmq::socket_type::sub, broker.monitor, Direction::connect}, to(scheduler_));
      pump_->add_socket({"telemetry", zmq::socket_type::pub, broker.events, Direction::connect});
    }
    if (auto security = node_security(config)) {   // one access list for the pump's and the proxy's binds
      pump_->set_security(*security);
      if (proxy_) proxy_->set_security(*security);
    }
    auto sched = scheduler_;
    pump_->on_send_failure([sched](const std::string& socket, const std::string& peer,
                                   const messages::Envelope& env, const std::string& why) {
      caf::anon_send(sched, send_failed_atom::value, socket, peer, env, why);
    });
    // The pump first: a port already in use is then reported at the address the user gave (the
    // gateway's). Its in-process connects to the proxy may precede the proxy's binds.
    try {
      pump_->start();
      if (proxy_) proxy_->start();
    } catch (...) {
      pump_->stop();
      kill();
      throw;
    }
    caf::anon_send(scheduler_, telemetry_atom::value);
  }

  int known_boards(caf::actor_system& system) {
    int boards = 0;
    caf::scoped_actor self{system};  // scoped tightly: a live scoped_actor blocks shutdown
    self->request(scheduler_, std::chrono::seconds(5), boards_atom::value)
        .receive([&](int n) { boards = n; }, [&](caf::error&) {});
    return boards;
  }

  void stop() {
    pump_->stop();
    if (proxy_) proxy_->stop();
    kill();
  }

  const CloudEndpoints& endpoints() const { return endpoints_; }

 private:
  void kill() {
    for (auto& a : {gateway_, scheduler_, worker_, assembly_})
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  std::shared_ptr<brokers::Pump> pump_;
  CloudEndpoints endpoints_;
  std::optional<brokers::EventProxy> proxy_;
  caf::actor assembly_, worker_, scheduler_, gateway_;
};

class EdgePart {
 public:
  EdgePart(caf::actor_system& system, const config::NodeConfig& config, const EdgeEngine& engine,
           const std::string& node_id, const std::string& connect)
      : pump_(std::make_shared<brokers::Pump>(node_id)), load_(std::make_shared<EdgeLoad>()),
        // Tasks a scheduler sent before it heard the drain announcement are still on their way.
        drain_quiet_(std::chrono::milliseconds(2 * config.fleet.heartbeat_ms + 200)) {
    auto endpoints = brokers::derive_endpoints(connect);
    // A remote engine's vocabulary is unknown: its heartbeats announce none (hash 0), so tasks stay text.
    std::shared_ptr<const TokenCodec> codec;
    if (engine.model) codec = std::make_shared<const TokenCodec>(engine.model->tokenizer());
    EdgeIdentity identity{node_id, engine.name(),
                          engine.model ? engine.model->hparams().context_length : config.slm->context,
                          codec ? codec->hash() : 0};
    if (engine.model) {
      expanders_.push_back(system.spawn<caf::detached>(expander, engine.model, pump_, load_, node_id, codec));
    } else {
      for (int i = 0; i < engine.parallel; ++i)
        expanders_.push_back(system.spawn<caf::detached>(remote_expander, engine.remote, pump_, load_, node_id));
    }
    heartbeat_ = system.spawn(heartbeat, pump_, load_, identity, config.fleet.heartbeat_ms);

    using brokers::Direction;
    auto targets = expanders_;
    auto next = std::make_shared<size_t>(0);   // only the pump thread hands out tasks
    auto load = load_;
    // The DEALER's routing id is the node id: the scheduler addresses tasks to a board by it.
    pump_->add_socket({"tasks", zmq::socket_type::dealer, endpoints.tasks, Direction::connect, node_id},
                      [this, targets, next, load](brokers::Inbound&& in) {
                        if (const auto* control = std::get_if<messages::Control>(&in.envelope.body))
                          return on_control(*control, in.envelope);
                        ++load->queued;
                        caf::anon_send(targets[(*next)++ % targets.size()], std::move(in));
                      });
    pump_->add_socket({"results", zmq::socket_type::push, endpoints.results, Direction::connect});
    pump_->add_socket({"events", zmq::socket_type::pub, endpoints.events, Direction::connect});
    if (auto security = node_security(config)) pump_->set_security(std::move(*security));
    try {
      pump_->start();
    } catch (...) {
      kill();
      throw;
    }
    caf::anon_send(heartbeat_, tick_atom::value);
  }

  // Any thread (the pump's for a remote command).
  void begin_drain() {
    if (load_->draining.load()) return;
    // The start first: drained() must never see `draining` with no start time.
    drain_started_ = std::chrono::steady_clock::now().time_since_epoch().count();
    if (load_->draining.exchange(true)) return;
    spdlog::info("edge '{}': draining with {} task(s) queued", pump_->name(), std::max(0, load_->queued.load()));
    caf::anon_send(heartbeat_, drain_atom::value);
  }

  bool drained() const {
    const std::chrono::steady_clock::time_point started{std::chrono::steady_clock::duration(drain_started_.load())};
    return load_->draining && load_->queued.load() <= 0 && std::chrono::steady_clock::now() - started >= drain_quiet_;
  }

  void stop() {
    pump_->stop();
    kill();
  }

 private:
  // The pump thread.
  void on_control(const messages::Control& control, const messages::Envelope& envelope) {
    const std::string& from = envelope.sender;
    if (control.command == "drain") {
      spdlog::info("edge '{}': drain requested by '{}'", pump_->name(), from);
      begin_drain();
    } else if (control.command == "cancel" && !envelope.request_id.empty()) {
      // Recorded first: a task of the request still on its way is dropped when it arrives.
      spdlog::debug("edge '{}': request '{}' cancelled by '{}'", pump_->name(), envelope.request_id, from);
      load_->cancelled_requests.add(envelope.request_id);
      for (auto& expander : expanders_) caf::anon_send(expander, cancel_atom::value, envelope.request_id);
    } else {
      spdlog::warn("edge '{}': unknown command '{}' from '{}' ignored", pump_->name(), control.command, from);
    }
  }

  void kill() {
    for (auto& a : expanders_)
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    if (heartbeat_) caf::anon_send_exit(heartbeat_, caf::exit_reason::user_shutdown);
  }

  std::shared_ptr<brokers::Pump> pump_;
  std::shared_ptr<EdgeLoad> load_;
  std::chrono::steady_clock::duration drain_quiet_;
  std::atomic<std::chrono::steady_clock::rep> drain_started_{0};   // set by begin_drain() on any thread
  std::vector<caf::actor> expanders_;   // one for a local model (it batches); `parallel` for a remote engine
  caf::actor heartbeat_;
};

caf::actor_system_config make_actor_config() {
  caf::actor_system_config cfg;
  // CAF defaults to max(cores, 4) threads; the models run on their own detached threads anyway.
  cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  return cfg;
}

class RunningNode final : public Node {
 public:
  explicit RunningNode(const config::NodeConfig& config) : actor_config_(make_actor_config()), system_(actor_config_) {
    using config::Role;
    if (config.role == Role::broker) broker_ = std::make_unique<BrokerPart>(system_, config);
    if (config.role == Role::cloud || config.role == Role::all_in_one)
      cloud_ = std::make_unique<CloudPart>(system_, config, load_cloud_engine(*config.llm));
    if (config.role == Role::edge) {
      edges_.push_back(std::make_unique<EdgePart>(system_, config, load_edge_engine(*config.slm), config.node_id,
                                                  config.connect));
    } else if (config.role == Role::all_in_one) {
      // The in-process edges share one copy of the weights; each has its own sockets and actors.
      const EdgeEngine slm = load_edge_engine(*config.slm);
      for (int i = 1; i <= config.local_edges; ++i)
        edges_.push_back(std::make_unique<EdgePart>(system_, config, slm, config.node_id + "-edge-" + std::to_string(i),
                                                    config.listen));
    }
  }

  ~RunningNode() override { stop(); }

  // The HTTP API is a client of this node's ZeroMQ gateway, started once the pipeline is up.
  void start_http(const config::HttpConfig& cfg, std::optional<brokers::CurveSecurity> security) {
    http::HttpOptions options = http::parse_http_address(cfg.listen);
    if (security) options.security = std::make_shared<const brokers::CurveSecurity>(std::move(*security));
    options.threads = cfg.threads;
    options.max_inflight = cfg.max_inflight;
    options.api_key = cfg.api_key;
    options.monitor_endpoint = cloud_->endpoints().monitor;   // /metrics exports the fleet's telemetry too
    http_ = std::make_unique<http::HttpGateway>(options, brokers::local_connect_endpoint(cloud_->endpoints().gateway));
    http_->start();  // logs where it serves
  }

  std::string gateway_endpoint() const override { return cloud_ ? cloud_->endpoints().gateway : std::string(); }
  std::string monitor_endpoint() const { return cloud_ ? cloud_->endpoints().monitor : std::string(); }
  int http_port() const override { return http_ ? http_->port() : 0; }
  int known_boards() override { return cloud_ ? cloud_->known_boards(system_) : 0; }

  void begin_drain() override {
    for (auto& edge : edges_) edge->begin_drain();
  }
  bool drained() override {
    return !edges_.empty() && std::all_of(edges_.begin(), edges_.end(), [](const auto& edge) { return edge->drained(); });
  }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (http_) http_->stop();
    for (auto& edge : edges_) edge->stop();
    if (cloud_) cloud_->stop();
    if (broker_) broker_->stop();
  }

 private:
  caf::actor_system_config actor_config_;
  caf::actor_system system_;
  std::unique_ptr<BrokerPart> broker_;
  std::unique_ptr<CloudPart> cloud_;
  std::vector<std::unique_ptr<EdgePart>> edges_;
  std::unique_ptr<http::HttpGateway> http_;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<Node> Node::start(const config::NodeConfig& config) {
  auto node = std::make_unique<RunningNode>(config);
  if (config.http && (config.role == config::Role::cloud || config.role == config::Role::all_in_one))
    node->start_http(*config.http, node_security(config));
  return node;
}

}  // namespace pice::actors
