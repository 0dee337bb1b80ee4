#pragma once
// Synthetic GGUF models: Llama architecture, deterministic random weights, real shapes, and a small
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
};

// "tiny", "demo", "edge-135m", "edge-0.5b", "cloud-1.5b"; anything else throws std::invalid_argument
// naming the known shapes.
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

// Writes the model (type f32 or f16 for the matrices; norms stay f32), same seed -> same bytes.
// Throws std::invalid_argument for another type, GgufError when the file cannot be written.
void write_synth_model(const std::filesystem::path& out, const SynthShape& shape, TensorType type, uint64_t seed);

// "synth:<shape>" or "synth:<shape>:<f32|f16>" (default f32, seed 1) -> a cached file under
// $PICE_CACHE_DIR, else $XDG_CACHE_HOME/pice, else ~/.cache/pice, made on first use (written to a temp
// file and renamed, so concurrent processes never see a half-written file). Other strings: returned as is.
std::filesystem::path resolve_model_path(const std::string& spec);

}  // namespace pice::kernels
