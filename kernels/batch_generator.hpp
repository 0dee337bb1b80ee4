#pragma once
// Many generations at once on one Batch (continuous batching): generations are added at any time and
// join at the next step; each step prefills the prompts of those that just joined and decodes one
// token of every other in the same pass; finished ones leave and their cache returns.
//
// Prompts share their common prefixes: a new prompt forks the longest prefix it has in common with a
// running generation or with one of the last few prompts (kept in the cache for this), and prefills
// only the rest. The points of one request (question and sketch, then each point) prefill their
// shared part once.
//
// Each generation samples, stops and streams exactly as generate() does on its own Sequence, and
// gives the same tokens (a batched token's logits equal its unbatched ones bit for bit).
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "kernels/batch.hpp"
#include "kernels/generate.hpp"
#include "kernels/generation_state.hpp"

namespace pice::kernels {

class BatchGenerator {
 public:
  using Id = uint64_t;

  // kv_tokens: cache positions over all generations; max_running: generations stepped together
  // (more wait their turn, first come first served).
  BatchGenerator(std::shared_ptr<const Model> model, int kv_tokens, int max_running = 16);

  // Queues a generation. ModelError for an empty prompt or one that, with max_tokens, could never fit
  // the cache. Generation stops at the model's context length ("length").
  Id add(std::vector<int32_t> prompt, const GenerateOptions& options, TokenCallback on_token = {});

  struct Finished {
    Id id;
    Generation generation;
  };
  // Drops a generation, waiting or running: its cache returns at once and it is never reported as
  // finished (a client that left). False when no such generation is here (finished or unknown).
  bool cancel(Id id);

  // One forward pass over every running generation; returns those that finished in it.
  std::vector<Finished> step();

  bool idle() const { return running_.empty() && waiting_.empty(); }
  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  // Prompt tokens taken from the cache instead of being prefilled, over all generations so far.
  int64_t shared_prompt_tokens() const { return shared_prompt_tokens_; }
  const Model& model() const { return *model_; }

 private:
  struct Pending {
    Id id;
    std::vector<int32_t> prompt;
    GenerateOptions options;
    TokenCallback on_token;
  };
  struct Running {
    Id id;
    Batch::SeqId seq;
    std::vector<int32_t> history;   // tokens in the cache (prompt, then fed samples)
    size_t prompt_size;
    int fed;                        // tokens of history already run
    std::unique_ptr<GenerationState> state;
    int budget;                     // cache positions reserved for it
    double prefill_ms = 0, decode_ms = 0;
  };
  struct Retained {   // a prompt kept in the cache for later forks
    Batch::SeqId seq;
    std::vector<int32_t> tokens;
  };

  void admit();
  void start(Pending pending);
  void retain(const Running& r);
  void make_room(int tokens);

  std::shared_ptr<const Model> model_;
  int kv_tokens_, max_running_;
  Batch batch_;
  Id next_id_ = 1;
  std::deque<Pending> waiting_;
  std::vector<Running> running_;
  std::deque<Retained> retained_;   // oldest first
  int budget_used_ = 0;
  int64_t shared_prompt_tokens_ = 0;
};

}  // namespace pice::kernels
