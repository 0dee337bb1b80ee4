#pragma once
// Synthetic GGUF models: Llama or Qwen2 architecture, deterministic random weights, real shapes, and a small
// self-contained SPM vocab, so tests and benchmarks run at real model sizes without downloads. The
// cost of a forward pass does not depend on the weights (vLLM's "dummy" load format works the same way).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/gguf_file.hpp"
#include "kernels/gguf_writer.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels {

struct SynthShape {
  std::string name;
  int dim, n_layers, n_heads, n_kv_heads, ffn_dim, vocab_size, context_length;
  // "llama", or "qwen2": the same tensors plus random q/k/v biases, and its rope style at load.
  std::string arch = "llama";
};

// "tiny", "demo", "edge-135m", "edge-0.5b", "cloud-1.5b" (Llama), "tiny-qwen2" and "qwen2-0.5b" (Qwen2);
// anything else throws std::invalid_argument naming the known shapes.
SynthShape synth_shape(std::string_view name);
std::vector<std::string> synth_shape_names();

// The built-in vocab padded to `size` pieces with generated ones (size >= synth_base_vocab_size(),
// else std::invalid_argument): <unk>=0, <s>=1, </s>=2, the 256 byte tokens, single characters, common
// English words as "▁word" pieces. Every prefix of a word is a piece too, because SPM encoding reaches
// a piece only through merges of pieces: "▁the" needs "▁t" and "▁th".
Vocab synth_vocab(int size);
int synth_base_vocab_size();

// Writes a vocab as the tokenizer.ggml.* metadata of an SPM ("llama") tokenizer.
void write_vocab_metadata(GgufWriter& writer, const Vocab& vocab);

// The weight formats of synthetic models: one type for every matrix ("f32", "f16", "bf16", "q8_0",
// "q4_0", "q4_k", "q6_k"), or "q4_k_m", llama.cpp's Q4_K_M mix: Q4_K for most matrices, Q6_K for the
// output (here the tied token embedding) and for attn_v and ffn_down in the layers llama.cpp picks
// (the first and last eighth and every third in between). Norm weights are always F32.
std::vector<std::string> synth_format_names();
bool is_synth_format(std::string_view format);

// The type `format` gives the matrix `tensor` (a GGUF name such as "blk.3.attn_v.weight") of a model
// with n_layers layers, whose rows have row_length values. A row length that is not a multiple of the
// type's block falls back as llama.cpp does, to a type of smaller blocks: q4_k -> q4_0, q6_k -> q8_0
// (llama.cpp takes q5_0 for q4_k, a type this engine does not run), then q4_0/q8_0 -> f16.
// std::invalid_argument for an unknown format.
TensorType synth_tensor_type(std::string_view format, std::string_view tensor, int n_layers, uint64_t row_length);

// Writes the model in the given format (above), same seed -> same bytes. Throws std::invalid_argument
// for an unknown format, GgufError when the file cannot be written.
void write_synth_model(const std::filesystem::path& out, const SynthShape& shape, std::string_view format, uint64_t seed);
// The same with one type for every matrix (the format named like the type).
void write_synth_model(const std::filesystem::path& out, const SynthShape& shape, TensorType type, uint64_t seed);

// "synth:<shape>" or "synth:<shape>:<format>" (default f32, seed 1) -> a cached file under
// $PICE_CACHE_DIR, else $XDG_CACHE_HOME/pice, else ~/.cache/pice, made on first use (written to a temp
// file and renamed, so concurrent processes never see a half-written file). Other strings: returned as is.
std::filesystem::path resolve_model_path(const std::string& spec);

}  // namespace pice::kernels
