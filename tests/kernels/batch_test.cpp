// The batched forward pass and its block cache: a sequence's logits are the same whatever else runs in
// its step; a forked prefix gives the same logits as one recomputed from scratch; batched generation
// gives each request the tokens it gets alone. Synthetic models in F32 (float path), Q8_0 and Q4_0
// (the several-rows integer kernels), and stories260K (real weights) when ../shared is present.
#include <gtest/gtest.h>

#include <map>
#include <numeric>

#include "tests/common/shared_data.hpp"
#include "kernels/batch.hpp"
#include "kernels/batch_generator.hpp"
#include "kernels/generate.hpp"
#include "kernels/kv_cache.hpp"
#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

std::vector<int32_t> tokens_of(int n, int seed, int vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(3 + (seed * 131 + i * 37) % (vocab - 3));
  return ids;
}

std::vector<float> alone(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& tokens) {
  Sequence seq(model, static_cast<int>(tokens.size()));
  const auto logits = seq.feed(tokens);
  return {logits.begin(), logits.end()};
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

class BatchForward : public ::testing::TestWithParam<TensorType> {
 protected:
  std::shared_ptr<const Model> model(int threads = 1) { return Model::load(testing::tiny_model(GetParam()), threads); }
};

TEST_P(BatchForward, SequencesAtDifferentPositionsGetTheirOwnLogits) {
  for (const int threads : {1, 2}) {
    const auto m = model(threads);
    const int vocab = m->hparams().vocab_size;
    // Three sequences with histories of 5, 23 and 40 tokens, then one step that feeds 1, 1 and 7 more.
    const std::vector<std::vector<int32_t>> history = {tokens_of(5, 1, vocab), tokens_of(23, 2, vocab), tokens_of(40, 3, vocab)};
    const std::vector<std::vector<int32_t>> next = {tokens_of(1, 4, vocab), tokens_of(1, 5, vocab), tokens_of(7, 6, vocab)};
    Batch batch(m, 256);
    std::vector<Batch::SeqId> ids;
    for (const auto& h : history) {
      ids.push_back(batch.add());
      const Batch::Item item{ids.back(), h, false};
      batch.step(std::span<const Batch::Item>(&item, 1));
    }
    std::vector<Batch::Item> items;
    for (size_t i = 0; i < ids.size(); ++i) items.push_back({ids[i], next[i], true});
    batch.step(items);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::vector<int32_t> all = history[i];
      all.insert(all.end(), next[i].begin(), next[i].end());
      EXPECT_EQ(copy(batch.logits(i)), alone(m, all)) << "sequence " << i << ", " << threads << " threads";
      EXPECT_EQ(batch.position(ids[i]), static_cast<int>(all.size()));
    }
  }
}

TEST_P(BatchForward, AForkedPrefixGivesTheLogitsOfARecomputedOne) {
  const auto m = model(2);
  const int vocab = m->hparams().vocab_size;
  const std::vector<int32_t> prefix = tokens_of(37, 9, vocab);   // two full blocks and a partial one
  Batch batch(m, 512);
  const Batch::SeqId parent = batch.add();
  const Batch::Item prefill{parent, prefix, false};
  batch.step(std::span<const Batch::Item>(&prefill, 1));
  const int free_after_prefill = batch.free_tokens();

  // Forks at the end (sharing the partial block), inside the partial block, and at a block boundary.
  const std::vector<int> lengths = {37, 35, 32, 37};
  std::vector<Batch::SeqId> forks;
  for (const int length : lengths) forks.push_back(batch.fork(parent, length));
  EXPECT_EQ(batch.free_tokens(), free_after_prefill) << "a fork copies nothing until it writes";

  std::vector<std::vector<int32_t>> suffixes;
  std::vector<Batch::Item> items;
  for (size_t i = 0; i < forks.size(); ++i) suffixes.push_back(tokens_of(1 + static_cast<int>(i) * 3, 20 + static_cast<int>(i), vocab));
  const std::vector<int32_t> parent_next = tokens_of(4, 30, vocab);
  for (size_t i = 0; i < forks.size(); ++i) items.push_back({forks[i], suffixes[i], true});
  items.push_back({parent, parent_next, true});
  batch.step(items);

  for (size_t i = 0; i < forks.size(); ++i) {
    std::vector<int32_t> all(prefix.begin(), prefix.begin() + lengths[i]);
    all.insert(all.end(), suffixes[i].begin(), suffixes[i].end());
    EXPECT_EQ(copy(batch.logits(i)), alone(m, all)) << "fork at " << lengths[i];
  }
  // The parent wrote into the block its forks share: each writer got its own copy first.
  std::vector<int32_t> parent_all = prefix;
  parent_all.insert(parent_all.end(), parent_next.begin(), parent_next.end());
  EXPECT_EQ(copy(batch.logits(forks.size())), alone(m, parent_all));

  for (const Batch::SeqId f : forks) batch.remove(f);
  batch.remove(parent);
  EXPECT_EQ(batch.free_tokens(), 512) << "every block returns once no sequence holds it";
}

TEST_P(BatchForward, RejectsBadStepsAndChangesNothing) {
  const auto m = model();
  const int vocab = m->hparams().vocab_size;
  Batch batch(m, 32);
  const Batch::SeqId a = batch.add();
  const std::vector<int32_t> ok = tokens_of(3, 1, vocab), bad = {1, vocab}, long_one = tokens_of(40, 2, vocab);
  const std::vector<Batch::Item> twice = {{a, ok, true}, {a, ok, true}};
  EXPECT_THROW(batch.step(twice), ModelError);
  const Batch::Item out_of_vocab{a, bad, true}, too_long{a, long_one, true}, unknown{a + 5, ok, true};
  EXPECT_THROW(batch.step(std::span<const Batch::Item>(&out_of_vocab, 1)), ModelError);
  EXPECT_THROW(batch.step(std::span<const Batch::Item>(&too_long, 1)), ModelError);
  EXPECT_THROW(batch.step(std::span<const Batch::Item>(&unknown, 1)), ModelError);
  EXPECT_THROW(batch.fork(a, 1), ModelError) << "position 0 has no first token to share";
  EXPECT_EQ(batch.position(a), 0);
  EXPECT_EQ(batch.free_tokens(), 32);
}

// Greedy and seeded sampling: N generations in one BatchGenerator against N generate() calls.
TEST_P(BatchForward, BatchedGenerationGivesTheTokensOfSingleRuns) {
  const auto m = model(2);
  const int vocab = m->hparams().vocab_size;
  std::vector<std::vector<int32_t>> prompts;
  const std::vector<int32_t> shared = tokens_of(40, 77, vocab);
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> p = i < 3 ? shared : std::vector<int32_t>{};   // three share a 40-token prefix
    const auto own = tokens_of(2 + i * 5, i, vocab);
    p.insert(p.end(), own.begin(), own.end());
    prompts.push_back(p);
  }
  std::vector<GenerateOptions> options(prompts.size());
  for (size_t i = 0; i < options.size(); ++i) {
    options[i].max_tokens = 12 + static_cast<int>(i) * 3;
    options[i].ignore_eos = true;
    options[i].sampling.temperature = i % 2 == 0 ? 0.0f : 0.9f;
    options[i].sampling.seed = 100 + i;
  }
  BatchGenerator generator(m, 1024, 4);   // 4 at a time: the last two join as others finish
  std::map<BatchGenerator::Id, size_t> which;
  for (size_t i = 0; i < prompts.size(); ++i) which[generator.add(prompts[i], options[i])] = i;
  std::map<size_t, Generation> batched;
  int steps = 0;
  while (!generator.idle()) {
    for (auto& f : generator.step()) batched[which[f.id]] = std::move(f.generation);
    ASSERT_LT(++steps, 1000);
  }
  ASSERT_EQ(batched.size(), prompts.size());
  EXPECT_GE(generator.shared_prompt_tokens(), 2 * 32) << "the shared prefix was forked, not prefilled again";
  for (size_t i = 0; i < prompts.size(); ++i) {
    Sequence seq(m, static_cast<int>(prompts[i].size()) + options[i].max_tokens);
    const Generation single = generate(seq, prompts[i], options[i]);
    EXPECT_EQ(batched[i].tokens, single.tokens) << "generation " << i;
    EXPECT_EQ(batched[i].text, single.text) << "generation " << i;
    EXPECT_EQ(batched[i].finish_reason, single.finish_reason) << "generation " << i;
    EXPECT_DOUBLE_EQ(batched[i].mean_logprob, single.mean_logprob) << "generation " << i;
  }
}

// A cancelled generation leaves at once, waiting or running, and its cache with it: one that waited
// for room joins at the next step. The others give the tokens they give alone.
TEST_P(BatchForward, ACancelledGenerationLeavesAndFreesItsCache) {
  const auto m = model();
  const int vocab = m->hparams().vocab_size;
  GenerateOptions options;
  options.max_tokens = 24;
  options.ignore_eos = true;
  // Budgets (prompt + max_tokens + a block): 60, 70 and 65 positions; 140 hold the first two only.
  BatchGenerator generator(m, 140, 3);
  const auto kept_prompt = tokens_of(20, 1, vocab);
  const auto kept = generator.add(kept_prompt, options);
  const auto running = generator.add(tokens_of(30, 2, vocab), options);
  const auto waiting = generator.add(tokens_of(25, 3, vocab), options);
  generator.step();
  generator.step();
  ASSERT_EQ(generator.running(), 2);
  ASSERT_EQ(generator.waiting(), 1);   // no room in the cache
  EXPECT_TRUE(generator.cancel(running));
  EXPECT_EQ(generator.running(), 1);
  EXPECT_FALSE(generator.cancel(running));   // already gone
  generator.step();
  EXPECT_EQ(generator.running(), 2) << "the cancelled generation's cache went to the waiting one";
  EXPECT_EQ(generator.waiting(), 0);
  EXPECT_TRUE(generator.cancel(waiting));
  std::map<BatchGenerator::Id, Generation> finished;
  for (int steps = 0; !generator.idle(); ++steps) {
    for (auto& f : generator.step()) finished[f.id] = std::move(f.generation);
    ASSERT_LT(steps, 100);
  }
  ASSERT_EQ(finished.size(), 1u);
  ASSERT_TRUE(finished.count(kept));
  Sequence seq(m, static_cast<int>(kept_prompt.size()) + options.max_tokens);
  EXPECT_EQ(finished[kept].tokens, generate(seq, kept_prompt, options).tokens);
  EXPECT_FALSE(generator.cancel(kept));   // finished: nothing to cancel
}

INSTANTIATE_TEST_SUITE_P(Types, BatchForward,
                         ::testing::Values(TensorType::f32, TensorType::f16, TensorType::q8_0, TensorType::q4_0),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

TEST(KvCache, ForksShareBlocksAndCopyOnlyTheBlockTheyWrite) {
  KvCache cache(2, 4, 8);
  KvCache::Table a;
  ASSERT_TRUE(cache.reserve(a, 20));   // 2 blocks
  a.length = 20;
  for (int p = 0; p < 20; ++p) cache.key(a, 1, p)[0] = static_cast<float>(p);
  EXPECT_EQ(cache.free_blocks(), 6);
  KvCache::Table b = cache.fork(a, 20);
  EXPECT_EQ(cache.free_blocks(), 6);
  EXPECT_EQ(cache.blocks_needed(b, 1), 1) << "the shared partial block must be copied";
  ASSERT_TRUE(cache.reserve(b, 1));
  EXPECT_NE(b.blocks[1], a.blocks[1]);
  EXPECT_EQ(b.blocks[0], a.blocks[0]) << "full blocks stay shared";
  EXPECT_EQ(cache.key(b, 1, 19)[0], 19.0f) << "the copy holds the shared positions";
  cache.key(b, 1, 20)[0] = -1;
  EXPECT_EQ(cache.blocks_needed(a, 1), 0) << "a's partial block is its own again";
  EXPECT_FALSE(cache.reserve(a, 200)) << "more than the free blocks";
  EXPECT_EQ(a.blocks.size(), 2u);
  cache.release(a);
  EXPECT_EQ(cache.free_blocks(), 6) << "block 0 is still b's";
  cache.release(b);
  EXPECT_EQ(cache.free_blocks(), 8);
}

TEST(Stories260KBatch, BatchedGreedyDecodingEqualsSingleRuns) {
  PICE_REQUIRE_SHARED(path, "models/stories260K.gguf");
  const auto model = Model::load(path, 2);
  const int32_t bos = model->tokenizer().bos();
  std::vector<std::vector<int32_t>> prompts;
  for (const char* text : {"Once upon a time", "The little dog", "Lily wanted to play", "One day, a big"})
    prompts.push_back(model->tokenizer().encode(text, true));
  ASSERT_EQ(prompts[0][0], bos);
  GenerateOptions options;
  options.max_tokens = 60;
  BatchGenerator generator(model, 2048, 8);
  std::map<BatchGenerator::Id, size_t> which;
  for (size_t i = 0; i < prompts.size(); ++i) which[generator.add(prompts[i], options)] = i;
  std::map<size_t, Generation> batched;
  while (!generator.idle())
    for (auto& f : generator.step()) batched[which[f.id]] = std::move(f.generation);
  for (size_t i = 0; i < prompts.size(); ++i) {
    Sequence seq(model, 256);
    EXPECT_EQ(batched[i].tokens, generate(seq, prompts[i], options).tokens) << i;
    EXPECT_FALSE(batched[i].tokens.empty());
  }
}

}  // namespace
}  // namespace pice::kernels
