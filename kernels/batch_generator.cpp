#include "kernels/batch_generator.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace pice::kernels {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kRetainedPrompts = 4;   // recent prompts kept for later forks
constexpr int kSlack = KvCache::kBlockTokens;   // a partly filled block per sequence

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

int budget_of(size_t prompt, int max_tokens) { return static_cast<int>(prompt) + std::max(max_tokens, 0) + kSlack; }

}  // namespace

BatchGenerator::BatchGenerator(std::shared_ptr<const Model> model, int kv_tokens, int max_running)
    : model_(model), kv_tokens_(kv_tokens), max_running_(std::max(1, max_running)), batch_(std::move(model), kv_tokens) {}

BatchGenerator::Id BatchGenerator::add(std::vector<int32_t> prompt, const GenerateOptions& options,
                                       TokenCallback on_token) {
  if (prompt.empty()) throw ModelError("BatchGenerator::add: empty prompt");
  const int vocab = model_->hparams().vocab_size;
  for (const int32_t t : prompt)
    if (t < 0 || t >= vocab)
      throw ModelError("BatchGenerator::add: token id " + std::to_string(t) + " outside the vocab of " + std::to_string(vocab));
  const int context = model_->hparams().context_length;
  if (static_cast<int>(prompt.size()) > context)
    throw ModelError("BatchGenerator::add: a prompt of " + std::to_string(prompt.size()) +
                     " tokens exceeds the context length of " + std::to_string(context));
  const int budget = budget_of(prompt.size(), std::min(options.max_tokens, context - static_cast<int>(prompt.size())));
  if (budget > kv_tokens_)
    throw ModelError("BatchGenerator::add: " + std::to_string(prompt.size()) + " prompt tokens and " +
                     std::to_string(options.max_tokens) + " to generate do not fit a cache of " +
                     std::to_string(kv_tokens_) + " tokens");
  const Id id = next_id_++;
  waiting_.push_back({id, std::move(prompt), options, std::move(on_token)});
  return id;
}

// First come first served while the cache has room. A prompt that shares at least a block with one
// still being prefilled waits one step instead, so that it forks the computed prefix rather than
// prefilling it again beside its twin.
void BatchGenerator::admit() {
  const int context = model_->hparams().context_length;
  for (auto it = waiting_.begin(); it != waiting_.end() && static_cast<int>(running_.size()) < max_running_;) {
    const int budget = budget_of(it->prompt.size(), std::min(it->options.max_tokens, context - static_cast<int>(it->prompt.size())));
    if (budget_used_ + budget > kv_tokens_) break;
    const bool twin_prefilling = std::any_of(running_.begin(), running_.end(), [&](const Running& r) {
      const size_t shared = common_prefix(r.history, it->prompt);
      return shared >= static_cast<size_t>(KvCache::kBlockTokens) && static_cast<size_t>(r.fed) < shared;
    });
    if (twin_prefilling) {
      ++it;
      continue;
    }
    Pending pending = std::move(*it);
    it = waiting_.erase(it);
    start(std::move(pending));
  }
}

// The new generation forks the longest prefix of its prompt already in the cache (at least one block,
// and never the whole prompt: its last token must run to give the first logits).
void BatchGenerator::start(Pending pending) {
  const int context = model_->hparams().context_length;
  Batch::SeqId source = -1;
  size_t best = 0;
  auto consider = [&](Batch::SeqId seq, const std::vector<int32_t>& tokens, size_t valid) {
    const size_t shared = std::min({common_prefix(tokens, pending.prompt), valid, pending.prompt.size() - 1});
    if (shared > best) {
      best = shared;
      source = seq;
    }
  };
  // Only positions a bounded cache has not evicted can be shared.
  auto intact = [&](Batch::SeqId seq, size_t valid) { return std::min(valid, static_cast<size_t>(batch_.intact_length(seq))); };
  for (const Running& r : running_) consider(r.seq, r.history, intact(r.seq, static_cast<size_t>(r.fed)));
  for (const Retained& r : retained_) consider(r.seq, r.tokens, intact(r.seq, r.tokens.size()));
  Running r;
  r.id = pending.id;
  if (best >= static_cast<size_t>(KvCache::kBlockTokens)) {
    r.seq = batch_.fork(source, static_cast<int>(best));
    r.fed = static_cast<int>(best);
    shared_prompt_tokens_ += static_cast<int64_t>(best);
  } else {
    r.seq = batch_.add();
    r.fed = 0;
  }
  r.prompt_size = pending.prompt.size();
  r.budget = budget_of(pending.prompt.size(), std::min(pending.options.max_tokens, context - static_cast<int>(pending.prompt.size())));
  r.state = std::make_unique<GenerationState>(model_->tokenizer(), pending.prompt, pending.options, std::move(pending.on_token));
  r.history = std::move(pending.prompt);
  budget_used_ += r.budget;
  running_.push_back(std::move(r));
}

void BatchGenerator::retain(const Running& r) {
  for (const Retained& kept : retained_)
    if (kept.tokens.size() >= r.prompt_size && std::equal(r.history.begin(), r.history.begin() + static_cast<std::ptrdiff_t>(r.prompt_size), kept.tokens.begin()))
      return;   // already kept (or a longer one that starts with it)
  if (retained_.size() == kRetainedPrompts) {
    batch_.remove(retained_.front().seq);
    retained_.pop_front();
  }
  retained_.push_back({batch_.fork(r.seq, static_cast<int>(r.prompt_size)),
                       std::vector<int32_t>(r.history.begin(), r.history.begin() + static_cast<std::ptrdiff_t>(r.prompt_size))});
}

// Kept prompts give way to running generations: the budget guarantees room once none is kept.
void BatchGenerator::make_room(int tokens) {
  while (!retained_.empty() && batch_.free_tokens() < tokens) {
    batch_.remove(retained_.front().seq);
    retained_.pop_front();
  }
}

bool BatchGenerator::cancel(Id id) {
  if (auto w = std::find_if(waiting_.begin(), waiting_.end(), [&](const Pending& p) { return p.id == id; });
      w != waiting_.end()) {
    waiting_.erase(w);
    return true;
  }
  auto r = std::find_if(running_.begin(), running_.end(), [&](const Running& x) { return x.id == id; });
  if (r == running_.end()) return false;
  batch_.remove(r->seq);
  budget_used_ -= r->budget;
  running_.erase(r);
  return true;
}

std::vector<BatchGenerator::Finished> BatchGenerator::step() {
  admit();
  std::vector<Finished> finished;
  if (running_.empty()) return finished;
  std::vector<Batch::Item> items;
  int upper_bound = 0;   // positions the step may take: its tokens and up to two blocks per sequence
  for (const Running& r : running_) {
    const std::span<const int32_t> tokens(r.history.data() + r.fed, r.history.size() - static_cast<size_t>(r.fed));
    items.push_back({r.seq, tokens, true});
    upper_bound += static_cast<int>(tokens.size()) + 2 * KvCache::kBlockTokens;
  }
  make_room(upper_bound);
  const auto start = Clock::now();
  batch_.step(items);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

  const int context = model_->hparams().context_length;
  std::vector<Running> still;
  for (size_t i = 0; i < running_.size(); ++i) {
    Running& r = running_[i];
    const bool prefill = static_cast<size_t>(r.fed) < r.prompt_size;
    (prefill ? r.prefill_ms : r.decode_ms) += ms;
    r.fed = static_cast<int>(r.history.size());
    if (prefill) retain(r);
    if (r.state->accept(batch_.logits(i)) && batch_.position(r.seq) < context) {
      r.history.push_back(r.state->last_token());
      still.push_back(std::move(r));
      continue;
    }
    Generation g = r.state->finish();
    g.prefill_ms = r.prefill_ms;
    g.decode_ms = r.decode_ms;
    finished.push_back({r.id, std::move(g)});
    batch_.remove(r.seq);
    budget_used_ -= r.budget;
  }
  running_ = std::move(still);
  return finished;
}

}  // namespace pice::kernels
