// Tokenizer::from_gguf: the tokenizer.ggml.* metadata of a GGUF file -> Vocab, with llama.cpp's
// defaults where a key is absent.
#include <string>

#include "kernels/bpe_pretokenizer.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";

// Names the tokenizer families llama.cpp knows by their tokenizer.ggml.model value.
std::string family_of(std::string_view model) {
  if (model == "bert") return "WordPiece";
  if (model == "t5") return "Unigram (T5)";
  if (model == "rwkv") return "RWKV";
  if (model == "none" || model == "no_vocab") return "no tokenizer";
  return "unknown tokenizer";
}

std::string where(const GgufFile& file) { return file.path().string() + ": "; }

// A special token id: the default when the key is absent (-1 for none; dropped if the vocab is too
// small for it, as in a toy vocab); a present id must lie inside the vocab.
int32_t special_id(const GgufFile& file, std::string_view key, int32_t fallback, size_t n_tokens) {
  if (!file.has(key)) return fallback >= 0 && static_cast<size_t>(fallback) < n_tokens ? fallback : -1;
  const int64_t id = file.get_int(key);
  if (id < 0 || static_cast<uint64_t>(id) >= n_tokens) {
    throw TokenizerError(std::string(key) + " = " + std::to_string(id) + " is outside the vocab of " +
                         std::to_string(n_tokens) + " tokens");
  }
  return static_cast<int32_t>(id);
}

std::vector<TokenType> token_types(const GgufFile& file) {
  constexpr std::string_view key = "tokenizer.ggml.token_type";
  std::vector<TokenType> types;
  if (!file.has(key)) return types;   // Vocab: all normal
  const std::vector<int64_t> raw = file.get_int_array(key);
  types.reserve(raw.size());
  for (size_t id = 0; id < raw.size(); ++id) {
    if (raw[id] < static_cast<int64_t>(TokenType::undefined) || raw[id] > static_cast<int64_t>(TokenType::byte)) {
      throw TokenizerError(std::string(key) + "[" + std::to_string(id) + "] = " +
                           std::to_string(raw[id]) + " is not a token type (0..6)");
    }
    types.push_back(static_cast<TokenType>(raw[id]));
  }
  return types;
}

// SPM defaults (llama.cpp's): unk 0, bos 1, eos 2, BOS and space prefix wanted.
void read_spm(const GgufFile& file, Vocab& vocab) {
  vocab.kind = VocabKind::spm;
  const size_t n = vocab.pieces.size();
  vocab.bos = special_id(file, "tokenizer.ggml.bos_token_id", 1, n);
  vocab.eos = special_id(file, "tokenizer.ggml.eos_token_id", 2, n);
  vocab.unk = special_id(file, "tokenizer.ggml.unknown_token_id", 0, n);
  vocab.add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", true);
  vocab.add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", true);
}

// BPE: merges are required; special ids only where given (llama.cpp's default of 11 is a leftover of
// Falcon's vocab); BOS as the pre-tokenizer's models expect unless the file says; never a space prefix
// (llama.cpp's BPE encoder ignores tokenizer.ggml.add_space_prefix too).
void read_bpe(const GgufFile& file, Vocab& vocab) {
  vocab.kind = VocabKind::bpe;
  constexpr std::string_view merges_key = "tokenizer.ggml.merges";
  if (!file.has(merges_key)) throw TokenizerError("byte-level BPE vocab without " + std::string(merges_key));
  vocab.merges = file.get_string_array(merges_key);
  vocab.pre = file.get_string_or("tokenizer.ggml.pre", "default");
  const size_t n = vocab.pieces.size();
  vocab.bos = special_id(file, "tokenizer.ggml.bos_token_id", -1, n);
  vocab.eos = special_id(file, "tokenizer.ggml.eos_token_id", -1, n);
  vocab.unk = special_id(file, "tokenizer.ggml.unknown_token_id", -1, n);
  vocab.add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", PreTokenizer(vocab.pre).adds_bos());
  vocab.add_space_prefix = false;
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufFile& file) {
  if (!file.has(kModelKey)) throw TokenizerError(where(file) + "no tokenizer (" + std::string(kModelKey) + " missing)");
  const std::string model = file.get_string(kModelKey);
  if (model != "llama" && model != "gpt2") {
    throw TokenizerError(where(file) + family_of(model) + " (" + std::string(kModelKey) + " = " + model +
                         ") is not supported; only SentencePiece (llama) and byte-level BPE (gpt2) vocabs are");
  }

  try {
    Vocab vocab;
    vocab.pieces = file.get_string_array("tokenizer.ggml.tokens");
    if (file.has("tokenizer.ggml.scores")) vocab.scores = file.get_float_array("tokenizer.ggml.scores");
    vocab.types = token_types(file);
    if (model == "llama") {
      read_spm(file, vocab);
    } else {
      read_bpe(file, vocab);
    }
    return Tokenizer(std::move(vocab));
  } catch (const TokenizerError& e) {
    throw TokenizerError(where(file) + e.what());
  }
}

}  // namespace pice::kernels
