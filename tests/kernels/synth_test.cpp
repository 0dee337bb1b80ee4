// Synthetic models: shapes, determinism, the built-in vocab, and the synth: model cache.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <optional>
#include <set>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels/synth.hpp"
#include "kernels/tokenizer.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

uint64_t parameters(const SynthShape& s) {
  const uint64_t dim = static_cast<uint64_t>(s.dim), ffn = static_cast<uint64_t>(s.ffn_dim);
  const uint64_t kv = dim / static_cast<uint64_t>(s.n_heads) * static_cast<uint64_t>(s.n_kv_heads);
  return static_cast<uint64_t>(s.vocab_size) * dim + dim +
         static_cast<uint64_t>(s.n_layers) * (2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * ffn);
}

TEST(Synth, ShapesAreThoseOfTheBrief) {
  EXPECT_EQ(synth_shape_names(), (std::vector<std::string>{"tiny", "demo", "edge-135m", "edge-0.5b", "cloud-1.5b",
                                                           "tiny-qwen2", "qwen2-0.5b"}));
  const SynthShape tiny = synth_shape("tiny");
  EXPECT_EQ(tiny.dim, 64);
  EXPECT_EQ(tiny.n_layers, 2);
  EXPECT_EQ(tiny.vocab_size, synth_base_vocab_size());
  EXPECT_EQ(tiny.context_length, 512);
  const SynthShape edge = synth_shape("edge-135m");
  EXPECT_EQ(edge.dim, 576);
  EXPECT_EQ(edge.n_layers, 30);
  EXPECT_EQ(edge.n_heads, 9);
  EXPECT_EQ(edge.n_kv_heads, 3);
  EXPECT_EQ(edge.ffn_dim, 1536);
  EXPECT_EQ(edge.vocab_size, 49152);
  // The parameter counts of the brief's table (tied embeddings, no biases).
  EXPECT_NEAR(parameters(edge) / 1e6, 134.5, 0.1);
  EXPECT_NEAR(parameters(synth_shape("edge-0.5b")) / 1e6, 494.0, 0.5);
  EXPECT_NEAR(parameters(synth_shape("cloud-1.5b")) / 1e6, 1544.0, 1.0);
  // Qwen2-0.5B: Qwen2.5-0.5B's shape under the qwen2 architecture (its biases are not counted above).
  const SynthShape qwen2 = synth_shape("qwen2-0.5b");
  EXPECT_EQ(qwen2.arch, "qwen2");
  EXPECT_EQ(qwen2.dim, 896);
  EXPECT_EQ(qwen2.n_layers, 24);
  EXPECT_EQ(qwen2.n_heads, 14);
  EXPECT_EQ(qwen2.n_kv_heads, 2);
  EXPECT_EQ(qwen2.ffn_dim, 4864);
  EXPECT_EQ(synth_shape("edge-0.5b").arch, "llama");
  try {
    synth_shape("huge");
    FAIL() << "no error for an unknown shape";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'huge' (known: tiny, demo, edge-135m, edge-0.5b, cloud-1.5b, tiny-qwen2, qwen2-0.5b)"),
              std::string::npos);
  }
}

TEST(Synth, Qwen2ModelsCarryTheirArchitectureAndBiases) {
  testing::TempDir dir;
  SynthShape shape = synth_shape("tiny");
  shape.arch = "qwen2";
  write_synth_model(dir / "q.gguf", shape, TensorType::q8_0, 5);
  const GgufFile file = GgufFile::open(dir / "q.gguf");
  EXPECT_EQ(file.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(file.get_int("qwen2.embedding_length"), 64);
  EXPECT_FALSE(file.has("llama.embedding_length"));
  const TensorInfo* bias = file.find_tensor("blk.1.attn_k.bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->type, TensorType::f32);
  EXPECT_EQ(bias->dims, std::vector<uint64_t>{32});
  shape.arch = "gpt2";
  EXPECT_THROW(write_synth_model(dir / "g.gguf", shape, TensorType::f32, 5), std::invalid_argument);
}

TEST(Synth, SameSeedSameBytes) {
  testing::TempDir dir;
  const SynthShape tiny = synth_shape("tiny");
  write_synth_model(dir / "a.gguf", tiny, TensorType::f32, 11);
  write_synth_model(dir / "b.gguf", tiny, TensorType::f32, 11);
  write_synth_model(dir / "c.gguf", tiny, TensorType::f32, 12);
  write_synth_model(dir / "d.gguf", tiny, TensorType::f16, 11);
  const std::string a = testing::read_bytes(dir / "a.gguf");
  EXPECT_EQ(a, testing::read_bytes(dir / "b.gguf"));
  EXPECT_NE(a, testing::read_bytes(dir / "c.gguf"));
  EXPECT_LT(testing::read_bytes(dir / "d.gguf").size(), a.size());
  EXPECT_THROW(write_synth_model(dir / "q.gguf", tiny, TensorType::q5_0, 1), std::invalid_argument);
  EXPECT_THROW(write_synth_model(dir / "q.gguf", tiny, "q4_k_s", 1), std::invalid_argument);
  // Every format is deterministic too, and the string and type overloads agree.
  write_synth_model(dir / "e.gguf", tiny, TensorType::q4_0, 11);
  write_synth_model(dir / "f.gguf", tiny, "q4_0", 11);
  EXPECT_EQ(testing::read_bytes(dir / "e.gguf"), testing::read_bytes(dir / "f.gguf"));
}

TEST(Synth, Q4KMMixFollowsLlamaCpp) {
  // 32 layers: llama.cpp's use_more_bits picks layers 0-3, 28-31 and every third from 4 (6, 9, ...).
  std::vector<int> more;
  for (int l = 0; l < 32; ++l)
    if (synth_tensor_type("q4_k_m", "blk." + std::to_string(l) + ".ffn_down.weight", 32, 4096) == TensorType::q6_k)
      more.push_back(l);
  EXPECT_EQ(more, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  EXPECT_EQ(synth_tensor_type("q4_k_m", "blk.6.attn_v.weight", 32, 4096), TensorType::q6_k);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "blk.7.attn_v.weight", 32, 4096), TensorType::q4_k);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "blk.6.attn_q.weight", 32, 4096), TensorType::q4_k);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "token_embd.weight", 32, 4096), TensorType::q6_k);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "output.weight", 32, 4096), TensorType::q6_k);
  // Rows that are not a multiple of 256 fall back to 32-blocks, then to f16.
  EXPECT_EQ(synth_tensor_type("q4_k_m", "blk.7.attn_q.weight", 32, 576), TensorType::q4_0);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "token_embd.weight", 32, 576), TensorType::q8_0);
  EXPECT_EQ(synth_tensor_type("q4_k_m", "blk.7.ffn_down.weight", 32, 688), TensorType::f16);
  EXPECT_EQ(synth_tensor_type("q8_0", "blk.0.ffn_down.weight", 2, 172), TensorType::f16);
  EXPECT_EQ(synth_tensor_type("bf16", "blk.0.ffn_down.weight", 2, 172), TensorType::bf16);
  EXPECT_THROW(synth_tensor_type("q3_k", "token_embd.weight", 2, 256), std::invalid_argument);
}

TEST(Synth, QuantizedModelsAgreeWithTheF32Model) {
  // The same random weights in each format: logits close to the F32 model's, by a margin that grows
  // as the bits shrink (a wrong layout would give unrelated logits, a relative error near 1). Measured
  // relative RMS errors: bf16 0.005, q8_0 0.015, q6_k 0.042, q4_k_m 0.13, q4_k 0.16, q4_0 0.19.
  testing::TempDir dir;
  const SynthShape demo = synth_shape("demo");
  write_synth_model(dir / "f32.gguf", demo, "f32", 3);
  const auto reference = Model::load(dir / "f32.gguf");
  const std::vector<int32_t> tokens{1, 500, 600, 700, 42};
  Sequence r(reference, 8);
  const std::span<const float> expected = r.feed(tokens);
  const std::vector<std::pair<std::string, double>> formats = {
      {"bf16", 0.01}, {"q8_0", 0.03}, {"q6_k", 0.07}, {"q4_k_m", 0.2}, {"q4_0", 0.25}, {"q4_k", 0.25}};
  for (const auto& [format, tolerance] : formats) {
    write_synth_model(dir / (format + ".gguf"), demo, format, 3);
    const auto model = Model::load(dir / (format + ".gguf"));
    Sequence seq(model, 8);
    const std::span<const float> got = seq.feed(tokens);
    double err2 = 0, sig2 = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      err2 += (got[i] - expected[i]) * static_cast<double>(got[i] - expected[i]);
      sig2 += expected[i] * static_cast<double>(expected[i]);
    }
    EXPECT_LT(std::sqrt(err2 / sig2), tolerance) << format;
  }
}

TEST(Synth, F16ModelAgreesWithTheF32Model) {
  const auto f32 = Model::load(testing::tiny_model(TensorType::f32));
  const auto f16 = Model::load(testing::tiny_model(TensorType::f16));
  Sequence a(f32, 8), b(f16, 8);
  const std::vector<int32_t> tokens{1, 500, 600, 700};
  const std::span<const float> la = a.feed(tokens), lb = b.feed(tokens);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < la.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(la[i] - lb[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(la[i])));
  }
  EXPECT_LT(worst, 0.01 * scale + 1e-3);   // f16 rounding of the weights only
}

TEST(Synth, VocabPrefersWholeWords) {
  const Tokenizer tokenizer(synth_vocab(synth_base_vocab_size()));
  const std::string text = "The little girl said that the sun was warm.";
  const std::vector<int32_t> ids = tokenizer.encode(text, true);
  std::vector<std::string> pieces;
  for (const int32_t id : ids) pieces.push_back(tokenizer.vocab().pieces[static_cast<size_t>(id)]);
  const std::string s = "\xe2\x96\x81";
  EXPECT_EQ(pieces, (std::vector<std::string>{"<s>", s + "The", s + "little", s + "girl", s + "said", s + "that",
                                               s + "the", s + "sun", s + "was", s + "warm", "."}));
  EXPECT_EQ(tokenizer.decode(ids), text);
  EXPECT_EQ(tokenizer.bos(), 1);
  EXPECT_EQ(tokenizer.eos(), 2);
  EXPECT_EQ(tokenizer.vocab().pieces[0], "<unk>");
  EXPECT_EQ(tokenizer.vocab().pieces[3], "<0x00>");
  EXPECT_EQ(tokenizer.vocab().pieces[258], "<0xFF>");
  // Text outside the vocab still round-trips (byte fallback).
  const std::string odd = "Zebras \xc3\xa9t\xc3\xa9 42\n";
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(odd, false)), odd);
}

TEST(Synth, PaddedVocabIsExactAndUnique) {
  const Vocab vocab = synth_vocab(49152);
  ASSERT_EQ(vocab.pieces.size(), 49152u);
  EXPECT_EQ(std::set<std::string>(vocab.pieces.begin(), vocab.pieces.end()).size(), 49152u);
  EXPECT_NO_THROW(Tokenizer{vocab});
  EXPECT_THROW(synth_vocab(10), std::invalid_argument);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Synth, ResolveModelPathMakesTheFileOnceAndCachesIt) {
  testing::TempDir dir;
  const ScopedEnv env("PICE_CACHE_DIR", (dir / "cache" / "nested").string());
  EXPECT_EQ(resolve_model_path("/models/x.gguf"), std::filesystem::path("/models/x.gguf"));
  const std::filesystem::path path = resolve_model_path("synth:tiny");
  EXPECT_EQ(path.parent_path(), dir / "cache" / "nested");
  ASSERT_TRUE(std::filesystem::exists(path));
  const auto written = std::filesystem::last_write_time(path);
  std::filesystem::last_write_time(path, written - std::chrono::hours(1));   // a rewrite would move it forward
  EXPECT_EQ(resolve_model_path("synth:tiny"), path);
  EXPECT_EQ(std::filesystem::last_write_time(path), written - std::chrono::hours(1));
  EXPECT_EQ(Model::load(path)->name(), "pice-synth-tiny");

  const std::filesystem::path f16 = resolve_model_path("synth:tiny:f16");
  EXPECT_NE(f16, path);
  EXPECT_EQ(Model::load(f16)->name(), "pice-synth-tiny");
  EXPECT_THROW(resolve_model_path("synth:nope"), std::invalid_argument);
  EXPECT_THROW(resolve_model_path("synth:tiny:q4"), std::invalid_argument);
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path()))
    EXPECT_EQ(entry.path().extension(), ".gguf") << "left behind: " << entry.path();

  // Without PICE_CACHE_DIR: $XDG_CACHE_HOME/pice.
  const ScopedEnv no_cache("PICE_CACHE_DIR", "");
  const ScopedEnv xdg("XDG_CACHE_HOME", (dir / "xdg").string());
  EXPECT_EQ(resolve_model_path("synth:tiny").parent_path(), dir / "xdg" / "pice");
}

}  // namespace
}  // namespace pice::kernels
