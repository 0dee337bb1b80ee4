// Tokenizer construction (vocab validation and indexes), lookup and decoding.
// Encoding lives in tokenizer_spm.cpp, loading from GGUF in tokenizer_gguf.cpp.
#include "kernels/tokenizer.hpp"

#include <cmath>
#include <limits>
#include <string>

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
  check_special_id(vocab, vocab.bos, "BOS");
  check_special_id(vocab, vocab.eos, "EOS");
  check_special_id(vocab, vocab.unk, "unknown");
}

// True for the token types that stand for text the user wrote (see the header on special tokens).
bool is_text_type(TokenType type) {
  return type == TokenType::normal || type == TokenType::user_defined || type == TokenType::undefined;
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

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  normalize_and_check(vocab_);
  index_.reserve(vocab_.pieces.size());
  for (size_t id = 0; id < vocab_.pieces.size(); ++id) {
    index_.insert_or_assign(vocab_.pieces[id], static_cast<int32_t>(id));
  }
  // Byte fallback looks the pieces up by text, like llama.cpp, so a "<0xNN>" piece typed normal still counts.
  byte_token_.fill(-1);
  for (int byte = 0; byte < 256; ++byte) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string name{'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
    if (auto it = index_.find(name); it != index_.end()) byte_token_[static_cast<size_t>(byte)] = it->second;
  }
}

std::optional<int32_t> Tokenizer::find(std::string_view piece) const {
  const auto it = index_.find(piece);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::find_text_piece(std::string_view piece) const {
  const auto it = index_.find(piece);
  return it != index_.end() && is_text_type(type_of(it->second)) ? it->second : -1;
}

std::string Tokenizer::piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.pieces.size()) {
    throw TokenizerError("token id " + std::to_string(id) + " is outside the vocab of " +
                         std::to_string(vocab_.pieces.size()) + " tokens");
  }
  const std::string& text = vocab_.pieces[static_cast<size_t>(id)];
  switch (type_of(id)) {
    case TokenType::normal:
    case TokenType::undefined:
      return unescape_spaces(text);
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
  bool strip_space = vocab_.add_space_prefix;
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
