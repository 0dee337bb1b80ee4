#pragma once
// The inside of a Tokenizer, shared by its source files: the validated vocab and its indexes, built once
// and then only read (Tokenizer copies share one TokenizerState).
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernels/tokenizer.hpp"
#include "kernels/tokenizer_bpe.hpp"

namespace pice::kernels {

struct PieceHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
// piece -> id; for duplicate pieces the last id wins (as in llama.cpp).
using PieceIndex = std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>>;

struct TokenizerState {
  explicit TokenizerState(Vocab vocab);   // validates; throws TokenizerError

  Vocab vocab;
  PieceIndex index;
  std::array<int32_t, 256> byte_token{};   // byte -> id of its <0xNN> token, or -1 (SPM byte fallback)
  std::unique_ptr<const BpeEncoder> bpe;   // set for byte-level BPE vocabs

  TokenType type_of(int32_t id) const { return vocab.types[static_cast<size_t>(id)]; }
  float score_of(int32_t id) const { return vocab.scores[static_cast<size_t>(id)]; }
  // The id of a piece, any type, or -1.
  int32_t find(std::string_view piece) const {
    const auto it = index.find(piece);
    return it == index.end() ? -1 : it->second;
  }
};

// SPM encoding of `text` (tokenizer_spm.cpp), appended to `out`.
void encode_spm(const TokenizerState& state, std::string_view text, bool add_space_prefix, std::vector<int32_t>& out);

}  // namespace pice::kernels
