#pragma once
// Added tokens found in raw text before pre-tokenization: the user-defined tokens of a byte-level BPE vocab
// (HuggingFace's non-special added tokens, such as MPT's runs of spaces or DeepSeek's stray Latin-1
// letters). They are matched even though special tokens are not parsed, as in HuggingFace and llama.cpp.
//
// Matching is leftmost-longest (HuggingFace's rule): scanning left to right, the longest added token that
// starts at a position wins. llama.cpp instead takes the tokens longest first over the whole text; the two
// agree unless two added tokens overlap in the text. A trie makes the scan O(text x longest token).
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernels/tokenizer.hpp"

namespace pice::kernels {

class AddedTokens {
 public:
  // The vocab's user-defined tokens; for duplicate texts the last id wins (as in the piece index).
  explicit AddedTokens(const Vocab& vocab);

  struct Segment {
    std::string_view text;   // raw text when token < 0
    int32_t token = -1;      // else the added token found there
  };
  // The text cut into raw stretches and added tokens, in order; empty text gives no segments.
  std::vector<Segment> split(std::string_view text) const;

  bool empty() const { return nodes_.size() == 1; }

 private:
  int32_t child(int32_t node, unsigned char byte) const;

  std::vector<int32_t> nodes_;                        // trie node -> token ending there, or -1
  std::unordered_map<uint64_t, int32_t> children_;    // (node << 8 | byte) -> child node
};

}  // namespace pice::kernels
