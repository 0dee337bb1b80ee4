#pragma once
// A fingerprint of a vocabulary: two tokenizers with the same hash turn the same text into the same
// ids and back. Nodes compare hashes (heartbeats, tasks) before sending token ids instead of text.
#include <cstdint>

#include "kernels/tokenizer.hpp"

namespace pice::kernels {

// 64-bit FNV-1a over everything that decides encoding and decoding: the kind, every piece, score and
// type, the special ids and flags, the merges and the pre-tokenizer. Never 0 (0 means "not known").
uint64_t vocab_hash(const Vocab& vocab);

}  // namespace pice::kernels
