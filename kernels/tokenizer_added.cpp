// AddedTokens: a byte trie of the user-defined tokens, scanned leftmost-longest.
#include "kernels/tokenizer_added.hpp"

namespace pice::kernels {
namespace {

uint64_t edge(int32_t node, unsigned char byte) { return static_cast<uint64_t>(node) << 8 | byte; }

}  // namespace

AddedTokens::AddedTokens(const Vocab& vocab) : nodes_{-1} {
  for (size_t id = 0; id < vocab.pieces.size(); ++id) {
    if (vocab.types[id] != TokenType::user_defined || vocab.pieces[id].empty()) continue;
    int32_t node = 0;
    for (char c : vocab.pieces[id]) {
      const auto [it, inserted] = children_.try_emplace(edge(node, static_cast<unsigned char>(c)),
                                                        static_cast<int32_t>(nodes_.size()));
      if (inserted) nodes_.push_back(-1);
      node = it->second;
    }
    nodes_[static_cast<size_t>(node)] = static_cast<int32_t>(id);
  }
}

int32_t AddedTokens::child(int32_t node, unsigned char byte) const {
  const auto it = children_.find(edge(node, byte));
  return it == children_.end() ? -1 : it->second;
}

std::vector<AddedTokens::Segment> AddedTokens::split(std::string_view text) const {
  std::vector<Segment> segments;
  if (empty()) {
    if (!text.empty()) segments.push_back({text, -1});
    return segments;
  }
  size_t raw_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t token = -1;
    size_t token_end = 0;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      if (nodes_[static_cast<size_t>(node)] >= 0) {
        token = nodes_[static_cast<size_t>(node)];
        token_end = i + 1;
      }
    }
    if (token < 0) {
      ++pos;
      continue;
    }
    if (pos > raw_start) segments.push_back({text.substr(raw_start, pos - raw_start), -1});
    segments.push_back({text.substr(pos, token_end - pos), token});
    pos = raw_start = token_end;
  }
  if (raw_start < text.size()) segments.push_back({text.substr(raw_start), -1});
  return segments;
}

}  // namespace pice::kernels
