#pragma once
// A loaded model of the Llama family: hyperparameters, tokenizer and weights. Architectures `llama`
// (Llama 2 and 3, TinyLlama, SmolLM, Mistral: adjacent-pair rope, Llama 3's rope frequency factors
// when the file has rope_freqs.weight) and `qwen2` (rotate-halves rope, biases on q, k and v).
//
// Weights stay in the GGUF bytes (read into memory, or mapped and locked: ModelOptions::load) and are
// read in place, in any supported tensor type (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K: see quant.hpp);
// only small vectors (norm weights, biases) stored in another type than F32 are converted at load. Other tensor types raise ModelError naming the tensor.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/gguf_file.hpp"
#include "kernels/kv_cache.hpp"
#include "kernels/ops.hpp"
#include "kernels/thread_pool.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels {

class ModelError : public std::runtime_error {
  using runtime_error::runtime_error;
};

struct HParams {
  std::string arch;
  int dim, n_layers, n_heads, n_kv_heads, ffn_dim, vocab_size, context_length;
  float rms_eps, rope_theta;
  RopeStyle rope_style = RopeStyle::normal;   // by architecture, as llama.cpp's llama_model_rope_type()
};

// The architectures Model::load runs, for error messages and `pice model info`.
std::vector<std::string> supported_architectures();

// How a model is loaded and run; the [llm]/[slm] config tables' `threads`, `load`, `kv_window`, `kv_keep`.
struct ModelOptions {
  int threads = 1;
  LoadMode load = LoadMode::read;   // gguf_file.hpp: read into memory, or mapped and locked
  KvPolicy kv;                      // kv_cache.hpp: the cache bound of every Batch of this model (off by default)
};

// "read", "mmap" (mapped, locked when the memory-lock limit allows, else a warning) and
// "mmap-lock-required" (a failed lock is an error): the values of config `load` and `--load`.
std::optional<LoadMode> parse_load_mode(std::string_view name);

class Model {
 public:
  struct Layer {
    std::span<const float> attn_norm;   // [dim]
    Matrix wq, wk, wv, wo;              // [dim x dim], [kv_dim x dim] x2, [dim x dim]
    std::span<const float> bq, bk, bv;  // [dim], [kv_dim] x2; empty when the model has no such bias
    std::span<const float> ffn_norm;    // [dim]
    Matrix w_gate, w_up, w_down;        // [ffn x dim] x2, [dim x ffn]
  };

  // threads: the size of the pool that runs this model's forward passes (the config's `threads`).
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, int threads = 1);   // ModelError / GgufError
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, const ModelOptions& options);

  const HParams& hparams() const { return hp_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  std::string name() const;   // general.name, else the file stem
  const GgufFile& file() const { return file_; }
  const KvPolicy& kv_policy() const { return kv_policy_; }

  int head_dim() const { return hp_.dim / hp_.n_heads; }
  int kv_dim() const { return head_dim() * hp_.n_kv_heads; }
  const Matrix& token_embedding() const { return token_embd_; }   // [vocab x dim]
  const Layer& layer(int i) const { return layers_[static_cast<size_t>(i)]; }
  std::span<const float> output_norm() const { return output_norm_; }
  const Matrix& output() const { return output_; }   // [vocab x dim]; token_embd when tied
  // Per rope pair i: theta^(-2i / head_dim), over rope_freqs.weight[i] when the file has it.
  std::span<const float> rope_inv_freq() const { return inv_freq_; }
  bool tied_embeddings() const { return tied_; }
  // The threads that split this model's matmuls; shared by every sequence and batch of the model
  // (thread-safe: concurrent loops take turns). nullptr means one thread.
  ThreadPool* pool() const { return pool_.get(); }

 private:
  Model(GgufFile file, Tokenizer tokenizer);
  void read_hparams();
  void bind_weights();
  void compute_rope_frequencies();
  Matrix matrix(const std::string& name, int rows, int cols) const;
  std::span<const float> vector(const std::string& name, int n);
  std::span<const float> optional_vector(const std::string& name, int n);   // empty when absent
  const TensorInfo& tensor(const std::string& name, const std::vector<uint64_t>& dims) const;
  [[noreturn]] void fail(const std::string& what) const;

  GgufFile file_;
  Tokenizer tokenizer_;
  HParams hp_{};
  Matrix token_embd_, output_;
  std::span<const float> output_norm_;
  std::vector<Layer> layers_;
  bool tied_ = false;
  std::vector<float> inv_freq_;
  std::vector<std::vector<float>> converted_;   // non-F32 vectors widened at load
  std::shared_ptr<ThreadPool> pool_;
  KvPolicy kv_policy_;
};

}  // namespace pice::kernels
