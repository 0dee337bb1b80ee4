#pragma once
// SentencePiece-style (SPM) tokenizer, compatible with llama.cpp's LLAMA_VOCAB_TYPE_SPM.
//
// Encoding: spaces become U+2581 '▁', one '▁' is prepended to non-empty text (add_space_prefix),
// the text is cut into UTF-8 characters, and the adjacent pair whose concatenation is a vocab piece
// with the highest score is merged, again and again (ties go to the leftmost pair). Characters left
// that are not pieces fall back to byte tokens <0xNN>, or to the unknown token if the vocab has none.
// Special tokens are never parsed out of the text: control, byte, unknown and unused pieces are never
// produced by merging (as in SentencePiece), so "<s>" or "<0x41>" typed by a user stays plain text.
//
// Decoding: '▁' becomes a space, byte tokens the raw byte, user-defined pieces stay verbatim (as in
// llama.cpp), control/unknown/unused tokens give nothing.
//
// A Tokenizer is immutable after construction: encode/decode are safe to call from many threads.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pice::kernels {

class GgufFile;

class TokenizerError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// llama.cpp's token types, as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6
};

struct Vocab {
  std::vector<std::string> pieces;   // token id -> piece text (with '▁' for spaces)
  std::vector<float> scores;         // merge priority; empty means all 0
  std::vector<TokenType> types;      // empty means all normal
  int32_t bos = -1, eos = -1, unk = -1;   // -1: the vocab has none
  bool add_bos = true;               // what the model expects; encode() takes the decision explicitly
  bool add_space_prefix = true;
};

class Tokenizer {
 public:
  // Validates the vocab (sizes, special ids, byte pieces, scores); throws TokenizerError naming the problem.
  explicit Tokenizer(Vocab vocab);

  // Reads the tokenizer.ggml.* metadata. tokenizer.ggml.model must be "llama" (SPM); any other value
  // throws TokenizerError naming it. GgufError propagates for keys of the wrong type.
  static Tokenizer from_gguf(const GgufFile& file);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const;

  // Text that continues a sequence already under way (a writer appending "\n3." after the model's
  // words): no BOS and no space prefix, since the prefix only marks the start of a text.
  std::vector<int32_t> encode_continuation(std::string_view text) const;

  // The whole text: the leading space of the first text-producing token is removed when the vocab
  // adds a space prefix, so decode(encode(s, b)) == s. Throws TokenizerError for an id out of range.
  std::string decode(std::span<const int32_t> ids) const;

  // Raw text of one token: '▁' -> ' ', <0xNN> -> that byte, control/unknown/unused -> "".
  std::string piece(int32_t id) const;

  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  size_t size() const { return vocab_.pieces.size(); }
  const Vocab& vocab() const { return vocab_; }

  std::optional<int32_t> find(std::string_view piece) const;   // exact piece lookup, any token type

 private:
  std::vector<int32_t> encode_text(std::string_view text, bool add_bos, bool add_space_prefix) const;

  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using PieceIndex = std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>>;

  // The id of a piece that encoding may produce from text (normal, user-defined, undefined), or -1.
  int32_t find_text_piece(std::string_view piece) const;
  TokenType type_of(int32_t id) const { return vocab_.types[static_cast<size_t>(id)]; }
  float score_of(int32_t id) const { return vocab_.scores[static_cast<size_t>(id)]; }
  // Appends the tokens of one symbol left after merging that is not a piece: byte tokens, else unk.
  void append_fallback(std::string_view symbol, std::vector<int32_t>& out) const;

  Vocab vocab_;
  PieceIndex index_;                        // piece -> id; the last of duplicate pieces wins (as llama.cpp)
  std::array<int32_t, 256> byte_token_{};   // byte -> id of its <0xNN> token, or -1
};

}  // namespace pice::kernels
