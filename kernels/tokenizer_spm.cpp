// SPM encoding: greedy merging of adjacent symbols by piece score, then byte fallback.
//
// The text is cut into UTF-8 characters (symbols kept in a doubly linked list over the escaped text).
// Every adjacent pair whose concatenation is a piece goes into a max-heap keyed by the piece's score
// (ties: leftmost first). Popping a pair merges it, unless one side has changed since it was queued,
// and queues the two new pairs around the merged symbol. Each merge costs O(log n): O(n log n) overall.
#include <algorithm>
#include <limits>
#include <queue>
#include <string>

#include "kernels/tokenizer_state.hpp"
#include "kernels/utf8.hpp"

namespace pice::kernels {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";   // U+2581 '▁'

// ' ' -> '▁', and one '▁' in front of non-empty text when the vocab wants a space prefix.
std::string escape(std::string_view text, bool add_space_prefix) {
  std::string out;
  out.reserve(text.size() + text.size() / 2 + kSpaceMark.size());
  if (add_space_prefix && !text.empty()) out += kSpaceMark;
  for (char c : text) {
    if (c == ' ') {
      out += kSpaceMark;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Symbol {
  size_t start;   // byte offset in the escaped text
  size_t size;    // 0 once merged into its left neighbour
  int prev;       // -1 at the ends
  int next;
};

struct Pair {
  int left;
  int right;
  float score;
  size_t size;    // bytes of both symbols when queued: a mismatch later means the pair is stale
};

struct PairOrder {   // "less" for std::priority_queue: the top is the highest score, then the leftmost
  bool operator()(const Pair& a, const Pair& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// True for the token types that stand for text the user wrote (see tokenizer.hpp on special tokens).
bool is_text_type(TokenType type) {
  return type == TokenType::normal || type == TokenType::user_defined || type == TokenType::undefined;
}

// The id of a piece that encoding may produce from text (normal, user-defined, undefined), or -1.
int32_t find_text_piece(const TokenizerState& state, std::string_view piece) {
  const int32_t id = state.find(piece);
  return id >= 0 && is_text_type(state.type_of(id)) ? id : -1;
}

// Appends the tokens of one symbol left after merging that is not a piece: byte tokens, else unk.
void append_fallback(const TokenizerState& state, std::string_view symbol, std::vector<int32_t>& out) {
  bool have_bytes = true;
  for (char c : symbol) have_bytes = have_bytes && state.byte_token[static_cast<unsigned char>(c)] >= 0;
  if (have_bytes) {
    for (char c : symbol) out.push_back(state.byte_token[static_cast<unsigned char>(c)]);
    return;
  }
  // No byte tokens (or only some): one unknown token stands for the whole character, as in SentencePiece.
  if (state.vocab.unk >= 0) {
    out.push_back(state.vocab.unk);
    return;
  }
  std::string hex;
  for (char c : symbol) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto b = static_cast<unsigned char>(c);
    hex += hex.empty() ? "0x" : " 0x";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  throw TokenizerError("cannot encode the character with bytes " + hex +
                       ": it is not in the vocab, which has neither byte tokens for it nor an unknown token");
}

}  // namespace

void encode_spm(const TokenizerState& state, std::string_view raw, bool add_space_prefix, std::vector<int32_t>& out) {
  if (raw.empty()) return;
  const std::string text = escape(raw, add_space_prefix);
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw TokenizerError("cannot encode " + std::to_string(raw.size()) + " bytes of text at once (limit 2 GiB)");
  }
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t size = std::min(text.size() - pos, utf8::lead_length(static_cast<unsigned char>(text[pos])));
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({pos, size, index - 1, index + 1});
    pos += size;
  }
  symbols.back().next = -1;

  std::priority_queue<Pair, std::vector<Pair>, PairOrder> queue;
  const auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const size_t size = l.size + r.size;
    // Adjacent symbols are adjacent in the text, so their concatenation is a substring: no copy.
    const int32_t id = find_text_piece(state, std::string_view(text).substr(l.start, size));
    if (id >= 0) queue.push({left, right, state.score_of(id), size});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_pair(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    const Pair pair = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(pair.left)];
    Symbol& right = symbols[static_cast<size_t>(pair.right)];
    // Symbols only grow, so an unchanged total size means neither side has merged since queuing.
    if (left.size == 0 || right.size == 0 || left.size + right.size != pair.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = pair.left;
    try_pair(left.prev, pair.left);
    try_pair(pair.left, left.next);
  }

  for (int i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& symbol = symbols[static_cast<size_t>(i)];
    const std::string_view piece = std::string_view(text).substr(symbol.start, symbol.size);
    const int32_t id = find_text_piece(state, piece);
    if (id >= 0) {
      out.push_back(id);
    } else {
      append_fallback(state, piece, out);
    }
  }
}

}  // namespace pice::kernels
