// The forward pass against a plain reference written here with naive loops in double precision,
// on synthetic models, token by token and in batches that cross chunk boundaries: F32 and F16, and
// models of each quantized type against the same reference on their dequantized weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/model.hpp"
#include "kernels/quant.hpp"
#include "kernels/sequence.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

using Vec = std::vector<double>;

// The model's weights widened to double, read straight from the GGUF (not through Model). Qwen2 as
// its published definition: biases on q, k and v, rope over the two halves of each head.
struct Reference {
  explicit Reference(const std::filesystem::path& path) : file(GgufFile::open(path)) {
    arch = file.get_string("general.architecture");
    const std::string p = arch + ".";
    dim = static_cast<int>(file.get_int(p + "embedding_length"));
    layers = static_cast<int>(file.get_int(p + "block_count"));
    heads = static_cast<int>(file.get_int(p + "attention.head_count"));
    kv_heads = static_cast<int>(file.get_int(p + "attention.head_count_kv"));
    ffn = static_cast<int>(file.get_int(p + "feed_forward_length"));
    eps = file.get_float(p + "attention.layer_norm_rms_epsilon");
    theta = file.get_float_or(p + "rope.freq_base", 10000.0);
    head_dim = dim / heads;
    if (file.find_tensor("rope_freqs.weight") != nullptr) freq_factors = weights("rope_freqs.weight");
    key_cache.resize(static_cast<size_t>(layers));
    value_cache.resize(static_cast<size_t>(layers));
  }

  Vec weights(const std::string& name) const {
    const TensorInfo* t = file.find_tensor(name);
    if (t == nullptr) throw std::runtime_error("missing " + name);
    // Row by row through the reference dequantization (quant_layout_test pins it to known bytes).
    const int cols = static_cast<int>(t->dims[0]);
    const size_t rows = t->elements() / static_cast<size_t>(cols), stride = row_bytes(t->type, cols);
    std::vector<float> row(static_cast<size_t>(cols));
    Vec out;
    out.reserve(t->elements());
    for (size_t r = 0; r < rows; ++r) {
      dequantize_row(t->type, file.tensor_data(*t) + r * stride, row.data(), cols);
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  }

  // y = W x for W stored as rows of x.size() values.
  static Vec apply(const Vec& w, const Vec& x) {
    Vec y(w.size() / x.size(), 0.0);
    for (size_t r = 0; r < y.size(); ++r)
      for (size_t c = 0; c < x.size(); ++c) y[r] += w[r * x.size() + c] * x[c];
    return y;
  }

  Vec norm(const Vec& x, const std::string& weight) const {
    const Vec w = weights(weight);
    double ss = 0;
    for (const double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
    return y;
  }

  // Rotates pair i of every head by pos * theta^(-2i/head_dim) / factor[i]: Llama's pairs are the
  // adjacent (2i, 2i+1), Qwen2's (i, i + head_dim/2).
  void rope(Vec& v, int pos) const {
    const bool halves = arch == "qwen2";
    for (size_t h = 0; h < v.size() / static_cast<size_t>(head_dim); ++h)
      for (int i = 0; i < head_dim / 2; ++i) {
        const double factor = freq_factors.empty() ? 1.0 : freq_factors[static_cast<size_t>(i)];
        const double angle = pos * std::pow(theta, -2.0 * i / head_dim) / factor;
        const size_t first = static_cast<size_t>(halves ? i : 2 * i), second = static_cast<size_t>(halves ? i + head_dim / 2 : 2 * i + 1);
        double& a = v[h * static_cast<size_t>(head_dim) + first];
        double& b = v[h * static_cast<size_t>(head_dim) + second];
        const double a0 = a, b0 = b;
        a = a0 * std::cos(angle) - b0 * std::sin(angle);
        b = a0 * std::sin(angle) + b0 * std::cos(angle);
      }
  }

  void add_bias(Vec& x, const std::string& name) const {
    if (file.find_tensor(name) == nullptr) return;
    const Vec bias = weights(name);
    for (size_t i = 0; i < x.size(); ++i) x[i] += bias[i];
  }

  // Logits after feeding `token` at the next position.
  Vec step(int32_t token) {
    const int pos = position++;
    const Vec embedding = weights("token_embd.weight");
    Vec x(embedding.begin() + static_cast<long>(token) * dim, embedding.begin() + static_cast<long>(token + 1) * dim);
    for (int l = 0; l < layers; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      const Vec xn = norm(x, b + "attn_norm.weight");
      Vec q = apply(weights(b + "attn_q.weight"), xn), k = apply(weights(b + "attn_k.weight"), xn);
      Vec v = apply(weights(b + "attn_v.weight"), xn);
      add_bias(q, b + "attn_q.bias");
      add_bias(k, b + "attn_k.bias");
      add_bias(v, b + "attn_v.bias");
      rope(q, pos);
      rope(k, pos);
      key_cache[static_cast<size_t>(l)].push_back(k);
      value_cache[static_cast<size_t>(l)].push_back(v);
      Vec attended(static_cast<size_t>(dim), 0.0);
      for (int h = 0; h < heads; ++h) {
        const int kv_head = h * kv_heads / heads;
        Vec scores;
        const int first = window > 0 ? std::max(0, pos - window) : 0;
        for (int p = first; p <= pos; ++p) {
          double s = 0;
          for (int i = 0; i < head_dim; ++i)
            s += q[static_cast<size_t>(h * head_dim + i)] * key_cache[static_cast<size_t>(l)][static_cast<size_t>(p)][static_cast<size_t>(kv_head * head_dim + i)];
          scores.push_back(s / std::sqrt(static_cast<double>(head_dim)));
        }
        const double max = *std::max_element(scores.begin(), scores.end());
        double total = 0;
        for (double& s : scores) total += (s = std::exp(s - max));
        for (int p = first; p <= pos; ++p)
          for (int i = 0; i < head_dim; ++i)
            attended[static_cast<size_t>(h * head_dim + i)] += scores[static_cast<size_t>(p - first)] / total *
                value_cache[static_cast<size_t>(l)][static_cast<size_t>(p)][static_cast<size_t>(kv_head * head_dim + i)];
      }
      const Vec o = apply(weights(b + "attn_output.weight"), attended);
      for (int i = 0; i < dim; ++i) x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
      const Vec xf = norm(x, b + "ffn_norm.weight");
      const Vec gate = apply(weights(b + "ffn_gate.weight"), xf), up = apply(weights(b + "ffn_up.weight"), xf);
      Vec hidden(gate.size());
      for (size_t i = 0; i < gate.size(); ++i) hidden[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      const Vec down = apply(weights(b + "ffn_down.weight"), hidden);
      for (int i = 0; i < dim; ++i) x[static_cast<size_t>(i)] += down[static_cast<size_t>(i)];
    }
    const bool tied = file.find_tensor("output.weight") == nullptr;
    return apply(weights(tied ? "token_embd.weight" : "output.weight"), norm(x, "output_norm.weight"));
  }

  GgufFile file;
  std::string arch;
  Vec freq_factors;   // empty: none
  int window = 0;     // > 0: a token attends only to itself and the `window` positions before it
  int dim, layers, heads, kv_heads, ffn, head_dim, position = 0;
  double eps, theta;
  std::vector<std::vector<Vec>> key_cache, value_cache;
};

std::vector<int32_t> some_tokens(int n, int vocab) {
  std::vector<int32_t> tokens{1};
  for (int i = 1; i < n; ++i) tokens.push_back((i * 7919 + 13) % vocab);
  return tokens;
}

void expect_logits_near(std::span<const float> got, const Vec& expected, const std::string& where) {
  ASSERT_EQ(got.size(), expected.size()) << where;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - expected[i]));
  EXPECT_LT(worst, 2e-4) << where;
}

class ForwardTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(ForwardTest, TokenByTokenMatchesTheReference) {
  const std::filesystem::path path = testing::tiny_model(GetParam());
  const auto model = Model::load(path);
  Reference ref(path);
  Sequence seq(model, 64);
  for (const int32_t token : some_tokens(12, model->hparams().vocab_size)) {
    const std::span<const float> logits = seq.feed(std::span<const int32_t>(&token, 1));
    expect_logits_near(logits, ref.step(token), "position " + std::to_string(seq.position() - 1));
  }
}

TEST_P(ForwardTest, BatchesMatchTheReferenceAcrossChunkBoundaries) {
  const std::filesystem::path path = testing::tiny_model(GetParam());
  const auto model = Model::load(path);
  const std::vector<int32_t> tokens = some_tokens(75, model->hparams().vocab_size);
  Reference ref(path);
  Vec expected;
  for (size_t i = 0; i < 70; ++i) expected = ref.step(tokens[i]);
  Sequence seq(model, 100);
  expect_logits_near(seq.feed(std::span<const int32_t>(tokens.data(), 70)), expected, "after a prefill of 70");
  EXPECT_EQ(seq.position(), 70);
  for (size_t i = 70; i < 72; ++i) expected = ref.step(tokens[i]);
  expect_logits_near(seq.feed(std::span<const int32_t>(tokens.data() + 70, 2)), expected, "after 2 more");
  for (size_t i = 72; i < 75; ++i)
    expect_logits_near(seq.feed(std::span<const int32_t>(&tokens[i], 1)), ref.step(tokens[i]), "decode");
}

INSTANTIATE_TEST_SUITE_P(Types, ForwardTest, ::testing::Values(TensorType::f32, TensorType::f16),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

// A model whose matrices (token embedding included) are all of one type, with rows of 256 so that
// every type, k-quants included, applies to every matrix.
std::filesystem::path quantized_model(const testing::TempDir& dir, TensorType type, bool tied = true) {
  testing::TestModelSpec spec;
  spec.dim = 256;
  spec.ffn_dim = 512;
  spec.n_heads = 4;
  spec.n_kv_heads = 2;
  spec.n_layers = 2;
  spec.context_length = 128;
  spec.type = type;
  spec.tied = tied;
  // Independent pseudo-random weights, uniform with standard deviation 0.05 (periodic ones make
  // correlated hidden states with outliers that no real model has).
  spec.fill = [](const std::string& name, uint64_t row, std::span<float> out) {
    uint64_t state = std::hash<std::string>{}(name) ^ (row * 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < out.size(); ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const float u = static_cast<float>(state >> 40) * 0x1.0p-24f * 2 - 1;   // [-1, 1)
      out[i] = name.find("norm") != std::string::npos ? 1.0f + 0.1f * u : 0.0866f * u;
    }
  };
  const std::filesystem::path path = dir / (std::string(tensor_type_name(type)) + (tied ? "" : "-untied") + ".gguf");
  testing::write_test_model(path, spec);
  return path;
}

// Largest |logit - reference| allowed, as a fraction of the largest |reference logit|. The reference
// uses the same (dequantized) weights, so what remains is float arithmetic for BF16, and for the block
// types the engine's 8-bit rounding of the activations (as llama.cpp's): each matmul input is off by
// up to amax / 254 of its block, about 0.6% RMS, compounded over the layers. Measured worst cases:
// 1.8-2.4% (blocks of 32), 2.7-3.5% (blocks of 256). A layout or indexing mistake is off by ~100%.
double relative_tolerance(TensorType type) {
  switch (type) {
    case TensorType::bf16: return 5e-5;
    case TensorType::q8_0: case TensorType::q4_0: return 0.04;
    case TensorType::q4_k: case TensorType::q6_k: return 0.06;
    default: return 0;
  }
}

class QuantizedForwardTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantizedForwardTest, MatchesTheReferenceOnDequantizedWeights) {
  testing::TempDir dir;
  for (const bool tied : {true, false}) {
    const std::filesystem::path path = quantized_model(dir, GetParam(), tied);
    const auto model = Model::load(path);
    Reference ref(path);
    Sequence seq(model, 40);
    const std::vector<int32_t> tokens = some_tokens(36, model->hparams().vocab_size);
    Vec expected;
    for (size_t i = 0; i < 33; ++i) expected = ref.step(tokens[i]);
    const std::span<const float> prefill = seq.feed(std::span<const int32_t>(tokens.data(), 33));   // crosses a chunk
    auto check = [&](std::span<const float> got, const Vec& want, const std::string& where) {
      double worst = 0, scale = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        worst = std::max(worst, std::fabs(got[i] - want[i]));
        scale = std::max(scale, std::fabs(want[i]));
      }
      EXPECT_LE(worst, relative_tolerance(GetParam()) * scale) << where << (tied ? " (tied)" : " (untied)");
      EXPECT_GT(scale, 0.1) << "logits too small to be a test";
    };
    check(prefill, expected, "after a prefill of 33");
    for (size_t i = 33; i < tokens.size(); ++i)
      check(seq.feed(std::span<const int32_t>(&tokens[i], 1)), ref.step(tokens[i]), "decode " + std::to_string(i));
    EXPECT_EQ(model->token_embedding().type, GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizedForwardTest,
                         ::testing::Values(TensorType::bf16, TensorType::q8_0, TensorType::q4_0, TensorType::q4_k,
                                           TensorType::q6_k),
                         [](const auto& info) { return std::string(tensor_type_name(info.param)); });

TEST(Forward, UntiedOutputAndMoreHeads) {
  testing::TempDir dir;
  testing::TestModelSpec spec;
  spec.dim = 48;
  spec.n_heads = 6;
  spec.n_kv_heads = 2;
  spec.n_layers = 2;
  spec.tied = false;
  spec.fill = [](const std::string& name, uint64_t row, std::span<float> out) {
    const uint64_t salt = std::hash<std::string>{}(name);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = name.find("norm") != std::string::npos
                   ? 1.0f + 0.1f * static_cast<float>((row + i) % 3)
                   : 0.05f * std::sin(static_cast<float>(salt % 1000 + row * 31 + i * 7));
  };
  testing::write_test_model(dir / "m.gguf", spec);
  const auto model = Model::load(dir / "m.gguf");
  EXPECT_FALSE(model->tied_embeddings());
  Reference ref(dir / "m.gguf");
  Sequence seq(model, 16);
  for (const int32_t token : some_tokens(6, model->hparams().vocab_size))
    expect_logits_near(seq.feed(std::span<const int32_t>(&token, 1)), ref.step(token), "untied");
}

// Qwen2: the synth model's random biases and rotate-halves rope, token by token and in a prefill.
TEST(Forward, Qwen2MatchesTheReference) {
  testing::TempDir dir;
  for (const TensorType type : {TensorType::f32, TensorType::f16}) {
    const std::filesystem::path path = dir / (std::string(tensor_type_name(type)) + ".gguf");
    write_synth_model(path, synth_shape("tiny-qwen2"), type, 3);
    const auto model = Model::load(path);
    ASSERT_EQ(model->hparams().arch, "qwen2");
    EXPECT_EQ(model->hparams().rope_style, RopeStyle::neox);
    ASSERT_EQ(model->layer(0).bk.size(), static_cast<size_t>(model->kv_dim()));
    const std::vector<int32_t> tokens = some_tokens(20, model->hparams().vocab_size);
    Reference ref(path);
    Vec expected;
    for (size_t i = 0; i < 17; ++i) expected = ref.step(tokens[i]);
    Sequence seq(model, 32);
    expect_logits_near(seq.feed(std::span<const int32_t>(tokens.data(), 17)), expected, "qwen2 prefill");
    for (size_t i = 17; i < tokens.size(); ++i)
      expect_logits_near(seq.feed(std::span<const int32_t>(&tokens[i], 1)), ref.step(tokens[i]), "qwen2 decode");
  }
}

// The reference itself is only as good as its Qwen2 parts: they must make a difference to the logits
// here, or the test above would pass with biases ignored or the wrong rope pairs.
TEST(Forward, Qwen2BiasesAndRopeStyleChangeTheLogits) {
  testing::TempDir dir;
  testing::TestModelSpec spec;
  spec.dim = 32;
  spec.n_heads = 2;
  spec.n_kv_heads = 1;
  spec.fill = [](const std::string& name, uint64_t row, std::span<float> out) {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = name.find("norm") != std::string::npos ? 1.0f : 0.2f * std::sin(static_cast<float>(row * 13 + i * 5 + name.size()));
  };
  const std::vector<int32_t> tokens{1, 40, 50, 60};
  auto last_logits = [&](const std::string& arch, bool bias) {
    spec.arch = arch;
    spec.qkv_bias = bias;
    const std::filesystem::path path = dir / (arch + (bias ? "-bias" : "") + ".gguf");
    testing::write_test_model(path, spec);
    Sequence seq(Model::load(path), 8);
    const std::span<const float> logits = seq.feed(tokens);
    Reference ref(path);
    Vec expected;
    for (const int32_t t : tokens) expected = ref.step(t);
    expect_logits_near(logits, expected, arch + (bias ? " with biases" : ""));
    return std::vector<float>(logits.begin(), logits.end());
  };
  const std::vector<float> llama = last_logits("llama", false), qwen2 = last_logits("qwen2", false),
                           qwen2_bias = last_logits("qwen2", true), llama_bias = last_logits("llama", true);
  auto differ = [](const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
    return worst > 1e-3;
  };
  EXPECT_TRUE(differ(llama, qwen2)) << "rope style made no difference";
  EXPECT_TRUE(differ(qwen2, qwen2_bias)) << "biases made no difference";
  EXPECT_TRUE(differ(llama_bias, qwen2_bias));
}

// Llama 3's rope frequency factors (rope_freqs.weight) divide each pair's frequency.
TEST(Forward, RopeFrequencyFactorsMatchTheReference) {
  testing::TempDir dir;
  testing::TestModelSpec spec;
  spec.dim = 32;
  spec.n_heads = 2;
  spec.rope_freqs = true;
  spec.fill = [](const std::string& name, uint64_t row, std::span<float> out) {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = name == "rope_freqs.weight" ? 1.0f + 3.0f * static_cast<float>(i)
               : name.find("norm") != std::string::npos ? 1.0f
                                                         : 0.2f * std::cos(static_cast<float>(row * 7 + i * 3 + name.size()));
  };
  testing::write_test_model(dir / "f.gguf", spec);
  const auto model = Model::load(dir / "f.gguf");
  EXPECT_FLOAT_EQ(model->rope_inv_freq()[1], static_cast<float>(std::pow(10000.0, -2.0 / 16) / 4.0));
  Reference ref(dir / "f.gguf");
  Sequence seq(model, 16);
  for (const int32_t token : some_tokens(10, model->hparams().vocab_size))
    expect_logits_near(seq.feed(std::span<const int32_t>(&token, 1)), ref.step(token), "rope factors");
}

// The bounded cache with keep = 0, fed one token at a time, is a sliding window: each token sees itself
// and the `window` positions before it (the others were evicted after earlier steps).
TEST(Forward, BoundedCacheWithoutKeptPositionsIsASlidingWindow) {
  const std::filesystem::path path = testing::tiny_model();
  ModelOptions options;
  options.kv = {8, 0};
  const auto model = Model::load(path, options);
  Reference ref(path);
  ref.window = 8;
  Sequence seq(model, 64);
  for (const int32_t token : some_tokens(30, model->hparams().vocab_size)) {
    const std::span<const float> logits = seq.feed(std::span<const int32_t>(&token, 1));
    expect_logits_near(logits, ref.step(token), "windowed, position " + std::to_string(seq.position() - 1));
    EXPECT_LE(seq.cached(), 8);
  }
}

TEST(Sequence, RejectsBadInputWithoutChangingState) {
  const auto model = Model::load(testing::tiny_model());
  EXPECT_THROW(Sequence(model, 0), ModelError);
  EXPECT_THROW(Sequence(model, model->hparams().context_length + 1), ModelError);
  Sequence seq(model, 4);
  const std::vector<int32_t> five{1, 5, 6, 7, 8};
  EXPECT_THROW(seq.feed(five), ModelError);
  EXPECT_THROW(seq.feed({}), ModelError);
  const std::vector<int32_t> bad{1, model->hparams().vocab_size};
  EXPECT_THROW(seq.feed(bad), ModelError);
  const std::vector<int32_t> negative{-1};
  EXPECT_THROW(seq.feed(negative), ModelError);
  EXPECT_EQ(seq.position(), 0);
  seq.feed(std::span<const int32_t>(five.data(), 4));
  EXPECT_EQ(seq.position(), 4);
  EXPECT_THROW(seq.feed(std::span<const int32_t>(five.data(), 1)), ModelError);
}

}  // namespace
}  // namespace pice::kernels
