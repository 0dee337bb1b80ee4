// `pice tokenize`: the token ids of a text under a model's vocabulary (like llama.cpp's llama-tokenize).
// Only the tokenizer metadata is read, so a vocab-only GGUF (shared/tokenizers/ggml-vocab-*.gguf) works.
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "actors/cli/commands.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/synth.hpp"
#include "kernels/tokenizer.hpp"
#include "kernels/utf8.hpp"

namespace pice::cli {
namespace {

namespace k = pice::kernels;

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw std::runtime_error("error while reading " + path);
  return content.str();
}

// A token's bytes in double quotes with every byte visible: \n \r \t \" \\ and \xNN for the other
// control bytes and for bytes of an incomplete UTF-8 sequence (a token may hold half a character).
std::string visible(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c >= 0x80) {
      // Keep a whole well-formed sequence as it is; escape anything else byte by byte.
      const size_t length = k::utf8::valid_length(bytes, i);
      if (length > 0) {
        out.append(bytes.substr(i, length));
        i += length - 1;
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// id:"bytes" for tokens of text; id:<piece> for control, unknown and unused tokens, which have no text.
std::string describe(const k::Tokenizer& tokenizer, int32_t id) {
  const std::string text = tokenizer.piece(id);
  const k::TokenType type = tokenizer.vocab().types[static_cast<size_t>(id)];
  const bool special = type == k::TokenType::control || type == k::TokenType::unknown || type == k::TokenType::unused;
  if (special && text.empty()) return std::to_string(id) + ":" + tokenizer.vocab().pieces[static_cast<size_t>(id)];
  return std::to_string(id) + ":" + visible(text);
}

}  // namespace

int run_tokenize(const TokenizeOptions& options) {
  try {
    if (options.text.has_value() == options.file.has_value()) {
      throw std::invalid_argument("give exactly one of --text and --file");
    }
    const std::string text = options.text ? *options.text : read_whole_file(*options.file);
    const k::GgufFile file = k::GgufFile::open(k::resolve_model_path(options.model));
    const k::Tokenizer tokenizer = k::Tokenizer::from_gguf(file);
    std::string line;
    for (int32_t id : tokenizer.encode(text, options.add_bos)) {
      if (!line.empty()) line += ' ';
      line += options.show_pieces ? describe(tokenizer, id) : std::to_string(id);
    }
    std::cout << line << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice tokenize: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
