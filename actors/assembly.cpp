// Assembly: turns a request's sketch points and chosen expansions into the client's stream:
// each sketch point as soon as it is written, expansions strictly in point order as soon as the next
// one is ready, then one `done` chunk. Every chunk goes to the client's peer on the gateway socket.
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
  std::string mode;
  int64_t created_us = 0;
  int total = -1;  // known once the sketch is complete
  int next = 1;    // the next point to stream
  std::map<int, std::pair<messages::ExpansionResult, double>> ready;
};

class Assembler {
 public:
  Assembler(std::shared_ptr<brokers::Pump> pump, std::string node_id)
      : pump_(std::move(pump)), node_id_(std::move(node_id)) {}

  void open(const std::string& id, const std::string& peer, const std::string& client_id, const std::string& mode,
            int64_t created_us) {
    Answer& a = answers_[id];
    a.peer = peer;
    a.client_request_id = client_id;
    a.mode = mode;
    a.created_us = created_us;
  }

  void point(const std::string& id, const messages::SketchPoint& p) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    messages::AnswerChunk chunk = make_chunk(it->second, messages::ChunkKind::sketch_point);
    chunk.point_index = p.index;
    chunk.text = p.text;
    emit(it->second, chunk);
  }

  void sketched(const std::string& id, int total, const std::string& error) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    if (!error.empty()) {
      messages::AnswerChunk chunk = make_chunk(it->second, messages::ChunkKind::error);
      chunk.text = "the sketch failed: " + error;
      emit(it->second, chunk);
      answers_.erase(it);
      return;
    }
    it->second.total = total;
    flush(it);
  }

  void chosen(const std::string& id, const messages::ExpansionResult& result, double score) {
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    it->second.ready.emplace(result.point_index, std::make_pair(result, score));
    flush(it);
  }

 private:
  messages::AnswerChunk make_chunk(const Answer& a, messages::ChunkKind kind) const {
    messages::AnswerChunk chunk;
    chunk.kind = kind;
    chunk.mode = a.mode;
    chunk.total_points = a.total < 0 ? 0 : a.total;
    chunk.elapsed_ms = static_cast<double>(messages::now_us() - a.created_us) / 1000.0;
    return chunk;
  }

  void flush(std::map<std::string, Answer>::iterator it) {
    Answer& a = it->second;
    for (auto r = a.ready.find(a.next); r != a.ready.end(); r = a.ready.find(a.next)) {
      const auto& [result, score] = r->second;
      messages::AnswerChunk chunk = make_chunk(a, messages::ChunkKind::expansion);
      chunk.point_index = result.point_index;
      chunk.text = result.text;
      chunk.node = result.node;
      chunk.model = result.model;
      chunk.score = score;
      emit(a, chunk);
      a.ready.erase(r);
      ++a.next;
    }
    if (a.total >= 0 && a.next > a.total) {
      emit(a, make_chunk(a, messages::ChunkKind::done));
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
          const std::string& mode, int64_t created_us) { a->open(id, peer, client_id, mode, created_us); },
      [=](point_atom, const std::string& id, const messages::SketchPoint& p) { a->point(id, p); },
      [=](sketched_atom, const std::string& id, int total, const std::string& error) { a->sketched(id, total, error); },
      [=](chosen_atom, const std::string& id, const messages::ExpansionResult& result, double score) {
        a->chosen(id, result, score);
      },
  };
}

}  // namespace pice::actors
