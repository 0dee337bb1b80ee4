#pragma once
// Pre-tokenizers of byte-level BPE vocabs, named as in tokenizer.ggml.pre.
//
// A pre-tokenizer cuts text into words before any merging, so merges never cross a word boundary (a space
// starts a word, digits are grouped by three or kept apart, ...). Each is a list of regular expressions,
// the ones its model publishes (tokenizer.json), run with PCRE2 in UTF + UCP mode so that \p{L}, \p{N},
// \s and lookahead mean what they mean there. The first expression cuts the whole text; each next one
// cuts every piece left by the previous one on its own (it cannot see past the piece's ends). A cut keeps
// both the matches and the stretches between them, as HuggingFace's Split(behavior: Isolated) and
// llama.cpp's unicode_regex_split do; so the words always add up to the text.
//
// Malformed UTF-8 is matched as U+FFFD (as llama.cpp does), but the words keep the original bytes.
// A PreTokenizer is immutable: split() is safe to call from many threads at once.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pice::kernels {

class PreTokenizer {
 public:
  // Throws TokenizerError for a name it does not know, listing the ones it knows.
  explicit PreTokenizer(std::string_view name);

  // The words of `text`, in order, as views into it; they add up to exactly `text`.
  std::vector<std::string_view> split(std::string_view text) const;

  const std::string& name() const { return name_; }
  // Whether a word that is a vocab token as a whole skips merging (llama 3 and tekken, as in llama.cpp).
  bool ignore_merges() const { return ignore_merges_; }
  // Whether the models of this pre-tokenizer expect a BOS when the GGUF does not say (llama.cpp's default).
  bool adds_bos() const { return adds_bos_; }

  // Every name accepted, sorted.
  static std::vector<std::string> known_names();

 private:
  struct Pattern;   // a compiled PCRE2 expression

  std::string name_;
  bool ignore_merges_ = false;
  bool adds_bos_ = false;
  std::vector<std::shared_ptr<const Pattern>> patterns_;
};

}  // namespace pice::kernels
