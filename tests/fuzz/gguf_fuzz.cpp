// The GGUF reader on arbitrary bytes: header, metadata (every getter on every key) and tensor table,
// then the tokenizer metadata reader (Tokenizer::from_gguf) on whatever parsed.
//
// Properties: only GgufError/TokenizerError escape, and a file that parses keeps open()'s promise:
// every tensor's size is its element count in blocks times the block size (computed here without
// overflow) and its data lies inside the bytes (touched at both ends, so ASan sees any read outside).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace k = pice::kernels;
using pice::fuzz::check;

volatile unsigned char sink;   // keeps the touched bytes from being optimised away

// Every getter that applies to the key's type, and the ones that must refuse it.
void read_key(const k::GgufFile& file, const std::string& key) {
  const k::GgufType type = file.type_of(key);
  try {
    switch (type) {
      case k::GgufType::string: sink = static_cast<unsigned char>(file.get_string(key).size()); break;
      case k::GgufType::boolean: sink = file.get_bool(key); break;
      case k::GgufType::f32: case k::GgufType::f64: sink = file.get_float(key) > 0; break;
      case k::GgufType::array: {
        const k::GgufType elem = file.array_type_of(key);
        sink = static_cast<unsigned char>(file.array_size_of(key));
        if (elem == k::GgufType::string) sink = static_cast<unsigned char>(file.get_string_array(key).size());
        try { sink = static_cast<unsigned char>(file.get_float_array(key).size()); } catch (const k::GgufError&) {}
        try { sink = static_cast<unsigned char>(file.get_int_array(key).size()); } catch (const k::GgufError&) {}
        break;
      }
      default: sink = static_cast<unsigned char>(file.get_int(key)); break;   // the integer types
    }
  } catch (const k::GgufError&) {
    // get_int of a u64 above INT64_MAX, an int array element that overflows: refused by name.
  }
  try { sink = file.get_bool(key); } catch (const k::GgufError&) {}
  try { sink = static_cast<unsigned char>(file.get_string(key).size()); } catch (const k::GgufError&) {}
}

void check_tensor(const k::GgufFile& file, std::span<const std::byte> bytes, const k::TensorInfo& t) {
  const unsigned __int128 block = k::tensor_type_block_elements(t.type);
  unsigned __int128 elements = 1;
  for (uint64_t d : t.dims) elements *= d;   // open() bounds the product by INT64_MAX: 128 bits hold it
  check(t.dims.size() <= 4, "tensor '" + t.name + "' has more than 4 dims");
  check(elements % block == 0, "tensor '" + t.name + "' is not a whole number of blocks");
  const unsigned __int128 expected = elements / block * k::tensor_type_block_bytes(t.type);
  check(expected == t.size_bytes, "tensor '" + t.name + "' size_bytes " + std::to_string(t.size_bytes) +
                                      " is not its elements in blocks times the block size (overflow?)");
  const std::byte* data = file.tensor_data(t);
  const auto begin = static_cast<unsigned __int128>(data - bytes.data());
  check(data >= bytes.data() && begin + t.size_bytes <= bytes.size(),
        "tensor '" + t.name + "' data lies outside the file");
  if (t.size_bytes > 0) sink = static_cast<unsigned char>(data[0]) ^ static_cast<unsigned char>(data[t.size_bytes - 1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const k::GgufFile file = k::GgufFile::view(bytes, "fuzz.gguf");
    check(file.data_offset() % file.alignment() == 0, "data offset not aligned");
    for (const std::string& key : file.keys()) read_key(file, key);
    for (const k::TensorInfo& t : file.tensors()) check_tensor(file, bytes, t);
    try {
      const k::Tokenizer tok = k::Tokenizer::from_gguf(file);
      // A vocab that loads must tokenize: a short text, and its ids back.
      const auto ids = tok.encode("Hello world \xE2\x96\x81 \xF0\x9F\x98\x80", true);
      sink = static_cast<unsigned char>(tok.decode(ids).size());
    } catch (const k::TokenizerError&) {
    }
  } catch (const k::GgufError&) {
  }
  return 0;
}
