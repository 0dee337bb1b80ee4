#pragma once
// GPT-2's byte-level alphabet, used by every byte-level BPE vocab: each of the 256 byte values stands for
// one printable character, so any byte string is a string of "characters" that merges can work on and
// that a vocab file can store as text. Printable Latin-1 bytes (0x21..0x7E, 0xA1..0xAC, 0xAE..0xFF)
// stand for themselves; the other 68 (controls, space, 0x7F..0xA0, 0xAD) for U+0100.. in byte order,
// so ' ' is 'Ġ' (U+0120) and '\n' is 'Ċ' (U+010A).
#include <string>
#include <string_view>

namespace pice::kernels::byte_level {

// The UTF-8 text of the character that stands for `byte`.
std::string_view char_of(unsigned char byte);

// Appends the characters that stand for the bytes of `raw`.
void append_encoded(std::string_view raw, std::string& out);

// The bytes that the characters of `text` stand for. Text that is not of the alphabet (a character
// outside it, malformed UTF-8) is kept as it is, so nothing a vocab holds is lost.
std::string decode(std::string_view text);

}  // namespace pice::kernels::byte_level
