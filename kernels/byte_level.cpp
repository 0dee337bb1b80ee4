// GPT-2's byte-level alphabet: tables built once, on first use.
#include "kernels/byte_level.hpp"

#include <array>
#include <cstdint>

#include "kernels/utf8.hpp"

namespace pice::kernels::byte_level {
namespace {

constexpr char32_t kFirstShifted = 0x100;   // the first character given to a byte that is not printable
constexpr size_t kShiftedCount = 68;

bool stands_for_itself(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Tables {
  std::array<std::string, 256> text_of_byte;                      // byte -> UTF-8 of its character
  std::array<int16_t, kFirstShifted + kShiftedCount> byte_of{};   // character -> byte, or -1

  Tables() {
    byte_of.fill(-1);
    char32_t next_shifted = kFirstShifted;
    for (unsigned b = 0; b < 256; ++b) {
      const char32_t cp = stands_for_itself(b) ? static_cast<char32_t>(b) : next_shifted++;
      utf8::append(cp, text_of_byte[b]);
      byte_of[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables instance;
  return instance;
}

}  // namespace

std::string_view char_of(unsigned char byte) { return tables().text_of_byte[byte]; }

void append_encoded(std::string_view raw, std::string& out) {
  const Tables& t = tables();
  for (char c : raw) out += t.text_of_byte[static_cast<unsigned char>(c)];
}

std::string decode(std::string_view text) {
  const Tables& t = tables();
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = utf8::valid_length(text, pos);
    if (length == 0) {   // malformed: keep the byte
      out.push_back(text[pos++]);
      continue;
    }
    const char32_t cp = utf8::decode(text, pos, length);
    if (cp < t.byte_of.size() && t.byte_of[cp] >= 0) {
      out.push_back(static_cast<char>(t.byte_of[cp]));
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

}  // namespace pice::kernels::byte_level
