// stories260K (real trained weights) against the llama2.c reference run: greedy token ids, text and
// logits. This pins the conventions a random-weight model cannot: RoPE pairing, Q/K layout, GQA.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/common/shared_data.hpp"
#include "kernels/generate.hpp"
#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

constexpr int kSteps = 200;

std::vector<int32_t> greedy_from_bos(const std::shared_ptr<const Model>& model, int steps,
                                     std::vector<std::vector<float>>* logits = nullptr, int keep_logits = 0) {
  Sequence seq(model, steps);
  std::vector<int32_t> out;
  int32_t token = model->tokenizer().bos();
  for (int i = 0; i < steps; ++i) {
    const std::span<const float> l = seq.feed(std::span<const int32_t>(&token, 1));
    if (logits != nullptr && i < keep_logits) logits->emplace_back(l.begin(), l.end());
    token = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    out.push_back(token);
  }
  return out;
}

std::vector<int32_t> read_ids(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<int32_t> ids;
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

TEST(Stories260K, LoadsWithTheExpectedShape) {
  PICE_REQUIRE_SHARED(path, "models/stories260K.gguf");
  const auto model = Model::load(path);
  const HParams& hp = model->hparams();
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_EQ(hp.dim, 64);
  EXPECT_EQ(hp.n_layers, 5);
  EXPECT_EQ(hp.n_heads, 8);
  EXPECT_EQ(hp.n_kv_heads, 4);
  EXPECT_EQ(hp.ffn_dim, 172);
  EXPECT_EQ(hp.vocab_size, 512);
  EXPECT_EQ(hp.context_length, 2048);
  EXPECT_FLOAT_EQ(hp.rms_eps, 1e-5f);
  EXPECT_FLOAT_EQ(hp.rope_theta, 10000.0f);
  EXPECT_FALSE(model->tied_embeddings());
  EXPECT_EQ(model->name(), "llama");
}

TEST(Stories260K, GreedyIdsMatchTheReference) {
  PICE_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  PICE_REQUIRE_SHARED(ids_path, "models/stories260K.greedy200.ids.txt");
  const std::vector<int32_t> expected = read_ids(ids_path);
  ASSERT_EQ(expected.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(greedy_from_bos(Model::load(model_path), kSteps), expected);
}

TEST(Stories260K, GreedyTextMatchesTheReference) {
  PICE_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  PICE_REQUIRE_SHARED(text_path, "models/stories260K.greedy200.txt");
  const auto model = Model::load(model_path);
  const std::string expected = testing::read_bytes(text_path);
  EXPECT_EQ(model->tokenizer().decode(greedy_from_bos(model, kSteps)), expected);

  // The same run through generate(): its text is the continuation of a BOS-only prompt.
  Sequence seq(model, kSteps + 1);
  const int32_t bos = model->tokenizer().bos();
  GenerateOptions options;
  options.max_tokens = kSteps;
  std::string streamed;
  const Generation g = generate(seq, std::span<const int32_t>(&bos, 1), options, [&](int32_t, std::string_view piece) {
    streamed += piece;
    return true;
  });
  EXPECT_EQ(g.text, expected);
  EXPECT_EQ(streamed, expected);
  EXPECT_EQ(g.finish_reason, "length");
  EXPECT_EQ(g.tokens.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(g.prompt_tokens, 1);
  EXPECT_LT(g.mean_logprob, 0.0);
  EXPECT_GT(g.mean_logprob, -3.0);   // a trained model is confident about its own greedy choices
}

TEST(Stories260K, LogitsMatchTheReference) {
  PICE_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  PICE_REQUIRE_SHARED(logits_path, "models/stories260K.greedy16.logits.f32");
  const std::string bytes = testing::read_bytes(logits_path);
  constexpr int kPositions = 16, kVocab = 512;
  ASSERT_EQ(bytes.size(), sizeof(float) * kPositions * kVocab);
  std::vector<float> expected(kPositions * kVocab);
  std::memcpy(expected.data(), bytes.data(), bytes.size());

  std::vector<std::vector<float>> logits;
  greedy_from_bos(Model::load(model_path), kPositions, &logits, kPositions);
  ASSERT_EQ(logits.size(), static_cast<size_t>(kPositions));
  for (int p = 0; p < kPositions; ++p)
    for (int v = 0; v < kVocab; ++v)
      ASSERT_NEAR(logits[static_cast<size_t>(p)][static_cast<size_t>(v)], expected[static_cast<size_t>(p * kVocab + v)], 1e-4)
          << "position " << p << ", token " << v;
}

// Feeding the whole prefix at once must give the logits of feeding it token by token.
TEST(Stories260K, BatchedPrefillMatchesStepByStep) {
  PICE_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  const auto model = Model::load(model_path);
  std::vector<int32_t> tokens{model->tokenizer().bos()};
  const std::vector<int32_t> greedy = greedy_from_bos(model, 70);
  tokens.insert(tokens.end(), greedy.begin(), greedy.end() - 1);   // 70 tokens: crosses batch chunks
  Sequence step(model, 100), batch(model, 100);
  std::span<const float> stepped;
  for (const int32_t t : tokens) stepped = step.feed(std::span<const int32_t>(&t, 1));
  const std::span<const float> batched = batch.feed(tokens);
  ASSERT_EQ(batch.position(), 70);
  for (size_t v = 0; v < batched.size(); ++v) ASSERT_NEAR(batched[v], stepped[v], 1e-4) << v;
}

}  // namespace
}  // namespace pice::kernels
