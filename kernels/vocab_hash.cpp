#include "kernels/vocab_hash.hpp"

#include <bit>
#include <string_view>

namespace pice::kernels {
namespace {

class Fnv1a {
 public:
  void bytes(std::string_view data) {
    for (const char c : data) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  void number(uint64_t value) {
    for (int i = 0; i < 8; ++i) bytes(std::string_view(reinterpret_cast<const char*>(&value) + i, 1));
  }
  // Length first, so ["ab", "c"] and ["a", "bc"] differ.
  void text(std::string_view data) {
    number(data.size());
    bytes(data);
  }
  uint64_t value() const { return hash_ ? hash_ : 1; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

uint64_t vocab_hash(const Vocab& vocab) {
  Fnv1a h;
  h.number(static_cast<uint64_t>(vocab.kind));
  h.number(vocab.pieces.size());
  for (const auto& piece : vocab.pieces) h.text(piece);
  h.number(vocab.scores.size());
  for (const float score : vocab.scores) h.number(std::bit_cast<uint32_t>(score));
  h.number(vocab.types.size());
  for (const TokenType type : vocab.types) h.number(static_cast<uint64_t>(type));
  for (const int32_t id : {vocab.bos, vocab.eos, vocab.unk}) h.number(static_cast<uint64_t>(static_cast<int64_t>(id)));
  h.number(vocab.add_bos);
  h.number(vocab.add_space_prefix);
  h.number(vocab.merges.size());
  for (const auto& merge : vocab.merges) h.text(merge);
  h.text(vocab.pre);
  return h.value();
}

}  // namespace pice::kernels
