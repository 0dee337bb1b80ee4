// Assembly: turns a request's sketch points and chosen expansions into the client's stream:
// each sketch point as soon as it is written, expansions strictly in point order as soon as the next
// one is ready, then one `done` chunk with the answer's token totals. A direct answer streams as `text`
// chunks instead. Every chunk goes to the client's peer on the gateway socket and carries the plan
// (mode, path, reason, budget) the scheduler chose.
#include <spdlog/spdlog.h>

#include <map>

#include "actors/cloud_actors.hpp"
#include "actors/actor_errors.hpp"
#include "actors/protocol.hpp"

namespace pice::actors {
namespace {

struct Answer {
  std::string peer;
  std::string client_request_id;
  AnswerPlan plan;
  int64_t created_us = 0;
  int total = -1;  // known once the sketch is complete (1 for a direct answer)
  int next = 1;    // the next point to stream
  bool direct = false;
  bool streamed_text = false;  // a direct answer's pieces went out as they were written
  int tokens = 0, prompt_tokens = 0;
  int64_t task_bytes = 0, result_bytes = 0;   // the scheduler's latest count for this request
  std::map<int, ChosenExpansion> ready;
};

class Assembler {
 public:
  Assembler(std::shared_ptr<brokers::Pump> pump, std::string node_id)
      : pump_(std::move(pump)), node_id_(std::move(node_id)) {}

  void open(const std::string& id, const std::string& peer, const std::string& client_id, const AnswerPlan& plan,
            int64_t created_us) {
    Answer& a = answers_[id];
    a.peer = peer;
    a.client_request_id = client_id;
    a.plan = plan;
    a.created_us = created_us;
    a.direct = plan.path == "direct" || plan.path == "direct-edge";
    if (a.direct) a.total = 1;
  }

  void cancel(const std::string& id) { answers_.erase(id); }

  void traffic(const std::string& id, int64_t task_bytes, int64_t result_bytes) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    it->second.task_bytes = task_bytes;
    it->second.result_bytes = result_bytes;
  }

  void point(const std::string& id, const messages::SketchPoint& p) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    messages::AnswerChunk chunk = make_chunk(it->second, messages::ChunkKind::sketch_point);
    chunk.point_index = p.index;
    chunk.text = p.text;
    emit(it->second, chunk);
  }

  void piece(const std::string& id, const std::string& text) {
    auto it = answers_.find(id);
    if (it == answers_.end() || text.empty()) return;
    it->second.streamed_text = true;
    messages::AnswerChunk chunk = make_chunk(it->second, messages::ChunkKind::text);
    chunk.point_index = 1;
    chunk.text = text;
    chunk.node = node_id_;
    emit(it->second, chunk);
  }

  void sketched(const std::string& id, int total, const std::string& error, int tokens, int prompt_tokens) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    if (!error.empty()) {
      messages::AnswerChunk chunk = make_chunk(it->second, messages::ChunkKind::error);
      chunk.text = error;
      emit(it->second, chunk);
      answers_.erase(it);
      return;
    }
    it->second.total = total;
    it->second.tokens += tokens;
    it->second.prompt_tokens += prompt_tokens;
    flush(it);
  }

  void chosen(const std::string& id, ChosenExpansion&& chosen) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    const int index = chosen.result.point_index;
    it->second.ready.emplace(index, std::move(chosen));
    flush(it);
  }

 private:
  messages::AnswerChunk make_chunk(const Answer& a, messages::ChunkKind kind) const {
    messages::AnswerChunk chunk;
    chunk.kind = kind;
    chunk.mode = a.plan.mode;
    chunk.path = a.plan.path;
    chunk.reason = a.plan.reason;
    chunk.budget_points = a.plan.budget_points;
    chunk.budget_words = a.plan.budget_words;
    chunk.total_points = a.total < 0 || a.direct ? 0 : a.total;
    chunk.elapsed_ms = static_cast<double>(messages::now_us() - a.created_us) / 1000.0;
    return chunk;
  }

  // Who wrote a piece of the answer, and how the ensemble judged it against the other copies.
  static void provenance(messages::AnswerChunk& chunk, const ChosenExpansion& chosen) {
    const messages::ExpansionResult& result = chosen.result;
    chunk.node = result.node;
    chunk.model = result.model;
    chunk.score = chosen.score;
    chunk.tokens = result.tokens;
    chunk.prompt_tokens = result.prompt_tokens;
    chunk.timings = result.timings;
    chunk.candidates = chosen.candidates;
    chunk.copies = chosen.copies;
  }

  void flush(std::map<std::string, Answer>::iterator it) {
    Answer& a = it->second;
    messages::AnswerChunk done = make_chunk(a, messages::ChunkKind::done);
    for (auto r = a.ready.find(a.next); r != a.ready.end(); r = a.ready.find(a.next)) {
      const ChosenExpansion& chosen = r->second;
      const messages::ExpansionResult& result = chosen.result;
      a.tokens += result.tokens;
      a.prompt_tokens += result.prompt_tokens;
      if (a.direct) {
        // The done chunk says who wrote a direct answer; its text went out already unless an edge wrote it.
        provenance(done, chosen);
        if (!a.streamed_text) {
          messages::AnswerChunk chunk = make_chunk(a, messages::ChunkKind::text);
          chunk.point_index = 1;
          chunk.text = result.text;
          provenance(chunk, chosen);
          emit(a, chunk);
        }
      } else {
        messages::AnswerChunk chunk = make_chunk(a, messages::ChunkKind::expansion);
        chunk.point_index = result.point_index;
        chunk.text = result.text;
        provenance(chunk, chosen);
        emit(a, chunk);
      }
      a.ready.erase(r);
      ++a.next;
    }
    if (a.total >= 0 && a.next > a.total) {
      done.elapsed_ms = static_cast<double>(messages::now_us() - a.created_us) / 1000.0;
      done.tokens = a.tokens;
      done.prompt_tokens = a.prompt_tokens;
      done.task_bytes = a.task_bytes;
      done.result_bytes = a.result_bytes;
      emit(a, done);
      answers_.erase(it);
    }
  }

  void emit(const Answer& a, const messages::AnswerChunk& chunk) {
    messages::Envelope env;
    env.request_id = a.client_request_id;
    env.sender = node_id_;
    env.created_us = a.created_us;
    env.body = chunk;
    pump_->send("gateway", env, a.peer);
  }

  std::shared_ptr<brokers::Pump> pump_;
  std::string node_id_;
  std::map<std::string, Answer> answers_;
};

}  // namespace

caf::behavior assembly(caf::event_based_actor* self, std::shared_ptr<brokers::Pump> pump, std::string node_id) {
  log_exceptions(self, "assembly");
  auto a = std::make_shared<Assembler>(std::move(pump), std::move(node_id));
  return {
      [=](open_atom, const std::string& id, const std::string& peer, const std::string& client_id,
          const AnswerPlan& plan, int64_t created_us) { a->open(id, peer, client_id, plan, created_us); },
      [=](point_atom, const std::string& id, const messages::SketchPoint& p) { a->point(id, p); },
      [=](piece_atom, const std::string& id, const std::string& text) { a->piece(id, text); },
      [=](cancel_atom, const std::string& id) { a->cancel(id); },
      [=](traffic_atom, const std::string& id, int64_t task_bytes, int64_t result_bytes) {
        a->traffic(id, task_bytes, result_bytes);
      },
      [=](sketched_atom, const std::string& id, int total, const std::string& error, int tokens, int prompt_tokens) {
        a->sketched(id, total, error, tokens, prompt_tokens);
      },
      [=](chosen_atom, const std::string& id, ChosenExpansion& chosen) { a->chosen(id, std::move(chosen)); },
  };
}

}  // namespace pice::actors
