// Byte-level BPE: symbol tables built from the merges, and merging within words.
#include "kernels/tokenizer_bpe.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <string>

#include "kernels/byte_level.hpp"
#include "kernels/tokenizer_state.hpp"

namespace pice::kernels {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right);
}

std::string hex_byte(unsigned char b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {'0', 'x', kHex[b >> 4], kHex[b & 15]};
}

}  // namespace

BpeEncoder::BpeEncoder(const TokenizerState& state) : pre_(state.vocab.pre), added_(state.vocab) {
  const std::vector<std::string>& merges = state.vocab.merges;
  if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw TokenizerError("vocab: " + std::to_string(merges.size()) + " merges do not fit 32-bit ranks");
  }
  // Symbol text -> id, only needed while building: afterwards symbols are ids and their tokens. The keys
  // view the vocab's pieces, so building allocates no string per symbol; only text that is not a piece
  // (in a broken vocab) needs a copy.
  std::unordered_map<std::string_view, int32_t> ids;
  std::deque<std::string> unlisted;
  ids.reserve(merges.size() * 2 + 256);
  const auto intern = [&](std::string_view text) {
    if (const auto it = ids.find(text); it != ids.end()) return it->second;
    const auto id = static_cast<int32_t>(symbol_token_.size());
    // Only pieces that decode to the symbol's bytes count: DeepSeek's user-defined 'õ' (the character of
    // byte 0xF5) decodes to the UTF-8 of 'õ', so it cannot stand for the byte.
    const int32_t token = state.find(text);
    const bool byte_level = token >= 0 && (state.type_of(token) == TokenType::normal ||
                                           state.type_of(token) == TokenType::undefined);
    symbol_token_.push_back(byte_level ? token : -1);
    const std::string_view key = token >= 0 ? std::string_view(state.vocab.pieces[static_cast<size_t>(token)])
                                            : std::string_view(unlisted.emplace_back(text));
    ids.emplace(key, id);
    return id;
  };
  for (unsigned b = 0; b < 256; ++b) {
    byte_symbol_[b] = intern(byte_level::char_of(static_cast<unsigned char>(b)));
    lacks_bytes_ = lacks_bytes_ || lacks_token(static_cast<char>(b));
  }

  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& merge = merges[rank];
    // As llama.cpp: the first space after the first character separates the two sides.
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 == merge.size()) {
      throw TokenizerError("vocab: merge " + std::to_string(rank) + " '" + merge +
                           "' is not two pieces separated by a space");
    }
    const std::string_view left = std::string_view(merge).substr(0, space);
    const std::string_view right = std::string_view(merge).substr(space + 1);
    joined.assign(left).append(right);
    const int32_t left_id = intern(left);
    const int32_t right_id = intern(right);
    const int32_t result = intern(joined);
    // A pair listed twice keeps its best rank (llama.cpp keeps the first too).
    merges_.try_emplace(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), result});
  }
}

void BpeEncoder::encode(const TokenizerState& state, std::string_view text, std::vector<int32_t>& out) const {
  std::string replaced;
  if (lacks_bytes_ && std::any_of(text.begin(), text.end(), [&](char c) { return lacks_token(c); })) {
    // Bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5..0xFF) are missing from vocabs trained on UTF-8 text:
    // encode them as U+FFFD, as llama.cpp does for any malformed UTF-8.
    replaced.reserve(text.size() + 16);
    for (char c : text) {
      if (lacks_token(c)) {
        replaced += "\xEF\xBF\xBD";
      } else {
        replaced.push_back(c);
      }
    }
    text = replaced;
  }
  Scratch scratch;
  for (const AddedTokens::Segment& segment : added_.split(text)) {
    if (segment.token >= 0) {
      out.push_back(segment.token);
      continue;
    }
    for (std::string_view word : pre_.split(segment.text)) encode_word(state, word, scratch, out);
  }
}

void BpeEncoder::encode_word(const TokenizerState& state, std::string_view word, Scratch& scratch,
                             std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (pre_.ignore_merges()) {
    scratch.mapped.clear();
    byte_level::append_encoded(word, scratch.mapped);
    if (const int32_t id = state.find(scratch.mapped); id >= 0) {
      out.push_back(id);
      return;
    }
  }

  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.clear();
  const auto n = static_cast<int32_t>(word.size());
  for (int32_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned char>(word[static_cast<size_t>(i)]);
    symbols.push_back({byte_symbol_[byte], i - 1, i + 1 < n ? i + 1 : -1, static_cast<uint32_t>(i), 1});
  }

  std::vector<Candidate>& heap = scratch.heap;
  heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) try_queue(symbols, i, heap, false);
  std::make_heap(heap.begin(), heap.end(), worse);   // O(n), where n pushes would cost O(n log n)
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    const Candidate pair = heap.back();
    heap.pop_back();
    Symbol& left = symbols[static_cast<size_t>(pair.left)];
    Symbol& right = symbols[static_cast<size_t>(pair.right)];
    if (left.id != pair.left_id || right.id != pair.right_id || left.next != pair.right) continue;
    left.id = pair.result;
    left.size += right.size;
    left.next = right.next;
    right.id = -1;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = pair.left;
    if (left.prev >= 0) try_queue(symbols, left.prev, heap, true);
    try_queue(symbols, pair.left, heap, true);
  }
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) emit(word, symbols[static_cast<size_t>(i)], out);
}

void BpeEncoder::try_queue(const std::vector<Symbol>& symbols, int32_t left, std::vector<Candidate>& heap,
                           bool keep_heap) const {
  const Symbol& l = symbols[static_cast<size_t>(left)];
  if (l.next < 0) return;
  const Symbol& r = symbols[static_cast<size_t>(l.next)];
  const auto it = merges_.find(pair_key(l.id, r.id));
  if (it == merges_.end()) return;
  heap.push_back({it->second.rank, left, l.next, l.id, r.id, it->second.result});
  if (keep_heap) std::push_heap(heap.begin(), heap.end(), worse);
}

void BpeEncoder::emit(std::string_view word, const Symbol& symbol, std::vector<int32_t>& out) const {
  if (const int32_t token = symbol_token_[static_cast<size_t>(symbol.id)]; token >= 0) {
    out.push_back(token);
    return;
  }
  // A merge whose result is not a vocab piece (a broken vocab): fall back to one token per byte.
  for (char c : word.substr(symbol.start, symbol.size)) {
    const auto byte = static_cast<unsigned char>(c);
    const int32_t token = symbol_token_[static_cast<size_t>(byte_symbol_[byte])];
    if (token < 0) {
      throw TokenizerError("cannot encode the byte " + hex_byte(byte) + ": the vocab has no token for its character '" +
                           std::string(byte_level::char_of(byte)) + "'");
    }
    out.push_back(token);
  }
}

}  // namespace pice::kernels
