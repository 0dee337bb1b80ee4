// generate(): EOS, ignore_eos, max_tokens, stop strings, the streaming callback, and timings.
#include <gtest/gtest.h>

#include "kernels/generate.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

const std::string kSpace = "\xe2\x96\x81";

// A model whose every layer adds nothing and whose output row for EOS is the strongest and for "▁the"
// the second strongest: greedy decoding says EOS at once, or "the the the ..." with EOS masked.
const std::filesystem::path& eos_model() {
  static testing::TempDir dir;
  static const std::filesystem::path path = [] {
    const Vocab vocab = synth_vocab(synth_base_vocab_size());
    const auto the = static_cast<uint64_t>(std::find(vocab.pieces.begin(), vocab.pieces.end(), kSpace + "the") - vocab.pieces.begin());
    testing::TestModelSpec spec;
    spec.tied = false;
    spec.fill = [the, eos = static_cast<uint64_t>(vocab.eos)](const std::string& name, uint64_t row, std::span<float> out) {
      float value = 0.0f;
      if (name == "token_embd.weight" || name.find("norm") != std::string::npos) value = 0.5f;
      if (name == "output.weight") value = row == eos ? 1.0f : row == the ? 0.5f : 0.0f;
      std::fill(out.begin(), out.end(), value);
    };
    const std::filesystem::path p = dir / "eos.gguf";
    testing::write_test_model(p, spec);
    return p;
  }();
  return path;
}

struct Outcome {
  Generation g;
  std::string streamed;
  int calls = 0;
  Sequence seq;
};

Outcome run(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& prompt, const GenerateOptions& options,
        int stop_after_calls = -1) {
  Outcome r{{}, {}, 0, Sequence(model, std::min(256, model->hparams().context_length))};
  r.g = generate(r.seq, prompt, options, [&](int32_t, std::string_view piece) {
    r.streamed += piece;
    return ++r.calls != stop_after_calls;
  });
  return r;
}

TEST(Generate, StopsAtEos) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 10;
  const Outcome r = run(model, {1}, options);
  EXPECT_EQ(r.g.finish_reason, "eos");
  EXPECT_TRUE(r.g.tokens.empty());
  EXPECT_EQ(r.g.text, "");
  EXPECT_EQ(r.g.mean_logprob, 0.0);
  EXPECT_EQ(r.g.prompt_tokens, 1);
}

TEST(Generate, IgnoreEosMasksItAndRunsToMaxTokens) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 5;
  options.ignore_eos = true;
  const Outcome r = run(model, {1}, options);
  EXPECT_EQ(r.g.finish_reason, "length");
  ASSERT_EQ(r.g.tokens.size(), 5u);
  EXPECT_EQ(r.g.text, "the the the the the");   // the first word loses SPM's space, as in decode()
  EXPECT_EQ(r.streamed, r.g.text);
  // The log-probability is the model's own, EOS included in the distribution: below log(1/2).
  EXPECT_LT(r.g.mean_logprob, std::log(0.5));
  EXPECT_EQ(r.seq.position(), 1 + 5 - 1);   // the last token is not fed back
}

TEST(Generate, ContinuationAfterTextKeepsItsSpace) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 2;
  options.ignore_eos = true;
  const Outcome r = run(model, model->tokenizer().encode("Once", true), options);
  EXPECT_EQ(r.g.text, " the the");
}

TEST(Generate, StopStringsTruncateTheText) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 20;
  options.ignore_eos = true;
  options.stop = {"e th", "zzz"};
  const Outcome r = run(model, {1}, options);
  EXPECT_EQ(r.g.finish_reason, "stop");
  EXPECT_EQ(r.g.text, "th");
  EXPECT_EQ(r.streamed, "th");   // "the" was held back: it could have been the start of "e th"
  EXPECT_EQ(r.g.tokens.size(), 2u);
}

TEST(Generate, MinTokensHoldsOffEosAndStopStrings) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 10;
  options.min_tokens = 3;
  options.stop = {"the"};  // present from the first token on: ignored until three tokens exist
  const Outcome r = run(model, {1}, options);
  // Tokens 1-3 cannot be EOS and cannot stop; the stop string found after them ends generation at
  // its first occurrence in the newer text, and EOS would come next anyway.
  EXPECT_EQ(r.g.tokens.size(), 3u);
  EXPECT_EQ(r.g.finish_reason, "stop");
  options.stop.clear();
  const Outcome plain = run(model, {1}, options);
  EXPECT_EQ(plain.g.finish_reason, "eos");
  EXPECT_EQ(plain.g.tokens.size(), 3u);  // EOS is the model's first choice as soon as it is allowed
  EXPECT_EQ(plain.g.text, "the the the");
}

TEST(Generate, MaxTokensZeroOnlyPrefills) {
  const auto model = Model::load(eos_model());
  GenerateOptions options;
  options.max_tokens = 0;
  const Outcome r = run(model, {1, 5, 6}, options);
  EXPECT_EQ(r.g.finish_reason, "length");
  EXPECT_TRUE(r.g.tokens.empty());
  EXPECT_EQ(r.seq.position(), 3);
}

// On the synthetic tiny model (varied text): stop strings cut at their first occurrence, wherever a
// token boundary falls, and the streamed pieces always add up to the text.
TEST(Generate, StopStringsOnVariedText) {
  const auto model = Model::load(testing::tiny_model());
  GenerateOptions options;
  options.max_tokens = 40;
  options.ignore_eos = true;
  options.sampling = {.temperature = 0.9f, .top_p = 0.95f, .top_k = 0, .seed = 17};
  const Outcome full = run(model, {1}, options);
  ASSERT_EQ(full.g.tokens.size(), 40u);
  ASSERT_EQ(full.streamed, full.g.text);
  ASSERT_GT(full.g.text.size(), 40u);
  for (const size_t at : {size_t{3}, full.g.text.size() / 3, full.g.text.size() / 2, full.g.text.size() - 4}) {
    for (const size_t len : {size_t{1}, size_t{3}}) {
      GenerateOptions stopping = options;
      const std::string stop = full.g.text.substr(at, len);
      stopping.stop = {stop};
      const Outcome r = run(model, {1}, stopping);
      const size_t first = full.g.text.find(stop);
      EXPECT_EQ(r.g.text, full.g.text.substr(0, first)) << "stop '" << stop << "'";
      EXPECT_EQ(r.g.finish_reason, "stop");
      EXPECT_EQ(r.streamed, r.g.text) << "stop '" << stop << "'";
      EXPECT_LE(r.g.tokens.size(), full.g.tokens.size());
    }
  }
}

TEST(Generate, SameSeedSameTextAndCallbackCanStop) {
  const auto model = Model::load(testing::tiny_model());
  GenerateOptions options;
  options.max_tokens = 30;
  options.ignore_eos = true;
  options.sampling = {.temperature = 0.8f, .top_p = 0.9f, .top_k = 50, .seed = 3};
  const Outcome a = run(model, {1, 400, 401}, options), b = run(model, {1, 400, 401}, options);
  EXPECT_EQ(a.g.tokens, b.g.tokens);
  EXPECT_EQ(a.g.text, b.g.text);
  EXPECT_EQ(a.g.finish_reason, "length");
  EXPECT_GE(a.g.prefill_ms, 0.0);
  EXPECT_GT(a.g.decode_ms, 0.0);

  const Outcome stopped = run(model, {1, 400, 401}, options, 4);
  EXPECT_EQ(stopped.g.finish_reason, "stop");
  EXPECT_EQ(stopped.g.tokens.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(a.g.tokens.begin(), a.g.tokens.begin() + 4), stopped.g.tokens);
}

TEST(Generate, EndsWhenTheSequenceIsFull) {
  const auto model = Model::load(testing::tiny_model());
  Sequence seq(model, 10);
  GenerateOptions options;
  options.max_tokens = 50;
  options.ignore_eos = true;
  const std::vector<int32_t> prompt{1, 2, 3, 4};
  const Generation g = generate(seq, prompt, options);
  EXPECT_EQ(g.finish_reason, "length");
  EXPECT_EQ(g.tokens.size(), 7u);   // 6 fed after the prompt fill the cache, and one more is sampled
  EXPECT_EQ(seq.position(), 10);
}

}  // namespace
}  // namespace pice::kernels
