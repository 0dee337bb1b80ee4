// Tokenizer construction (vocab validation and indexes), dispatch of encoding, lookup and decoding.
// Encoding lives in tokenizer_spm.cpp and tokenizer_bpe.cpp, loading from GGUF in tokenizer_gguf.cpp.
#include "kernels/tokenizer.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "kernels/byte_level.hpp"
#include "kernels/tokenizer_state.hpp"

namespace pice::kernels {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";   // U+2581 '▁', SentencePiece's space

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte a "<0xNN>" piece stands for, or -1 if the piece has another shape.
int parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = hex_digit(piece[3]);
  const int lo = hex_digit(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string describe_token(const Vocab& vocab, size_t id) {
  return "token " + std::to_string(id) + " '" + vocab.pieces[id] + "'";
}

void check_special_id(const Vocab& vocab, int32_t id, std::string_view what) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= vocab.pieces.size())) {
    throw TokenizerError("vocab: " + std::string(what) + " token id " + std::to_string(id) +
                         " is outside the vocab of " + std::to_string(vocab.pieces.size()) + " tokens");
  }
}

// Fills in the optional arrays and rejects anything encode/decode could trip over.
void normalize_and_check(Vocab& vocab) {
  const size_t n = vocab.pieces.size();
  if (n == 0) throw TokenizerError("vocab: no tokens");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw TokenizerError("vocab: " + std::to_string(n) + " tokens do not fit 32-bit token ids");
  }
  if (vocab.scores.empty()) vocab.scores.assign(n, 0.0f);
  if (vocab.types.empty()) vocab.types.assign(n, TokenType::normal);
  if (vocab.scores.size() != n) {
    throw TokenizerError("vocab: " + std::to_string(vocab.scores.size()) + " scores for " +
                         std::to_string(n) + " tokens");
  }
  if (vocab.types.size() != n) {
    throw TokenizerError("vocab: " + std::to_string(vocab.types.size()) + " token types for " +
                         std::to_string(n) + " tokens");
  }
  for (size_t id = 0; id < n; ++id) {
    // A NaN score would break the ordering of the merge queue.
    if (std::isnan(vocab.scores[id])) throw TokenizerError("vocab: " + describe_token(vocab, id) + " has a NaN score");
    const auto type = static_cast<int32_t>(vocab.types[id]);
    if (type < static_cast<int32_t>(TokenType::undefined) || type > static_cast<int32_t>(TokenType::byte)) {
      throw TokenizerError("vocab: " + describe_token(vocab, id) + " has unknown token type " + std::to_string(type));
    }
    if (vocab.types[id] == TokenType::byte && parse_byte_piece(vocab.pieces[id]) < 0) {
      throw TokenizerError("vocab: " + describe_token(vocab, id) + " is a byte token but not of the form <0xNN>");
    }
  }
  if (vocab.kind == VocabKind::spm && !vocab.merges.empty()) {
    throw TokenizerError("vocab: " + std::to_string(vocab.merges.size()) +
                         " merges given for an SPM vocab (merges are for byte-level BPE)");
  }
  if (vocab.kind == VocabKind::bpe && vocab.add_space_prefix) {
    throw TokenizerError("vocab: add_space_prefix is set, but byte-level BPE adds no space prefix");
  }
  check_special_id(vocab, vocab.bos, "BOS");
  check_special_id(vocab, vocab.eos, "EOS");
  check_special_id(vocab, vocab.unk, "unknown");
}

std::string unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t mark = text.find(kSpaceMark, pos);
    if (mark == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, mark - pos));
    out.push_back(' ');
    pos = mark + kSpaceMark.size();
  }
  return out;
}

}  // namespace

TokenizerState::TokenizerState(Vocab v) : vocab(std::move(v)) {
  normalize_and_check(vocab);
  index.reserve(vocab.pieces.size());
  for (size_t id = 0; id < vocab.pieces.size(); ++id) {
    index.insert_or_assign(vocab.pieces[id], static_cast<int32_t>(id));
  }
  // Byte fallback looks the pieces up by text, like llama.cpp, so a "<0xNN>" piece typed normal still counts.
  byte_token.fill(-1);
  for (int byte = 0; byte < 256; ++byte) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string name{'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
    if (auto it = index.find(name); it != index.end()) byte_token[static_cast<size_t>(byte)] = it->second;
  }
  if (vocab.kind == VocabKind::bpe) bpe = std::make_unique<const BpeEncoder>(*this);
}

Tokenizer::Tokenizer(Vocab vocab) : state_(std::make_shared<const TokenizerState>(std::move(vocab))) {}

int32_t Tokenizer::bos() const { return state_->vocab.bos; }
int32_t Tokenizer::eos() const { return state_->vocab.eos; }
size_t Tokenizer::size() const { return state_->vocab.pieces.size(); }
const Vocab& Tokenizer::vocab() const { return state_->vocab; }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  return encode_text(text, add_bos, state_->vocab.add_space_prefix);
}

std::vector<int32_t> Tokenizer::encode_continuation(std::string_view text) const {
  return encode_text(text, false, false);
}

std::vector<int32_t> Tokenizer::encode_text(std::string_view text, bool add_bos, bool add_space_prefix) const {
  // Both encoders index bytes and symbols with 32-bit integers.
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw TokenizerError("cannot encode " + std::to_string(text.size()) + " bytes of text at once (limit 2 GiB)");
  }
  std::vector<int32_t> out;
  if (add_bos && state_->vocab.bos >= 0) out.push_back(state_->vocab.bos);
  if (text.empty()) return out;
  if (state_->bpe) {
    state_->bpe->encode(*state_, text, out);
  } else {
    encode_spm(*state_, text, add_space_prefix, out);
  }
  return out;
}

std::optional<int32_t> Tokenizer::find(std::string_view piece) const {
  const int32_t id = state_->find(piece);
  if (id < 0) return std::nullopt;
  return id;
}

std::string Tokenizer::piece(int32_t id) const {
  const Vocab& vocab = state_->vocab;
  if (id < 0 || static_cast<size_t>(id) >= vocab.pieces.size()) {
    throw TokenizerError("token id " + std::to_string(id) + " is outside the vocab of " +
                         std::to_string(vocab.pieces.size()) + " tokens");
  }
  const std::string& text = vocab.pieces[static_cast<size_t>(id)];
  switch (state_->type_of(id)) {
    case TokenType::normal:
    case TokenType::undefined:
      return vocab.kind == VocabKind::bpe ? byte_level::decode(text) : unescape_spaces(text);
    case TokenType::user_defined:   // llama.cpp emits these verbatim
      return text;
    case TokenType::byte:
      return std::string(1, static_cast<char>(parse_byte_piece(text)));
    case TokenType::control:
    case TokenType::unknown:
    case TokenType::unused:
      break;
  }
  return {};
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  // The space prefix added by encode() shows up as a leading space of the first token that has text
  // (a BOS before it has none); remove exactly that one, as llama.cpp's detokenizer does.
  bool strip_space = state_->vocab.add_space_prefix;
  for (int32_t id : ids) {
    std::string text = piece(id);
    if (strip_space && !text.empty()) {
      if (text.front() == ' ') text.erase(0, 1);
      strip_space = false;
    }
    out += text;
  }
  return out;
}

}  // namespace pice::kernels
