#pragma once
// A loaded Llama-architecture model: hyperparameters, tokenizer and weights.
//
// Weights stay in the memory-mapped GGUF file and are read in place, in any supported tensor type
// (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K: see quant.hpp); only small vectors (norm weights) stored in
// another type than F32 are converted at load. Other tensor types raise ModelError naming the tensor.
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/gguf_file.hpp"
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
};

class Model {
 public:
  struct Layer {
    std::span<const float> attn_norm;   // [dim]
    Matrix wq, wk, wv, wo;              // [dim x dim], [kv_dim x dim] x2, [dim x dim]
    std::span<const float> ffn_norm;    // [dim]
    Matrix w_gate, w_up, w_down;        // [ffn x dim] x2, [dim x ffn]
  };

  // threads: the size of the pool that runs this model's forward passes (the config's `threads`).
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, int threads = 1);   // ModelError / GgufError

  const HParams& hparams() const { return hp_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  std::string name() const;   // general.name, else the file stem
  const GgufFile& file() const { return file_; }

  int head_dim() const { return hp_.dim / hp_.n_heads; }
  int kv_dim() const { return head_dim() * hp_.n_kv_heads; }
  const Matrix& token_embedding() const { return token_embd_; }   // [vocab x dim]
  const Layer& layer(int i) const { return layers_[static_cast<size_t>(i)]; }
  std::span<const float> output_norm() const { return output_norm_; }
  const Matrix& output() const { return output_; }   // [vocab x dim]; token_embd when tied
  bool tied_embeddings() const { return tied_; }
  // The threads that split this model's matmuls; shared by every sequence and batch of the model
  // (thread-safe: concurrent loops take turns). nullptr means one thread.
  ThreadPool* pool() const { return pool_.get(); }

 private:
  Model(GgufFile file, Tokenizer tokenizer);
  void read_hparams();
  void bind_weights();
  Matrix matrix(const std::string& name, int rows, int cols) const;
  std::span<const float> vector(const std::string& name, int n);
  const TensorInfo& tensor(const std::string& name, const std::vector<uint64_t>& dims) const;
  [[noreturn]] void fail(const std::string& what) const;

  GgufFile file_;
  Tokenizer tokenizer_;
  HParams hp_{};
  Matrix token_embd_, output_;
  std::span<const float> output_norm_;
  std::vector<Layer> layers_;
  bool tied_ = false;
  std::vector<std::vector<float>> converted_;   // non-F32 vectors widened at load
  std::shared_ptr<ThreadPool> pool_;
};

}  // namespace pice::kernels
