#pragma once
// Byte-level BPE encoding, compatible with llama.cpp's LLAMA_VOCAB_TYPE_BPE (see tokenizer.hpp).
//
// Merging works on symbol ids rather than strings: every piece named by a merge (both sides and the
// result) and every one-byte character gets an id when the encoder is built, so a merge is one hash lookup
// of the (left, right) id pair. Within a word the adjacent pairs that have a merge wait in a heap ordered
// by rank, then position; popping a pair merges it unless either side has changed since (a stale entry),
// and queues the two new pairs around the result. Each merge costs O(log n): O(n log n) per word.
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernels/bpe_pretokenizer.hpp"
#include "kernels/tokenizer_added.hpp"

namespace pice::kernels {

struct TokenizerState;

class BpeEncoder {
 public:
  // Reads state.vocab (merges, pre-tokenizer, user-defined tokens) and state.index, which must be built.
  // Throws TokenizerError for a malformed merge or an unknown pre-tokenizer.
  explicit BpeEncoder(const TokenizerState& state);

  // Appends the tokens of `text` to `out`. `state` is the one the encoder was built from.
  void encode(const TokenizerState& state, std::string_view text, std::vector<int32_t>& out) const;

  const PreTokenizer& pre_tokenizer() const { return pre_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;   // symbol id of the merged piece
  };
  struct Symbol {     // a piece of a word during merging
    int32_t id;       // symbol id; -1 once merged into its left neighbour
    int32_t prev, next;
    uint32_t start, size;   // bytes of the word it covers
  };
  struct Candidate {  // an adjacent pair that has a merge
    int32_t rank;
    int32_t left, right;            // positions in the word's symbols
    int32_t left_id, right_id;      // their ids when queued: a mismatch later means the entry is stale
    int32_t result;                 // symbol id of the merged piece
  };
  // Heap order: the top is the lowest rank, then the leftmost pair.
  static bool worse(const Candidate& a, const Candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
  struct Scratch {    // buffers reused across the words of one encode() call
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
    std::string mapped;
  };

  void encode_word(const TokenizerState& state, std::string_view word, Scratch& scratch,
                   std::vector<int32_t>& out) const;
  // Queues the pair (left, its next) if it has a merge; keep_heap: restore the heap order after it.
  void try_queue(const std::vector<Symbol>& symbols, int32_t left, std::vector<Candidate>& heap, bool keep_heap) const;
  bool lacks_token(char byte) const {
    return symbol_token_[static_cast<size_t>(byte_symbol_[static_cast<unsigned char>(byte)])] < 0;
  }
  // Appends the token of a symbol left after merging, or of each of its bytes if the vocab lacks it.
  void emit(std::string_view word, const Symbol& symbol, std::vector<int32_t>& out) const;

  PreTokenizer pre_;
  AddedTokens added_;
  std::unordered_map<uint64_t, Merge> merges_;   // (left id << 32 | right id) -> merge
  std::vector<int32_t> symbol_token_;            // symbol id -> token id, or -1 if not a vocab piece
  std::array<int32_t, 256> byte_symbol_{};       // byte -> symbol id of its alphabet character
  bool lacks_bytes_ = false;                     // some byte has no token of its own
};

}  // namespace pice::kernels
