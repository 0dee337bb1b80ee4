// The scheduler: holds policy, runs no model. Per request it plans how to serve it (mode, router, sketch
// budget from load: actors/request_plan.hpp), asks the cloud worker for a sketch, dispatches every point
// to a board the moment the point is written (pipelining), and sends a point again, to another board or
// to the cloud, when its board goes silent or its deadline passes. Direct answers go to the cloud
// worker (or, in mode route, to a board) as one task. A cancelled request's work stops: its flag is
// read by the cloud worker between tokens, and nothing more is dispatched or sent for it.
// With an ensemble ([ensemble] k > 1) a point of a sketch goes to k distinct boards at once, each copy
// with its own task id and seed; the ensemble actor collects and judges the copies. Tasks to a board that
// shares the cloud model's vocabulary carry token ids (compact_messages.hpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "actors/cloud_actors.hpp"
#include "actors/compact_messages.hpp"
#include "actors/latency_histogram.hpp"
#include "actors/llm_router.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"
#include "actors/scheduler_policy.hpp"
#include "messages/compression.hpp"
#include "actors/telemetry.hpp"

namespace pice::actors {
namespace {

constexpr auto kTickInterval = std::chrono::milliseconds(100);
constexpr std::string_view kRouterSuffix = "/router";   // the request id of the cloud model's routing question
constexpr const char* kCloudPlacement = "";  // a point placed on the cloud worker, not on a board
// A board's heartbeats (pub/sub) can arrive before its task connection (DEALER) has finished its
// handshake with our ROUTER, which then refuses sends to it as "no such peer". For this long after a
// board attached, such a task is sent to it again a little later instead of giving the board up.
constexpr int64_t kConnectGraceUs = 2'000'000;
constexpr auto kResendDelay = std::chrono::milliseconds(50);
constexpr uint64_t kCopySeedStride = 1'000'003;   // a prime far above any point index

// One copy of a point in flight: with [ensemble] k > 1 a point goes to k boards at once.
struct PointCopy {
  std::string task_id;    // unique per copy and attempt: the ensemble tells copies apart by it
  std::string board;      // kCloudPlacement for the cloud worker
  bool returned = false;  // its result (or error) came back, or it is no longer counted on its board
};

struct PointTask {
  std::vector<PointCopy> copies;  // of the latest attempt
  std::set<std::string> sent_ids; // every copy's task id over all attempts: a result must answer one
  int64_t deadline_us = 0;
  int64_t sent_us = 0;
  int attempts = 0;
  int copies_sent = 0;            // over all attempts: numbers the task ids
  bool done = false;
  int64_t first_dispatch_us = 0;  // for the point's latency and span
  bool on_cloud() const { return copies.size() == 1 && copies.front().board == kCloudPlacement; }
};

struct RequestState {
  std::string client_request_id;
  messages::Request request;
  std::vector<std::string> points;
  std::map<int, PointTask> tasks;  // by 1-based point index
  bool sketch_done = false;
  int64_t created_us = 0;
  Path path = Path::sketch;
  int64_t sketch_asked_us = 0;
  bool first_point_seen = false;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::string peer;               // the gateway connection it came on (assembly answers there)
  int64_t task_bytes = 0, result_bytes = 0;   // expansion traffic with the boards, as encoded
  std::set<std::string> boards;   // every board sent one of its points: they hold its prompt prefix
};

class Scheduler {
 public:
  Scheduler(caf::event_based_actor* self, config::NodeConfig config, std::shared_ptr<brokers::Pump> pump,
            caf::actor cloud_worker, caf::actor assembly, std::shared_ptr<const TokenCodec> codec)
      : self_(self), config_(std::move(config)), pump_(std::move(pump)), worker_(std::move(cloud_worker)),
        assembly_(std::move(assembly)), codec_(std::move(codec)), policy_(config_) {}

  void begin(const std::string& id, const std::string& peer, const std::string& client_id,
             const messages::Request& request, int64_t created_us) {
    if (request.cancel) return cancel(id);
    if (requests_.count(id)) {
      spdlog::warn("scheduler: request '{}' is already running; ignoring the duplicate", client_id);
      return;
    }
    RequestState& state = requests_[id];
    state.client_request_id = client_id;
    state.request = request;
    state.created_us = created_us;
    state.peer = peer;
    ++requests_started_;
    if (config_.scheduler.router == "llm" && needs_router(request, config_)) return ask_llm_router(id, state);
    start(id, state, std::nullopt);
  }

  // [scheduler] router = "llm": the cloud model is asked first, as a short direct answer under a request
  // id of its own ("<id>/router"), so none of its text reaches the client; start() follows its answer.
  void ask_llm_router(const std::string& id, RequestState& state) {
    messages::ExpansionTask task;
    task.question = llm_router_prompt(state.request.question);
    task.direct = true;
    task.max_tokens = kLlmRouterTokens;
    task.temperature = 0;
    task.top_p = 1;
    messages::Envelope envelope;
    envelope.request_id = id + std::string(kRouterSuffix);
    envelope.task_id = envelope.request_id;
    envelope.sender = config_.node_id;
    envelope.created_us = state.created_us;
    envelope.body = std::move(task);
    policy_.cloud_job_sent();
    ++router_questions_;
    self_->send(worker_, expand_atom::value, std::move(envelope),
                std::shared_ptr<const std::atomic<bool>>(state.cancelled));
  }

  void on_router_answer(const std::string& id, const messages::ExpansionResult& result) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;   // its client left meanwhile
    std::optional<RouteDecision> decided = result.error.empty() ? llm_route_decision(result.text) : std::nullopt;
    if (!decided) {
      ++router_fallbacks_;
      spdlog::info("scheduler: the cloud model's routing answer for '{}' was {}; the rules decide",
                   it->second.client_request_id,
                   result.error.empty() ? "\"" + result.text + "\"" : "an error: " + result.error);
    }
    start(id, it->second, decided);
  }

  // Plans the request (path, budget) and sets its work going.
  void start(const std::string& id, RequestState& state, const std::optional<RouteDecision>& decided) {
    const messages::Request& request = state.request;
    const std::string& client_id = state.client_request_id;
    const std::string& peer = state.peer;
    const int64_t created_us = state.created_us;
    const Plan plan = policy_.plan(request, decided);
    state.path = plan.path;
    ++requests_by_path_[std::string(path_name(plan.path))];
    spdlog::debug("scheduler: '{}' mode {} path {}: {}; {}", client_id, plan.mode, path_name(plan.path), plan.reason,
                  plan.budget.reason);
    AnswerPlan answer_plan{plan.mode, std::string(path_name(plan.path)),
                           plan.reason + (is_direct(plan.path) ? "" : "; budget " + plan.budget.reason),
                           is_direct(plan.path) ? 0 : plan.budget.max_points,
                           is_direct(plan.path) ? 0 : plan.budget.words_per_point};
    self_->send(assembly_, open_atom::value, id, peer, client_id, answer_plan, created_us);
    if (is_direct(plan.path)) {
      state.sketch_done = true;
      state.points.push_back(request.question);  // the one "point" of a direct answer is the question
      dispatch(id, state, 1);
      return;
    }
    state.sketch_asked_us = messages::now_us();
    policy_.cloud_job_sent();
    self_->send(worker_, sketch_atom::value, sketch_job(id, state, plan.budget));
  }

  // The client has gone: nothing more is computed or sent for this request.
  void cancel(const std::string& id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    it->second.cancelled->store(true);
    spdlog::info("scheduler: request '{}' cancelled by its client", it->second.client_request_id);
    self_->send(assembly_, cancel_atom::value, id);
    ++requests_cancelled_;
    cancel_on_boards(id, it->second);
    erase_request(it);
  }

  // Every board still holding a copy of one of the request's points is told to drop the request's work.
  void cancel_on_boards(const std::string& id, const RequestState& state) {
    std::set<std::string> boards;
    for (const auto& [index, task] : state.tasks)
      for (const PointCopy& copy : task.copies)
        if (!copy.returned && copy.board != kCloudPlacement) boards.insert(copy.board);
    for (const std::string& board : boards) {
      messages::Envelope envelope;
      envelope.request_id = id;
      envelope.sender = config_.node_id;
      envelope.to = board;
      envelope.body = messages::Control{"cancel"};
      send_task(envelope);
      ++cancels_sent_;
    }
  }

  void on_piece(const std::string& id, const std::string& text) {
    if (requests_.count(id)) self_->send(assembly_, piece_atom::value, id, text);
  }

  void on_point(const std::string& id, const messages::SketchPoint& point) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    RequestState& state = it->second;
    if (!state.first_point_seen) {
      state.first_point_seen = true;
      policy_.first_point_after(static_cast<double>(messages::now_us() - state.sketch_asked_us) / 1000.0);
    }
    state.points.push_back(point.text);
    self_->send(assembly_, point_atom::value, id, point);
    dispatch(id, state, point.index);
  }

  void on_sketched(const std::string& id, int total, const std::string& error, int tokens, int prompt_tokens) {
    policy_.cloud_job_done();
    cloud_tokens_ += static_cast<uint64_t>(std::max(0, tokens));
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    it->second.sketch_done = true;
    self_->send(assembly_, sketched_atom::value, id, total, error.empty() ? error : "the sketch failed: " + error,
                tokens, prompt_tokens);
    if (!error.empty()) erase_request(it);
    else finish_if_complete(it);
  }

  void on_inbound(brokers::Inbound& in) {
    // An operator's command for a board (`pice drain`) arrives on our tasks ROUTER: pass it on there.
    if (std::holds_alternative<messages::Control>(in.envelope.body) && !in.envelope.to.empty() &&
        config_.connect.empty())
      return pump_->send("tasks", in.envelope, in.envelope.to);
    if (auto* hb = std::get_if<messages::Heartbeat>(&in.envelope.body)) return on_heartbeat(*hb);
    if (std::holds_alternative<messages::ExpansionResult>(in.envelope.body)) return on_result(in.envelope);
    // The events proxy carries every node's telemetry and spans too (its own included): for monitors.
    if (std::holds_alternative<messages::Telemetry>(in.envelope.body) ||
        std::holds_alternative<messages::Span>(in.envelope.body))
      return;
    spdlog::warn("scheduler: unexpected {} message on socket '{}' from '{}'",
                 messages::message_type_name(in.envelope.type()), in.socket, in.envelope.sender);
  }

  // A result from a board: the board is one task lighter; the ensemble judges it.
  // Only a result that answers a point still open, under one of that point's own task ids, gets that
  // far: a board that sends garbage (a wrong point index, an unknown task) must not close a point it did
  // not expand, or the real expansion would later be dropped as a duplicate and the answer never end.
  // A copy of an earlier attempt still counts: it may be the first to arrive.
  void on_result(messages::Envelope& envelope) {
    auto& result = std::get<messages::ExpansionResult>(envelope.body);
    const size_t bytes = messages::encode_frame(envelope).size();
    if (!result.text_ids.empty()) ++compact_results_;
    auto it = requests_.find(envelope.request_id);
    // A late copy of a finished request: its board was counted one task lighter when the request ended.
    if (it == requests_.end()) {
      result_bytes_ += bytes;
      return;
    }
    count_traffic(envelope.request_id, it->second, 0, bytes);
    auto task = it->second.tasks.find(result.point_index);
    if (task == it->second.tasks.end() || !task->second.sent_ids.count(envelope.task_id)) {
      ++results_rejected_;
      spdlog::warn("scheduler: result for task '{}' with point index {} from '{}' matches no open point; dropped",
                   envelope.task_id, result.point_index, envelope.sender);
      return;
    }
    if (codec_) codec_->restore_result(result);
    else if (!result.text_ids.empty()) result.error = "result in token ids, but this node has no tokenizer";
    release_copy(task->second, envelope.task_id);
    if (result.error.empty() && result.text.empty()) result.error = "an empty expansion";
    if (task->second.sent_us)
      policy_.edge_result_after(static_cast<double>(messages::now_us() - task->second.sent_us) / 1000.0);
    self_->send(ensemble_, result_atom::value, std::move(envelope));
  }

  // A result from the cloud worker: the cloud has one job fewer.
  void on_cloud_result(messages::Envelope& envelope) {
    const auto& result = std::get<messages::ExpansionResult>(envelope.body);
    policy_.cloud_job_done();
    cloud_tokens_ += static_cast<uint64_t>(std::max(0, result.tokens));
    if (envelope.request_id.ends_with(kRouterSuffix))
      return on_router_answer(envelope.request_id.substr(0, envelope.request_id.size() - kRouterSuffix.size()),
                              result);
    auto it = requests_.find(envelope.request_id);
    if (it == requests_.end()) return;
    if (auto task = it->second.tasks.find(result.point_index); task != it->second.tasks.end())
      release_copy(task->second, envelope.task_id);
    self_->send(ensemble_, result_atom::value, std::move(envelope));
  }

  void on_task_done(const std::string& id, int index) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    if (auto t = it->second.tasks.find(index); t != it->second.tasks.end() && !t->second.done) {
      t->second.done = true;
      // Copies still out are no longer waited for; the board's own queue depth shows their cost.
      release_copies(t->second);
      record_point(id, index, t->second);
    }
    finish_if_complete(it);
  }

  void on_task_failed(const std::string& id, int index, const std::string& reason) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    auto t = it->second.tasks.find(index);
    if (t != it->second.tasks.end() && t->second.on_cloud() && !t->second.done) {
      // The cloud is the last resort: a point it cannot write ends the answer with an error.
      spdlog::error("scheduler: point {} of '{}' failed on the cloud: {}", index, it->second.client_request_id, reason);
      self_->send(assembly_, sketched_atom::value, id, 0, "point " + std::to_string(index) + " failed: " + reason, 0, 0);
      erase_request(it);
      return;
    }
    spdlog::warn("scheduler: point {} of '{}' failed: {}; sending it again", index,
                 it->second.client_request_id, reason);
    redispatch(id, it->second, index);
  }

  void on_send_failed(const std::string& socket, const std::string& peer, const messages::Envelope& envelope,
                      const std::string& why) {
    if (socket != "tasks") return;
    if (!std::holds_alternative<messages::ExpansionTask>(envelope.body)) {
      spdlog::warn("scheduler: could not pass a {} message on to '{}': {}",
                   messages::message_type_name(envelope.type()), envelope.to, why);
      return;
    }
    // Behind a broker the tasks socket is a DEALER: the board is the envelope's addressee.
    const std::string& board = peer.empty() ? envelope.to : peer;
    const auto known = policy_.fleet().boards().find(board);
    if (why == "no such peer" && known != policy_.fleet().boards().end() &&
        messages::now_us() - known->second.first_seen_us < kConnectGraceUs) {
      spdlog::debug("scheduler: board '{}' is not connected yet; sending task {} again shortly", board,
                    envelope.task_id);
      self_->delayed_send(self_, kResendDelay, resend_atom::value, envelope);
      return;
    }
    spdlog::warn("scheduler: could not send task {} to board '{}': {}", envelope.task_id, board, why);
    policy_.fleet().forget(board);
    if (auto it = requests_.find(envelope.request_id); it != requests_.end())
      if (const auto* task = std::get_if<messages::ExpansionTask>(&envelope.body))
        lose_copy(envelope.request_id, it->second, task->point_index, envelope.task_id);
  }

  // The resend of a task refused by a board that had only just attached, unless the point has moved on.
  void resend(const messages::Envelope& envelope) {
    auto it = requests_.find(envelope.request_id);
    const auto* body = std::get_if<messages::ExpansionTask>(&envelope.body);
    if (it == requests_.end() || !body) return;
    auto t = it->second.tasks.find(body->point_index);
    if (t == it->second.tasks.end() || t->second.done) return;
    const auto& copies = t->second.copies;
    if (std::none_of(copies.begin(), copies.end(),
                     [&](const PointCopy& c) { return c.task_id == envelope.task_id && !c.returned; }))
      return;
    count_traffic(envelope.request_id, it->second, messages::encode_frame(envelope).size(), 0);
    send_task(envelope);
  }

  void tick() {
    const int64_t now = messages::now_us();
    for (const auto& gone : policy_.fleet().expire(now, int64_t{config_.fleet.board_timeout_ms} * 1000))
      spdlog::info("scheduler: board '{}' silent for {} ms; forgotten", gone, config_.fleet.board_timeout_ms);
    for (auto& [id, state] : requests_)
      for (auto& [index, task] : state.tasks) {
        // The cloud worker is in this process: its jobs are late only because its queue is long.
        if (task.done || task.on_cloud()) continue;
        if (now > task.deadline_us) {
          spdlog::warn("scheduler: point {} of '{}' passed its deadline; sending it again", index,
                       state.client_request_id);
          redispatch(id, state, index);
          continue;
        }
        std::vector<std::string> lost;
        for (const PointCopy& copy : task.copies)
          if (!copy.returned && copy.board != kCloudPlacement && !policy_.fleet().knows(copy.board)) lost.push_back(copy.task_id);
        for (const auto& task_id : lost) lose_copy(id, state, index, task_id);
      }
  }

  size_t boards() const { return policy_.fleet().size(); }

  void publish_telemetry() {
    messages::Telemetry t = telemetry_with_pump(config_.node_id, "cloud", pump_->stats());
    t.counters["requests_started"] = requests_started_;
    t.counters["requests_finished"] = requests_finished_;
    t.counters["points_dispatched"] = points_dispatched_;
    t.counters["points_on_cloud"] = points_on_cloud_;
    t.counters["redispatches"] = redispatches_;
    t.counters["results_rejected"] = results_rejected_;
    t.counters["requests_cancelled"] = requests_cancelled_;
    t.counters["router_questions"] = router_questions_;   // [scheduler] router = "llm": asked of the cloud
    t.counters["router_fallbacks"] = router_fallbacks_;   // answered neither yes nor no: the rules decided
    t.counters["cancels_sent"] = cancels_sent_;   // to boards, one per board holding a cancelled request's work
    t.counters["cloud_tokens"] = cloud_tokens_;
    // Expansion traffic with the boards as encoded on the wire; "compact": carried token ids.
    t.counters["task_bytes"] = task_bytes_;
    t.counters["result_bytes"] = result_bytes_;
    t.counters["compact_tasks"] = compact_tasks_;
    t.counters["compact_results"] = compact_results_;
    t.counters["ensemble_late_dropped"] = late_dropped_;
    t.counters["ensemble_duplicates_dropped"] = duplicates_dropped_;
    for (const auto& [path, n] : requests_by_path_) t.counters["requests_" + path] = n;
    t.gauges["requests_running"] = static_cast<double>(requests_.size());
    t.gauges["cloud_queue"] = policy_.cloud_queue();
    t.gauges["cloud_first_point_ms"] = policy_.cloud_first_point_ms();
    t.gauges["edge_point_ms"] = policy_.edge_point_ms();
    t.gauges["boards"] = static_cast<double>(policy_.fleet().size());
    t.histograms["request_ms"] = request_ms_.snapshot();
    t.histograms["point_ms"] = point_ms_.snapshot();
    messages::Envelope env;
    env.sender = config_.node_id;
    env.body = std::move(t);
    pump_->send("telemetry", env);
  }
  void set_ensemble(caf::actor ensemble) { ensemble_ = std::move(ensemble); }
  void on_dropped(bool late) { ++(late ? late_dropped_ : duplicates_dropped_); }

 private:
  SketchJob sketch_job(const std::string& id, const RequestState& state, const Budget& budget) const {
    const messages::Request& r = state.request;
    SketchJob job;
    job.request_id = id;
    job.question = r.question;
    job.max_points = budget.max_points;
    job.min_points = budget.min_points;
    job.max_words_per_point = budget.words_per_point;
    job.temperature = r.temperature >= 0 ? r.temperature : config_.sampling.temperature;
    job.top_p = r.top_p >= 0 ? r.top_p : config_.sampling.top_p;
    job.seed = r.seed ? r.seed : config_.sampling.seed;
    job.cancelled = state.cancelled;
    return job;
  }

  messages::Envelope task_envelope(const std::string& id, const RequestState& state, int index, int copy) const {
    const messages::Request& r = state.request;
    messages::ExpansionTask task;
    task.question = r.question;
    task.sketch = state.points;
    task.point_index = index;
    task.point = state.points.at(index - 1);
    task.direct = is_direct(state.path);
    if (task.direct) task.sketch.clear();
    const int default_tokens = task.direct ? config_.scheduler.direct_max_tokens : config_.expand.max_tokens;
    task.max_tokens = r.max_tokens_per_point > 0 ? r.max_tokens_per_point : default_tokens;
    task.stop = r.stop;
    task.ignore_eos = r.ignore_eos;
    task.temperature = r.temperature >= 0 ? r.temperature : config_.sampling.temperature;
    task.top_p = r.top_p >= 0 ? r.top_p : config_.sampling.top_p;
    // Copies of one point sample differently (boards may run the same model): an ensemble of identical
    // candidates would choose nothing. Copy 0 keeps the seed a single copy always had.
    task.seed = (r.seed ? r.seed : config_.sampling.seed) + static_cast<uint64_t>(index) +
                kCopySeedStride * static_cast<uint64_t>(copy);
    task.deadline_us = messages::now_us() + int64_t{config_.fleet.task_deadline_ms} * 1000;
    messages::Envelope env;
    env.request_id = id;
    env.task_id = id + "/" + std::to_string(index) + "/" + std::to_string(copy);
    env.sender = config_.node_id;
    env.created_us = state.created_us;
    env.body = std::move(task);
    return env;
  }

  // Copies of a point: a request's own ensemble size, else the node's. A direct answer is one piece of
  // work, never judged against others.
  int copies_wanted(const RequestState& state) const {
    if (state.path != Path::sketch) return 1;
    return state.request.ensemble > 0 ? state.request.ensemble : config_.ensemble.k;
  }

  // Sends a point as k copies to k distinct boards (fewer when fewer are open; the cloud worker when
  // none is, or when the path keeps the work on the cloud), and tells the ensemble which to wait for.
  void dispatch(const std::string& id, RequestState& state, int index, const std::set<std::string>& avoid = {}) {
    PointTask& task = state.tasks[index];
    if (task.attempts == 0) task.first_dispatch_us = messages::now_us();
    task.sent_us = messages::now_us();
    ++task.attempts;
    if (task.attempts > 1) ++redispatches_;
    const int wanted = copies_wanted(state);
    std::vector<std::string> boards = policy_.place_copies(state.path, static_cast<size_t>(wanted), avoid, state.boards);
    if (boards.empty()) boards.push_back(kCloudPlacement);
    else if (static_cast<int>(boards.size()) < wanted)
      spdlog::debug("scheduler: point {} of '{}': {} copies wanted, {} board{} open", index, state.client_request_id,
                    wanted, boards.size(), boards.size() == 1 ? "" : "s");
    task.copies.clear();
    for (const std::string& board : boards) {
      messages::Envelope envelope = task_envelope(id, state, index, task.copies_sent++);
      task.deadline_us = std::get<messages::ExpansionTask>(envelope.body).deadline_us;
      task.copies.push_back({envelope.task_id, board});
      task.sent_ids.insert(envelope.task_id);
      ++points_dispatched_;
      if (board == kCloudPlacement) {
        ++points_on_cloud_;
        self_->send(worker_, expand_atom::value, std::move(envelope),
                    std::shared_ptr<const std::atomic<bool>>(state.cancelled));
      } else {
        envelope.to = board;
        state.boards.insert(board);
        compact(envelope, board);
        count_traffic(id, state, messages::encode_frame(envelope).size(), 0);
        send_task(envelope);
      }
      spdlog::debug("scheduler: point {} of '{}' -> {} (attempt {})", index, state.client_request_id,
                    board.empty() ? "cloud" : board, task.attempts);
    }
    tell_ensemble(id, state, index);
  }

  // Bytes of tasks sent to and results received from the boards: the node's telemetry counts them, and
  // the request's answer reports its own.
  void count_traffic(const std::string& id, RequestState& state, size_t task_bytes, size_t result_bytes) {
    task_bytes_ += task_bytes;
    result_bytes_ += result_bytes;
    state.task_bytes += static_cast<int64_t>(task_bytes);
    state.result_bytes += static_cast<int64_t>(result_bytes);
    self_->send(assembly_, traffic_atom::value, id, state.task_bytes, state.result_bytes);
  }

  // A task to a board that shares the cloud model's vocabulary goes as token ids (compact_messages.hpp).
  void compact(messages::Envelope& envelope, const std::string& board) {
    if (!codec_) return;
    auto& task = std::get<messages::ExpansionTask>(envelope.body);
    codec_->compact_task(task, policy_.fleet().boards().at(board).last.vocab_hash);
    if (!task.prompt_ids.empty()) ++compact_tasks_;
  }

  // On its own the cloud's tasks ROUTER addresses the board by routing id; behind a broker its DEALER
  // sends to the broker, which forwards by the envelope's addressee.
  void send_task(const messages::Envelope& envelope) {
    if (config_.connect.empty()) pump_->send("tasks", envelope, envelope.to);
    else pump_->send("tasks", envelope);
  }

  void tell_ensemble(const std::string& id, const RequestState& state, int index) {
    const PointTask& task = state.tasks.at(index);
    PointCopies plan;
    plan.request_id = id;
    plan.point_index = index;
    plan.question = state.request.question;
    plan.point = state.points.at(index - 1);
    for (const PointCopy& copy : task.copies) plan.task_ids.push_back(copy.task_id);
    plan.copies = task.copies_sent;
    plan.weights = {config_.ensemble.fluency_weight, config_.ensemble.relevance_weight,
                    config_.ensemble.agreement_weight};
    plan.wait_ms = config_.ensemble.wait_ms;
    self_->send(ensemble_, expect_atom::value, std::move(plan));
  }

  // All copies of the latest attempt are abandoned (deadline, failure): the point goes to boards
  // that did not have it. Results of the abandoned copies are still welcome if they come first.
  void redispatch(const std::string& id, RequestState& state, int index) {
    auto t = state.tasks.find(index);
    if (t == state.tasks.end() || t->second.done) return;
    std::set<std::string> previous;
    for (const PointCopy& copy : t->second.copies)
      if (copy.board != kCloudPlacement) previous.insert(copy.board);
    release_copies(t->second);
    dispatch(id, state, index, previous);
  }

  // One copy will not answer (its board is gone or refused the send). The others may; when none is
  // left the point is sent again, else the ensemble is told to stop waiting for it.
  void lose_copy(const std::string& id, RequestState& state, int index, const std::string& task_id) {
    auto t = state.tasks.find(index);
    if (t == state.tasks.end() || t->second.done) return;
    auto& copies = t->second.copies;
    auto copy = std::find_if(copies.begin(), copies.end(), [&](const PointCopy& c) { return c.task_id == task_id; });
    if (copy == copies.end() || copy->returned) return;
    // Copies that already answered count: the ensemble then decides with what they brought.
    const bool others_left = copies.size() > 1;
    spdlog::warn("scheduler: point {} of '{}' on '{}' lost its board; {}", index, state.client_request_id, copy->board,
                 others_left ? "its other copies go on" : "sending it again");
    if (!others_left) return redispatch(id, state, index);
    policy_.fleet().task_finished(copy->board);
    copies.erase(copy);
    tell_ensemble(id, state, index);
  }

  // A copy is no longer counted on its board (it answered, or is not waited for any more).
  void release_copy(PointTask& task, const std::string& task_id) {
    for (PointCopy& copy : task.copies)
      if (copy.task_id == task_id && !copy.returned) {
        copy.returned = true;
        if (copy.board != kCloudPlacement) policy_.fleet().task_finished(copy.board);
      }
  }
  void release_copies(PointTask& task) {
    for (PointCopy& copy : task.copies) release_copy(task, copy.task_id);
  }

  void erase_request(std::map<std::string, RequestState>::iterator it) {
    for (auto& [index, task] : it->second.tasks) release_copies(task);
    requests_.erase(it);
  }

  void finish_if_complete(std::map<std::string, RequestState>::iterator it) {
    const RequestState& state = it->second;
    if (!state.sketch_done || state.tasks.size() < state.points.size()) return;
    for (const auto& [index, task] : state.tasks)
      if (!task.done) return;
    ++requests_finished_;
    const int64_t now = messages::now_us();
    request_ms_.observe(static_cast<double>(now - state.created_us) / 1000.0);
    pump_->send("telemetry", span_envelope(config_.node_id, it->first, {}, "request", state.created_us, now,
                                           {{"points", std::to_string(state.points.size())},
                                            {"mode", state.request.mode}}));
    erase_request(it);
  }

  // A point's expansion was chosen: its latency from first dispatch, and its span.
  void record_point(const std::string& id, int index, const PointTask& task) {
    const int64_t now = messages::now_us();
    point_ms_.observe(static_cast<double>(now - task.first_dispatch_us) / 1000.0);
    std::string boards;   // of the latest attempt's copies
    for (const PointCopy& copy : task.copies)
      boards += (boards.empty() ? "" : ",") + (copy.board.empty() ? config_.node_id : copy.board);
    pump_->send("telemetry", span_envelope(config_.node_id, id, id + "/" + std::to_string(index), "point",
                                           task.first_dispatch_us, now,
                                           {{"point", std::to_string(index)},
                                            {"board", boards},
                                            {"attempts", std::to_string(task.attempts)},
                                            {"copies", std::to_string(task.copies_sent)}}));
  }

  void on_heartbeat(const messages::Heartbeat& hb) {
    if (hb.node_id.empty()) {
      spdlog::warn("scheduler: heartbeat with no node id ignored");
      return;
    }
    const auto known = policy_.fleet().boards().find(hb.node_id);
    if (hb.draining && known != policy_.fleet().boards().end() && !known->second.last.draining)
      spdlog::info("scheduler: board '{}' is draining; no more tasks go there", hb.node_id);
    if (policy_.fleet().heard(hb, messages::now_us()))
      spdlog::info("scheduler: board '{}' attached ({} model{}: {})", hb.node_id, hb.models.size(),
                   hb.models.size() == 1 ? "" : "s", hb.models.empty() ? "-" : hb.models.front());
  }

  caf::event_based_actor* self_;
  config::NodeConfig config_;
  std::shared_ptr<brokers::Pump> pump_;
  caf::actor worker_;
  caf::actor assembly_;
  caf::actor ensemble_;
  std::shared_ptr<const TokenCodec> codec_;   // the cloud model's vocabulary; null: always text
  std::map<std::string, RequestState> requests_;
  uint64_t requests_started_ = 0, requests_finished_ = 0;
  uint64_t points_dispatched_ = 0, points_on_cloud_ = 0, redispatches_ = 0, results_rejected_ = 0;
  LatencyHistogram request_ms_;  // accepted -> every point expanded
  LatencyHistogram point_ms_;    // first dispatch -> expansion chosen
  uint64_t requests_cancelled_ = 0, cloud_tokens_ = 0, cancels_sent_ = 0;
  uint64_t router_questions_ = 0, router_fallbacks_ = 0;
  uint64_t task_bytes_ = 0, result_bytes_ = 0, compact_tasks_ = 0, compact_results_ = 0;
  uint64_t late_dropped_ = 0, duplicates_dropped_ = 0;
  std::map<std::string, uint64_t> requests_by_path_;
  SchedulerPolicy policy_;  // the fleet, the cloud's queue, and every plan and placement made from them
};

}  // namespace

caf::behavior scheduler(caf::event_based_actor* self, config::NodeConfig config,
                        std::shared_ptr<brokers::Pump> pump, caf::actor cloud_worker, caf::actor assembly,
                        std::shared_ptr<const TokenCodec> codec) {
  log_exceptions(self, "scheduler");
  auto s = std::make_shared<Scheduler>(self, std::move(config), std::move(pump), std::move(cloud_worker),
                                       assembly, std::move(codec));
  // The ensemble is the scheduler's child: it reports back here, and dies with it.
  auto child = self->spawn<caf::linked>(ensemble, caf::actor_cast<caf::actor>(self), assembly);
  s->set_ensemble(child);
  self->send(self, tick_atom::value);
  return {
      [=](begin_atom, const std::string& id, const std::string& peer, const std::string& client_id,
          const messages::Request& request, int64_t created_us) { s->begin(id, peer, client_id, request, created_us); },
      [=](point_atom, const std::string& id, const messages::SketchPoint& point) { s->on_point(id, point); },
      [=](sketched_atom, const std::string& id, int total, const std::string& error, int tokens, int prompt_tokens) {
        s->on_sketched(id, total, error, tokens, prompt_tokens);
      },
      [=](piece_atom, const std::string& id, const std::string& text) { s->on_piece(id, text); },
      [=](cancel_atom, const std::string& id) { s->cancel(id); },
      [=](brokers::Inbound& in) { s->on_inbound(in); },
      [=](result_atom, messages::Envelope& envelope) { s->on_cloud_result(envelope); },
      [=](task_done_atom, const std::string& id, int index) { s->on_task_done(id, index); },
      [=](dropped_atom, bool late) { s->on_dropped(late); },
      [=](task_failed_atom, const std::string& id, int index, const std::string& reason) {
        s->on_task_failed(id, index, reason);
      },
      [=](send_failed_atom, const std::string& socket, const std::string& peer, const messages::Envelope& env,
          const std::string& why) { s->on_send_failed(socket, peer, env, why); },
      [=](resend_atom, const messages::Envelope& envelope) { s->resend(envelope); },
      [=](tick_atom) {
        s->tick();
        self->delayed_send(self, kTickInterval, tick_atom::value);
      },
      [=](boards_atom) { return static_cast<int>(s->boards()); },
      [=](telemetry_atom) {
        s->publish_telemetry();
        self->delayed_send(self, kTelemetryInterval, telemetry_atom::value);
      },
  };
}

}  // namespace pice::actors
