#pragma once
// Tokenizers compatible with llama.cpp's, for the two vocab kinds of the common GGUF models.
//
// SentencePiece (SPM, tokenizer.ggml.model = "llama"): spaces become U+2581 '▁', one '▁' is prepended to
// non-empty text (add_space_prefix), the text is cut into UTF-8 characters, and the adjacent pair whose
// concatenation is a vocab piece with the highest score is merged, again and again (ties go to the leftmost
// pair). Characters left that are not pieces fall back to byte tokens <0xNN>, or to the unknown token.
// Decoding: '▁' becomes a space, byte tokens the raw byte.
//
// Byte-level BPE (tokenizer.ggml.model = "gpt2"; GPT-2, Llama 3, Qwen 2, DeepSeek, Falcon, StarCoder...):
// user-defined (added) tokens are cut out of the text first; the pre-tokenizer named by tokenizer.ggml.pre
// cuts the rest into words (see bpe_pretokenizer.hpp); each word's bytes become GPT-2's byte-level
// alphabet (see byte_level.hpp) and the adjacent pair with the best (lowest) rank in tokenizer.ggml.merges
// is merged, again and again (ties: leftmost); Llama 3 and tekken take a word that is a vocab piece as a
// whole (ignore_merges). No space prefix. Decoding maps the alphabet back to bytes.
// Malformed UTF-8 keeps its bytes, except bytes the vocab has no token for (0xC0, 0xC1, 0xF5..0xFF are
// missing from vocabs trained on UTF-8 text): those are encoded as U+FFFD, as llama.cpp does.
//
// Both: special tokens are never parsed out of the text, so "<s>" or "<|endoftext|>" typed by a user stays
// plain text; control, unknown and unused tokens decode to nothing, user-defined ones to their text.
//
// A Tokenizer is immutable after construction (copies share the same tables): encode/decode are safe to
// call from many threads.

// <array>, <functional> and <unordered_map> are not needed here any more, but files including this header
// have come to rely on them (sequence.cpp gets std::copy_n through <functional>).
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pice::kernels {

class GgufFile;
struct TokenizerState;

class TokenizerError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// llama.cpp's token types, as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6
};

enum class VocabKind { spm, bpe };

struct Vocab {
  VocabKind kind = VocabKind::spm;
  std::vector<std::string> pieces;   // token id -> piece text (SPM: '▁' for spaces; BPE: byte-level alphabet)
  std::vector<float> scores;         // SPM merge priority; empty means all 0
  std::vector<TokenType> types;      // empty means all normal
  int32_t bos = -1, eos = -1, unk = -1;   // -1: the vocab has none
  bool add_bos = true;               // what the model expects; encode() takes the decision explicitly
  bool add_space_prefix = true;      // SPM only: must be false for BPE
  // BPE only: "left right" pairs of pieces, best first (rank = index), as in tokenizer.ggml.merges.
  std::vector<std::string> merges;
  // BPE only: the pre-tokenizer's name, as in tokenizer.ggml.pre (PreTokenizer::known_names()).
  std::string pre = "default";
};

class Tokenizer {
 public:
  // Validates the vocab (sizes, special ids, byte pieces, scores, merges, pre-tokenizer name); throws
  // TokenizerError naming the problem.
  explicit Tokenizer(Vocab vocab);

  // Reads the tokenizer.ggml.* metadata. tokenizer.ggml.model must be "llama" (SPM) or "gpt2" (byte-level
  // BPE); any other value throws TokenizerError naming it, as does an unknown tokenizer.ggml.pre (a missing
  // one means "default", as in llama.cpp). GgufError propagates for keys of the wrong type.
  static Tokenizer from_gguf(const GgufFile& file);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const;

  // Text that continues a sequence already under way (a writer appending "\n3." after the model's
  // words): no BOS and no space prefix, since the prefix only marks the start of a text. For BPE, which
  // has no prefix, this is encode(text, false).
  std::vector<int32_t> encode_continuation(std::string_view text) const;

  // The whole text: the leading space of the first text-producing token is removed when the vocab
  // adds a space prefix, so decode(encode(s, b)) == s. Throws TokenizerError for an id out of range.
  std::string decode(std::span<const int32_t> ids) const;

  // Raw bytes of one token: SPM '▁' -> ' ', <0xNN> -> that byte; BPE alphabet -> bytes; user-defined ->
  // its text; control/unknown/unused -> "".
  std::string piece(int32_t id) const;

  int32_t bos() const;
  int32_t eos() const;
  size_t size() const;
  const Vocab& vocab() const;

  std::optional<int32_t> find(std::string_view piece) const;   // exact piece lookup, any token type

 private:
  std::vector<int32_t> encode_text(std::string_view text, bool add_bos, bool add_space_prefix) const;

  std::shared_ptr<const TokenizerState> state_;
};

}  // namespace pice::kernels
