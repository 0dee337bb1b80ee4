#pragma once
// Helpers shared by the kernels tests: temporary directories, file bytes, small synthetic models.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <span>
#include <fstream>
#include <iterator>
#include <string>

#include "kernels/gguf_writer.hpp"
#include "kernels/synth.hpp"

namespace pice::kernels::testing {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pice-kernels-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The synthetic "tiny" model of the given type, written once per test process.
inline std::filesystem::path tiny_model(TensorType type = TensorType::f32) {
  static TempDir dir;
  const std::filesystem::path path = dir / (std::string("tiny-") + std::string(tensor_type_name(type)) + ".gguf");
  if (!std::filesystem::exists(path)) write_synth_model(path, synth_shape("tiny"), type, 7);
  return path;
}

// A small Llama model with weights chosen by the test: fill(tensor name, row, out) sets each row.
struct TestModelSpec {
  std::string arch = "llama";
  int dim = 16, n_layers = 1, n_heads = 2, n_kv_heads = 1, ffn_dim = 24, context_length = 64;
  TensorType type = TensorType::f32;
  bool tied = true;
  bool qkv_bias = false;     // blk.N.attn_{q,k,v}.bias (Qwen2's)
  bool rope_freqs = false;   // rope_freqs.weight, [head_dim / 2] (Llama 3's rope frequency factors)
  std::string omit;   // a tensor to leave out
  std::function<void(const std::string& tensor, uint64_t row, std::span<float> out)> fill;
};

inline void write_test_model(const std::filesystem::path& path, const TestModelSpec& spec) {
  const Vocab vocab = synth_vocab(synth_base_vocab_size());
  GgufWriter w;
  w.set_string("general.architecture", spec.arch);
  w.set_string("general.name", "test-model");
  const std::string a = spec.arch + ".";
  w.set_u32(a + "context_length", static_cast<uint32_t>(spec.context_length));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(spec.dim));
  w.set_u32(a + "block_count", static_cast<uint32_t>(spec.n_layers));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(spec.ffn_dim));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(spec.n_heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(spec.n_kv_heads));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  write_vocab_metadata(w, vocab);
  const auto u = [](int v) { return static_cast<uint64_t>(v); };
  const uint64_t dim = u(spec.dim), kv = u(spec.dim / spec.n_heads * spec.n_kv_heads), ffn = u(spec.ffn_dim);
  auto add = [&](const std::string& name, std::vector<uint64_t> dims, TensorType type) {
    if (name == spec.omit) return;
    w.add_tensor(name, std::move(dims), type, [fill = spec.fill, name](uint64_t row, std::span<float> out) {
      fill(name, row, out);
    });
  };
  add("token_embd.weight", {dim, vocab.pieces.size()}, spec.type);
  if (!spec.tied) add("output.weight", {dim, vocab.pieces.size()}, spec.type);
  add("output_norm.weight", {dim}, TensorType::f32);
  if (spec.rope_freqs) add("rope_freqs.weight", {dim / u(spec.n_heads) / 2}, TensorType::f32);
  for (int l = 0; l < spec.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {dim}, TensorType::f32);
    add(b + "attn_q.weight", {dim, dim}, spec.type);
    add(b + "attn_k.weight", {dim, kv}, spec.type);
    add(b + "attn_v.weight", {dim, kv}, spec.type);
    add(b + "attn_output.weight", {dim, dim}, spec.type);
    if (spec.qkv_bias) {
      add(b + "attn_q.bias", {dim}, TensorType::f32);
      add(b + "attn_k.bias", {kv}, TensorType::f32);
      add(b + "attn_v.bias", {kv}, TensorType::f32);
    }
    add(b + "ffn_norm.weight", {dim}, TensorType::f32);
    add(b + "ffn_gate.weight", {dim, ffn}, spec.type);
    add(b + "ffn_up.weight", {dim, ffn}, spec.type);
    add(b + "ffn_down.weight", {ffn, dim}, spec.type);
  }
  w.write(path);
}

}  // namespace pice::kernels::testing
