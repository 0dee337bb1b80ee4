#include "actors/simulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <stdexcept>

#include "actors/percentile.hpp"
#include "actors/scheduler_policy.hpp"

namespace pice::actors {
namespace {

using WallClock = std::chrono::steady_clock;

constexpr int kPointOverheadTokens = 3;  // a sketch point's number, period and line break
constexpr size_t kEnvelopeBytes = 160;   // an envelope's ids, timestamps and field names (msgpack map)
constexpr size_t kHeartbeatBytes = 140;
constexpr double kBytesPerToken = 4;     // text bytes per generated token
constexpr double kBytesPerWord = 6;

enum class Kind { arrival, sketch_point, cloud_job_end, task_arrives, board_step, result_arrives, heartbeat,
                  heartbeat_arrives };

struct Event {
  int64_t t = 0;
  uint64_t seq = 0;  // ties break in scheduling order, so a run is deterministic
  Kind kind = Kind::arrival;
  int a = 0, b = 0, c = 0;
  double x = 0;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

struct SimRequest {
  int question = 0;
  int64_t arrival_us = 0;
  Path path = Path::direct;
  int points = 0;             // points the answer has (1 for a direct answer)
  int words = 0;
  int emitted = 0;            // sketch points written so far
  int done_points = 0;
  bool sketch_done = false;
  int64_t first_chunk_us = -1;
  int64_t done_us = -1;
  int64_t sketch_asked_us = 0;
  std::vector<int64_t> sent_us;   // by point index - 1: when it was dispatched to a board
  std::set<std::string> boards;   // boards given one of its points (prefix_affinity keeps them together)
};

struct CloudJob {
  enum Type { sketch, expand, direct } type = sketch;
  int request = 0;
  int point = 0;
};

struct Sequence {
  int request = 0;
  int point = 0;
  int remaining = 0;  // tokens still to decode
};

struct SimBoard {
  std::string id;
  double speed = 1;
  std::deque<Sequence> waiting;   // received, joins the batch at its next step
  std::vector<Sequence> active;
  bool running = false;
  int64_t run_begin = 0;   // when this run of steps began (its prefill first)
  int64_t run_start = 0;   // when its first decode step began
  int64_t step_us = 1;
  int steps = 0;           // steps in the run as now planned
  uint64_t generation = 0; // a board_step event of an older generation was superseded
  uint64_t tokens = 0;
  int64_t busy_us = 0;
  int expanded = 0;
  int queued() const { return static_cast<int>(waiting.size() + active.size()); }
  double tokens_per_s() const { return busy_us ? static_cast<double>(tokens) * 1e6 / static_cast<double>(busy_us) : 0; }
};

int64_t seconds_to_us(double s) { return static_cast<int64_t>(std::llround(s * 1e6)); }

class Simulation {
 public:
  explicit Simulation(const SimSettings& s) : s_(s), policy_(s.node), rng_(s.workload.seed) {
    if (s.workload.questions.empty()) throw std::invalid_argument("sim: no questions");
    if (s.workload.rate <= 0) throw std::invalid_argument("sim: the rate must be above 0");
    if (s.workload.requests <= 0) throw std::invalid_argument("sim: the request count must be above 0");
    if (s.boards < 0) throw std::invalid_argument("sim: the board count must not be negative");
    if (s.board_speeds.empty()) throw std::invalid_argument("sim: no board speeds");
    for (double v : s.board_speeds)
      if (!(v > 0)) throw std::invalid_argument("sim: a board speed must be above 0");
    direct_tokens_ = s.workload.direct_tokens > 0 ? s.workload.direct_tokens : s.node.scheduler.direct_max_tokens;
    point_tokens_ = s.workload.point_tokens > 0 ? s.workload.point_tokens : s.node.expand.max_tokens;
    mode_ = s.mode.empty() ? s.node.scheduler.mode : s.mode;
    for (const auto& q : s.workload.questions)
      question_tokens_.push_back(std::max(1, static_cast<int>(std::lround(q.size() / kBytesPerToken))));
    boards_.resize(static_cast<size_t>(s.boards));
    char id[32];
    for (int i = 0; i < s.boards; ++i) {
      snprintf(id, sizeof id, "board%05d", i);
      boards_[static_cast<size_t>(i)].id = id;
      boards_[static_cast<size_t>(i)].speed = s.board_speeds[static_cast<size_t>(i) % s.board_speeds.size()];
      board_index_[id] = i;
    }
  }

  SimResult run() {
    const auto wall_start = WallClock::now();
    // Boards attach before the load starts, as on a testbed: their first heartbeat goes out at 0, the
    // first request can arrive once it has reached the scheduler.
    std::uniform_real_distribution<double> phase(0, s_.node.fleet.heartbeat_ms * 1000.0);
    for (int i = 0; i < s_.boards; ++i) {
      schedule(0, Kind::heartbeat, i);
      schedule(static_cast<int64_t>(phase(rng_)) + 1, Kind::heartbeat, i, 1);  // then every period, staggered
    }
    epoch_us_ = s_.link.one_way_us(kHeartbeatBytes) + 1000;
    std::exponential_distribution<double> gap(s_.workload.rate);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(s_.workload.questions.size()) - 1);
    double t = 0;
    requests_.resize(static_cast<size_t>(s_.workload.requests));
    for (int i = 0; i < s_.workload.requests; ++i) {
      t += gap(rng_);
      SimRequest& r = requests_[static_cast<size_t>(i)];
      r.question = pick(rng_);
      r.arrival_us = epoch_us_ + seconds_to_us(t);
      schedule(r.arrival_us, Kind::arrival, i);
    }
    while (!events_.empty() && completed_ < s_.workload.requests) {
      Event e = events_.top();
      events_.pop();
      now_ = e.t;
      handle(e);
    }
    return result(std::chrono::duration<double>(WallClock::now() - wall_start).count());
  }

 private:
  void schedule(int64_t t, Kind kind, int a = 0, int b = 0, int c = 0, double x = 0) {
    events_.push(Event{t, seq_++, kind, a, b, c, x});
  }

  void handle(const Event& e) {
    switch (e.kind) {
      case Kind::arrival: return arrive(e.a);
      case Kind::sketch_point: return sketch_point(e.a, e.b);
      case Kind::cloud_job_end: return cloud_job_end();
      case Kind::task_arrives: return task_arrives(e.a, e.b, e.c);
      case Kind::board_step: return board_step(e.a, static_cast<uint64_t>(e.b));
      case Kind::result_arrives: return result_arrives(e.a, e.b, e.c);
      case Kind::heartbeat: return heartbeat(e.a, e.b);
      case Kind::heartbeat_arrives: return heartbeat_arrives(e.a, e.b, e.x);
    }
  }

  // --- the scheduler's side: every decision is SchedulerPolicy's ---

  template <class F>
  auto timed(F&& f) {
    const auto start = WallClock::now();
    auto out = f();
    policy_seconds_ += std::chrono::duration<double>(WallClock::now() - start).count();
    return out;
  }

  void arrive(int id) {
    SimRequest& r = requests_[static_cast<size_t>(id)];
    messages::Request request;
    request.question = s_.workload.questions[static_cast<size_t>(r.question)];
    request.mode = mode_;
    request.ignore_eos = true;
    const Plan plan = timed([&] { return policy_.plan(request); });
    ++decisions_;
    r.path = plan.path;
    ++paths_[std::string(path_name(plan.path))];
    if (is_direct(plan.path)) {
      r.points = 1;
      r.sketch_done = true;
      r.sent_us.assign(1, 0);
      dispatch(id, 1);
      return;
    }
    r.points = plan.budget.max_points;
    r.words = plan.budget.words_per_point;
    r.sent_us.assign(static_cast<size_t>(r.points), 0);
    r.sketch_asked_us = now_;
    policy_.cloud_job_sent();
    enqueue_cloud({CloudJob::sketch, id, 0});
  }

  void dispatch(int id, int point) {
    SimRequest& r = requests_[static_cast<size_t>(id)];
    const std::vector<std::string> placed = timed([&] { return policy_.place_copies(r.path, 1, {}, r.boards); });
    ++decisions_;
    const std::optional<std::string> board = placed.empty() ? std::nullopt : std::optional(placed.front());
    if (!board) {
      ++points_on_cloud_;
      enqueue_cloud({r.path == Path::direct || r.path == Path::direct_edge ? CloudJob::direct : CloudJob::expand, id,
                     point});
      return;
    }
    const int b = board_index_.at(*board);
    r.boards.insert(*board);
    r.sent_us[static_cast<size_t>(point - 1)] = now_;
    const size_t bytes = kEnvelopeBytes + s_.workload.questions[static_cast<size_t>(r.question)].size() +
                         static_cast<size_t>(r.emitted * r.words * kBytesPerWord);
    link_bytes_ += bytes;
    schedule(now_ + s_.link.one_way_us(bytes), Kind::task_arrives, b, id, point);
  }

  void sketch_point(int id, int index) {
    SimRequest& r = requests_[static_cast<size_t>(id)];
    r.emitted = index;
    if (index == 1) {
      r.first_chunk_us = now_;
      policy_.first_point_after(static_cast<double>(now_ - r.sketch_asked_us) / 1000.0);
    }
    dispatch(id, index);
  }

  void result_arrives(int id, int point, int b) {
    SimRequest& r = requests_[static_cast<size_t>(id)];
    policy_.fleet().task_finished(boards_[static_cast<size_t>(b)].id);
    policy_.edge_result_after(static_cast<double>(now_ - r.sent_us[static_cast<size_t>(point - 1)]) / 1000.0);
    if (r.path == Path::direct_edge) r.first_chunk_us = now_;  // an edge's direct answer comes whole
    point_done(id);
  }

  void heartbeat_arrives(int b, int queue_depth, double tokens_per_s) {
    messages::Heartbeat hb;
    hb.node_id = boards_[static_cast<size_t>(b)].id;
    hb.role = "edge";
    hb.batch_slots = 1;  // what a real edge announces (edge_actors.cpp: the cost model counts slots as parallel)
    hb.queue_depth = queue_depth;
    hb.tokens_per_s = tokens_per_s;
    timed([&] { return policy_.fleet().heard(hb, now_); });
  }

  void point_done(int id) {
    SimRequest& r = requests_[static_cast<size_t>(id)];
    ++r.done_points;
    finish_if_complete(r);
  }

  void finish_if_complete(SimRequest& r) {
    if (!r.sketch_done || r.done_points < r.points || r.done_us >= 0) return;
    r.done_us = now_;
    ++completed_;
  }

  // --- the cloud model: one job at a time, first come first served (the cloud worker) ---

  void enqueue_cloud(CloudJob job) {
    cloud_queue_.push_back(job);
    if (!cloud_busy_) start_cloud_job();
  }

  void start_cloud_job() {
    if (cloud_queue_.empty()) {
      cloud_busy_ = false;
      return;
    }
    cloud_busy_ = true;
    cloud_job_ = cloud_queue_.front();
    cloud_queue_.pop_front();
    SimRequest& r = requests_[static_cast<size_t>(cloud_job_.request)];
    const EngineProfile& p = s_.cloud;
    const int question = question_tokens_[static_cast<size_t>(r.question)];
    const double step = p.step_seconds(1);
    double t = 0;
    if (cloud_job_.type == CloudJob::sketch) {
      t = p.prefill_seconds(s_.workload.prompt_tokens + question);
      const int point_tokens = point_sketch_tokens(r);
      for (int i = 1; i <= r.points; ++i) {
        t += point_tokens * step;
        schedule(now_ + seconds_to_us(t), Kind::sketch_point, cloud_job_.request, i);
      }
      cloud_tokens_ += static_cast<uint64_t>(point_tokens * r.points);
    } else if (cloud_job_.type == CloudJob::expand) {
      t = p.prefill_seconds(s_.workload.expand_prompt_tokens + question + point_sketch_tokens(r) * r.points) +
          point_tokens_ * step;
      cloud_tokens_ += static_cast<uint64_t>(point_tokens_);
    } else {
      t = p.prefill_seconds(s_.workload.prompt_tokens + question);
      r.first_chunk_us = now_ + seconds_to_us(t + step);  // the cloud streams a direct answer as it writes
      t += direct_tokens_ * step;
      cloud_tokens_ += static_cast<uint64_t>(direct_tokens_);
    }
    schedule(now_ + seconds_to_us(t), Kind::cloud_job_end);
  }

  void cloud_job_end() {
    policy_.cloud_job_done();
    SimRequest& r = requests_[static_cast<size_t>(cloud_job_.request)];
    if (cloud_job_.type == CloudJob::sketch) {
      r.sketch_done = true;
      finish_if_complete(r);
    } else {
      point_done(cloud_job_.request);
    }
    start_cloud_job();
  }

  int point_sketch_tokens(const SimRequest& r) const {
    return static_cast<int>(std::lround(r.words * s_.workload.tokens_per_word)) + kPointOverheadTokens;
  }

  // --- the boards: a queue, and a batch that steps every point it holds at once (the expander) ---

  void task_arrives(int b, int id, int point) {
    SimBoard& board = boards_[static_cast<size_t>(b)];
    const SimRequest& r = requests_[static_cast<size_t>(id)];
    board.waiting.push_back({id, point, r.path == Path::direct_edge ? direct_tokens_ : point_tokens_});
    if (!board.running) return start_run(b);
    if (static_cast<int>(board.active.size()) >= s_.edge_batch) return;  // the batch is full: it waits its turn
    // It joins at the next step: end the current run there.
    const int64_t into = std::max<int64_t>(0, now_ - board.run_start);
    const int next = static_cast<int>(into / board.step_us) + 1;
    if (next >= board.steps) return;  // the run ends at that step anyway
    board.steps = next;
    ++board.generation;
    schedule(board.run_start + next * board.step_us, Kind::board_step, b, static_cast<int>(board.generation));
  }

  void start_run(int b) {
    SimBoard& board = boards_[static_cast<size_t>(b)];
    int prefill_tokens = 0;
    while (!board.waiting.empty() && static_cast<int>(board.active.size()) < s_.edge_batch) {
      Sequence seq = board.waiting.front();
      board.waiting.pop_front();
      const SimRequest& r = requests_[static_cast<size_t>(seq.request)];
      const bool shared = std::any_of(board.active.begin(), board.active.end(),
                                      [&](const Sequence& o) { return o.request == seq.request; });
      // Points of one request fork the prompt prefix (question and sketch); only their own point is new.
      prefill_tokens += shared ? point_sketch_tokens(r)
                               : s_.workload.expand_prompt_tokens + question_tokens_[static_cast<size_t>(r.question)] +
                                     point_sketch_tokens(r) * std::max(1, r.emitted);
      board.active.push_back(seq);
    }
    if (board.active.empty()) {
      if (board.running) --running_boards_;
      board.running = false;
      return;
    }
    if (!board.running) ++running_boards_;
    board.running = true;
    // Boards that share cores (the testbed's edges on one core) slow each other while both are busy.
    double speed = board.speed;
    if (s_.edge_cores > 0) speed /= std::max(1.0, running_boards_ / s_.edge_cores);
    const int n = static_cast<int>(board.active.size());
    board.run_begin = now_;
    board.run_start = now_ + seconds_to_us(s_.edge.prefill_seconds(prefill_tokens) / speed);
    board.step_us = std::max<int64_t>(1, seconds_to_us(s_.edge.step_seconds(n) / speed));
    int steps = board.active.front().remaining;
    for (const Sequence& seq : board.active) steps = std::min(steps, seq.remaining);
    board.steps = steps;
    ++board.generation;
    schedule(board.run_start + steps * board.step_us, Kind::board_step, b, static_cast<int>(board.generation));
  }

  void board_step(int b, uint64_t generation) {
    SimBoard& board = boards_[static_cast<size_t>(b)];
    if (generation != board.generation) return;
    const int steps = board.steps;
    board.tokens += static_cast<uint64_t>(steps) * board.active.size();
    board.busy_us += now_ - board.run_begin;
    edge_tokens_ += static_cast<uint64_t>(steps) * board.active.size();
    std::vector<Sequence> still;
    for (Sequence& seq : board.active) {
      seq.remaining -= steps;
      if (seq.remaining > 0) {
        still.push_back(seq);
        continue;
      }
      ++board.expanded;
      const int tokens = requests_[static_cast<size_t>(seq.request)].path == Path::direct_edge ? direct_tokens_
                                                                                                  : point_tokens_;
      const size_t bytes = kEnvelopeBytes + static_cast<size_t>(tokens * kBytesPerToken);
      link_bytes_ += bytes;
      schedule(now_ + s_.link.one_way_us(bytes), Kind::result_arrives, seq.request, seq.point, b);
    }
    board.active = std::move(still);
    start_run(b);
  }

  void heartbeat(int b, int periodic) {
    const SimBoard& board = boards_[static_cast<size_t>(b)];
    schedule(now_ + s_.link.one_way_us(kHeartbeatBytes), Kind::heartbeat_arrives, b, board.queued(), 0,
             board.tokens_per_s());
    if (periodic) schedule(now_ + int64_t{s_.node.fleet.heartbeat_ms} * 1000, Kind::heartbeat, b, 1);
  }

  SimResult result(double wall_seconds) const {
    SimResult out;
    out.mode = mode_;
    out.boards = s_.boards;
    out.rate = s_.workload.rate;
    out.requests = s_.workload.requests;
    out.completed = completed_;
    std::vector<double> latency, first;
    int64_t last = epoch_us_;
    for (const SimRequest& r : requests_) {
      if (r.done_us < 0) continue;
      last = std::max(last, r.done_us);
      latency.push_back(static_cast<double>(r.done_us - r.arrival_us) / 1000.0);
      first.push_back(static_cast<double>(r.first_chunk_us - r.arrival_us) / 1000.0);
    }
    out.seconds = static_cast<double>(last - epoch_us_) / 1e6;
    out.throughput = out.seconds > 0 ? completed_ / out.seconds : 0;
    out.p50_ms = percentile(latency, 0.5);
    out.p95_ms = percentile(latency, 0.95);
    out.p50_first_ms = percentile(first, 0.5);
    out.p95_first_ms = percentile(first, 0.95);
    const double n = std::max(1, s_.workload.requests);
    out.cloud_tokens_per_request = static_cast<double>(cloud_tokens_) / n;
    out.edge_tokens_per_request = static_cast<double>(edge_tokens_) / n;
    out.bytes_per_request = static_cast<double>(link_bytes_) / n;
    out.paths = paths_;
    for (const SimBoard& board : boards_) out.points_per_board.push_back(board.expanded);
    out.points_on_cloud = points_on_cloud_;
    out.decisions = decisions_;
    out.wall_seconds = wall_seconds;
    out.policy_seconds = policy_seconds_;
    return out;
  }

  const SimSettings& s_;
  SchedulerPolicy policy_;
  std::mt19937_64 rng_;
  std::string mode_;
  int direct_tokens_ = 0, point_tokens_ = 0;
  std::vector<int> question_tokens_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  int64_t now_ = 0, epoch_us_ = 0;
  std::vector<SimRequest> requests_;
  std::vector<SimBoard> boards_;
  std::map<std::string, int> board_index_;
  int running_boards_ = 0;
  std::deque<CloudJob> cloud_queue_;
  CloudJob cloud_job_;
  bool cloud_busy_ = false;
  int completed_ = 0, points_on_cloud_ = 0;
  uint64_t decisions_ = 0, cloud_tokens_ = 0, edge_tokens_ = 0, link_bytes_ = 0;
  double policy_seconds_ = 0;
  std::map<std::string, int> paths_;
};

}  // namespace

int64_t LinkModel::one_way_us(size_t bytes) const {
  return static_cast<int64_t>(std::llround(rtt_ms * 500.0 + static_cast<double>(bytes) * 8.0 / mbit_per_s));
}

SimResult simulate(const SimSettings& settings) { return Simulation(settings).run(); }

const std::vector<std::string>& builtin_sim_questions() {
  static const std::vector<std::string> questions = {
      "What are the benefits of learning a second language?",
      "How can I improve my sleep?",
      "What are some tips for saving money on groceries?",
      "What are the advantages and disadvantages of working from home?",
      "How do I prepare for a marathon?",
      "What are some ways to make a small apartment feel bigger?",
      "What should I consider when choosing a laptop?",
      "What are the main causes of climate change?",
      "Write a Python function that checks whether a number is prime.",
      "What is 48 times 12?",
      "Write a short poem about the sea.",
      "How many piano tuners are there in Chicago?",
  };
  return questions;
}

}  // namespace pice::actors
