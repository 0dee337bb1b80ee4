// The bounded KV-cache policy (KvPolicy: a recent window plus the earlier positions attention used
// most): off it changes nothing, on it holds each sequence to window + keep positions after every step,
// generation runs on in a cache smaller than the sequence, and forks of cut-back sequences stay exact.
// (forward_test checks the arithmetic against a sliding-window reference.)
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/batch.hpp"
#include "kernels/generate.hpp"
#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

std::shared_ptr<const Model> model_with(KvPolicy policy) {
  ModelOptions options;
  options.kv = policy;
  return Model::load(testing::tiny_model(), options);
}

std::vector<int32_t> prompt_of(int n, int vocab) {
  std::vector<int32_t> tokens{1};
  for (int i = 1; i < n; ++i) tokens.push_back((i * 131 + 7) % vocab);
  return tokens;
}

// Greedy decoding from a prompt, recording every step's logits.
std::vector<std::vector<float>> greedy_logits(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& prompt,
                                              int steps, int capacity, std::vector<int>* cached = nullptr) {
  Sequence seq(model, capacity);
  std::vector<std::vector<float>> out;
  std::span<const float> logits = seq.feed(prompt);
  for (int i = 0; i < steps; ++i) {
    out.emplace_back(logits.begin(), logits.end());
    if (cached != nullptr) cached->push_back(seq.cached());
    const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    logits = seq.feed(std::span<const int32_t>(&next, 1));
  }
  return out;
}

TEST(KvWindow, PolicyIsCheckedAtLoad) {
  ModelOptions options;
  options.kv = {0, 16};
  try {
    Model::load(testing::tiny_model(), options);
    ADD_FAILURE() << "accepted kv_keep without a window";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("kv_keep = 16 needs a kv_window above 0"), std::string::npos) << e.what();
  }
  options.kv = {-1, 0};
  EXPECT_THROW(Model::load(testing::tiny_model(), options), ModelError);
}

TEST(KvWindow, AWindowLargerThanTheSequenceChangesNothing) {
  const auto unbounded = Model::load(testing::tiny_model());
  const auto bounded = model_with({200, 50});
  const std::vector<int32_t> prompt = prompt_of(40, unbounded->hparams().vocab_size);
  std::vector<int> cached;
  const auto want = greedy_logits(unbounded, prompt, 60, 128);
  const auto got = greedy_logits(bounded, prompt, 60, 128, &cached);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(want[i], got[i]) << "step " << i;   // bit for bit
  EXPECT_EQ(cached.back(), 40 + 59);
}

TEST(KvWindow, ASmallWindowHoldsAtMostWindowPlusKeepAndRunsPastTheCacheSize) {
  const KvPolicy policy{24, 8};
  const auto model = model_with(policy);
  const auto unbounded = Model::load(testing::tiny_model());
  const std::vector<int32_t> prompt = prompt_of(20, model->hparams().vocab_size);
  // A cache of 64 positions: unbounded, 20 + 150 tokens could never fit.
  std::vector<int> cached;
  const auto logits = greedy_logits(model, prompt, 150, 64, &cached);
  ASSERT_EQ(logits.size(), 150u);
  for (size_t i = 0; i < cached.size(); ++i) ASSERT_LE(cached[i], policy.capacity()) << "step " << i;
  EXPECT_EQ(cached.back(), policy.capacity());
  for (const auto& step : logits)
    for (const float l : step) ASSERT_TRUE(std::isfinite(l));
  EXPECT_THROW(greedy_logits(unbounded, prompt, 150, 64), ModelError);
  // Until the first cut (after the prompt's step) the bounded run saw exactly what the unbounded one did.
  const auto reference = greedy_logits(unbounded, prompt, 1, 64);
  EXPECT_EQ(reference[0], logits[0]);
}

TEST(KvWindow, KeptPositionsMakeADifference) {
  // With keep, some of the older positions stay: the logits differ from a plain sliding window.
  const std::vector<int32_t> prompt = prompt_of(30, synth_base_vocab_size());
  const auto window_only = greedy_logits(model_with({16, 0}), prompt, 40, 128);
  const auto with_keep = greedy_logits(model_with({16, 16}), prompt, 40, 128);
  EXPECT_NE(window_only.back(), with_keep.back());
}

TEST(KvWindow, ABatchCutsEachSequenceAndFreesItsBlocks) {
  const KvPolicy policy{32, 16};
  const auto model = model_with(policy);
  Batch batch(model, 4 * 128);
  const std::vector<int32_t> prompt = prompt_of(100, model->hparams().vocab_size);
  const Batch::SeqId a = batch.add();
  const Batch::Item item{a, prompt, true};
  batch.step(std::span<const Batch::Item>(&item, 1));
  EXPECT_EQ(batch.position(a), 100);
  EXPECT_EQ(batch.cached(a), 48);
  // The prompt's step was whole; the cut happened after it: 52 positions evicted, the first one
  // among them ends the intact prefix.
  EXPECT_LT(batch.intact_length(a), 100);
  EXPECT_EQ(batch.free_tokens(), 4 * 128 - 48);

  // A full fork shares the cut-back cache and continues exactly as its parent.
  const Batch::SeqId b = batch.fork(a);
  EXPECT_EQ(batch.position(b), 100);
  EXPECT_EQ(batch.cached(b), 48);
  EXPECT_THROW(batch.fork(a, 99), ModelError);   // past the intact prefix: evicted positions are gone
  const Batch::SeqId c = batch.fork(a, batch.intact_length(a));
  EXPECT_EQ(batch.position(c), batch.intact_length(a));
  const int32_t next = 300;
  const std::vector<Batch::Item> both{{a, std::span<const int32_t>(&next, 1), true}, {b, std::span<const int32_t>(&next, 1), true}};
  batch.step(both);
  const std::vector<float> la(batch.logits(0).begin(), batch.logits(0).end());
  const std::vector<float> lb(batch.logits(1).begin(), batch.logits(1).end());
  EXPECT_EQ(la, lb);
  EXPECT_EQ(batch.cached(a), 48);
  EXPECT_EQ(batch.cached(b), 48);
}

TEST(KvWindow, GenerateRunsToTheContextLengthUnderABound) {
  const auto model = model_with({16, 8});
  Sequence seq(model, 32);
  GenerateOptions options;
  options.max_tokens = 100;
  options.ignore_eos = true;
  const Generation g = generate(seq, prompt_of(10, model->hparams().vocab_size), options);
  EXPECT_EQ(g.tokens.size(), 100u);
  EXPECT_LE(seq.cached(), 24);
}

}  // namespace
}  // namespace pice::kernels
