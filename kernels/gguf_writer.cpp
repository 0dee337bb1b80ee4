#include "kernels/gguf_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include "kernels/quant.hpp"

namespace pice::kernels {
namespace {

template <class T>
constexpr GgufType gguf_type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return GgufType::u8;
  else if constexpr (std::is_same_v<T, int8_t>) return GgufType::i8;
  else if constexpr (std::is_same_v<T, uint16_t>) return GgufType::u16;
  else if constexpr (std::is_same_v<T, int16_t>) return GgufType::i16;
  else if constexpr (std::is_same_v<T, uint32_t>) return GgufType::u32;
  else if constexpr (std::is_same_v<T, int32_t>) return GgufType::i32;
  else if constexpr (std::is_same_v<T, uint64_t>) return GgufType::u64;
  else if constexpr (std::is_same_v<T, int64_t>) return GgufType::i64;
  else if constexpr (std::is_same_v<T, float>) return GgufType::f32;
  else if constexpr (std::is_same_v<T, double>) return GgufType::f64;
  else static_assert(sizeof(T) == 0, "not a GGUF scalar type");
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// A FILE* that reports every failure with the path, and closes on scope exit.
class OutFile {
 public:
  explicit OutFile(const std::filesystem::path& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) fail(std::string("cannot create: ") + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  }
  ~OutFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  void write(const void* data, size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, f_) != n) fail(std::string("write failed: ") + std::strerror(errno));
    written_ += n;
  }
  void pad_to(uint64_t alignment) {
    static const char zeros[64] = {};
    uint64_t pad = align_up(written_, alignment) - written_;
    while (pad > 0) {
      const uint64_t n = std::min<uint64_t>(pad, sizeof zeros);
      write(zeros, n);
      pad -= n;
    }
  }
  void close() {
    FILE* f = std::exchange(f_, nullptr);
    if (std::fclose(f) != 0) fail(std::string("close failed: ") + std::strerror(errno));
  }
  uint64_t written() const { return written_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw GgufError("gguf writer " + path_.string() + ": " + what);
  }
  std::filesystem::path path_;
  FILE* f_;
  uint64_t written_ = 0;
};

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw GgufError("gguf writer: alignment " + std::to_string(alignment) + " is not a power of two");
  if (alignment != 32) set_u32("general.alignment", static_cast<uint32_t>(alignment));
}

template <class T>
void GgufWriter::append(T value) {
  metadata_.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void GgufWriter::append_string(std::string_view s) {
  append<uint64_t>(s.size());
  metadata_.append(s);
}

void GgufWriter::begin_entry(std::string key, GgufType type) {
  if (keys_.count(key) != 0) throw GgufError("gguf writer: metadata key '" + key + "' set twice");
  append_string(key);
  append<uint32_t>(static_cast<uint32_t>(type));
  keys_.insert(std::move(key));
  ++n_entries_;
}

#define PICE_GGUF_SETTER(name, T)                  \
  void GgufWriter::name(std::string key, T value) { \
    begin_entry(std::move(key), gguf_type_of<T>()); \
    append<T>(value);                               \
  }
PICE_GGUF_SETTER(set_u8, uint8_t)
PICE_GGUF_SETTER(set_i8, int8_t)
PICE_GGUF_SETTER(set_u16, uint16_t)
PICE_GGUF_SETTER(set_i16, int16_t)
PICE_GGUF_SETTER(set_u32, uint32_t)
PICE_GGUF_SETTER(set_i32, int32_t)
PICE_GGUF_SETTER(set_u64, uint64_t)
PICE_GGUF_SETTER(set_i64, int64_t)
PICE_GGUF_SETTER(set_f32, float)
PICE_GGUF_SETTER(set_f64, double)
#undef PICE_GGUF_SETTER

void GgufWriter::set_bool(std::string key, bool value) {
  begin_entry(std::move(key), GgufType::boolean);
  append<uint8_t>(value ? 1 : 0);
}

void GgufWriter::set_string(std::string key, std::string_view value) {
  begin_entry(std::move(key), GgufType::string);
  append_string(value);
}

template <class T>
void GgufWriter::set_array(std::string key, std::span<const T> values) {
  begin_entry(std::move(key), GgufType::array);
  append<uint32_t>(static_cast<uint32_t>(gguf_type_of<T>()));
  append<uint64_t>(values.size());
  metadata_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}
template void GgufWriter::set_array<uint8_t>(std::string, std::span<const uint8_t>);
template void GgufWriter::set_array<int8_t>(std::string, std::span<const int8_t>);
template void GgufWriter::set_array<uint16_t>(std::string, std::span<const uint16_t>);
template void GgufWriter::set_array<int16_t>(std::string, std::span<const int16_t>);
template void GgufWriter::set_array<uint32_t>(std::string, std::span<const uint32_t>);
template void GgufWriter::set_array<int32_t>(std::string, std::span<const int32_t>);
template void GgufWriter::set_array<uint64_t>(std::string, std::span<const uint64_t>);
template void GgufWriter::set_array<int64_t>(std::string, std::span<const int64_t>);
template void GgufWriter::set_array<float>(std::string, std::span<const float>);
template void GgufWriter::set_array<double>(std::string, std::span<const double>);

void GgufWriter::set_bool_array(std::string key, const std::vector<bool>& values) {
  begin_entry(std::move(key), GgufType::array);
  append<uint32_t>(static_cast<uint32_t>(GgufType::boolean));
  append<uint64_t>(values.size());
  for (bool b : values) append<uint8_t>(b ? 1 : 0);
}

void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& values) {
  begin_entry(std::move(key), GgufType::array);
  append<uint32_t>(static_cast<uint32_t>(GgufType::string));
  append<uint64_t>(values.size());
  for (const std::string& s : values) append_string(s);
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, RowFiller fill) {
  if (!is_supported_type(type))
    throw GgufError("gguf writer: tensor '" + name + "': type " + std::string(tensor_type_name(type)) +
                    " cannot be written (" + supported_types_text() + ")");
  if (dims.empty() || dims.size() > 4)
    throw GgufError("gguf writer: tensor '" + name + "' needs 1 to 4 dimensions");
  if (const uint64_t block = tensor_type_block_elements(type); dims[0] % block != 0 || dims[0] > (1u << 30))
    throw GgufError("gguf writer: tensor '" + name + "' of type " + std::string(tensor_type_name(type)) +
                    " has row length " + std::to_string(dims[0]) + ", not a multiple of its block size " +
                    std::to_string(block));
  for (const PendingTensor& t : tensors_)
    if (t.name == name) throw GgufError("gguf writer: tensor '" + name + "' added twice");
  tensors_.push_back(PendingTensor{std::move(name), std::move(dims), type, std::move(fill)});
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, std::vector<float> data) {
  uint64_t elements = 1;
  for (uint64_t d : dims) elements *= d;
  if (elements != data.size())
    throw GgufError("gguf writer: tensor '" + name + "' has " + std::to_string(data.size()) +
                    " values for " + std::to_string(elements) + " elements");
  const uint64_t row = dims.empty() ? 0 : dims[0];
  auto shared = std::make_shared<const std::vector<float>>(std::move(data));
  add_tensor(std::move(name), std::move(dims), type, [shared, row](uint64_t r, std::span<float> out) {
    std::copy_n(shared->begin() + static_cast<std::ptrdiff_t>(r * row), row, out.begin());
  });
}

void GgufWriter::write(const std::filesystem::path& path) const {
  OutFile out(path);
  out.write("GGUF", 4);
  const uint32_t version = 3;
  const uint64_t n_tensors = tensors_.size();
  out.write(&version, 4);
  out.write(&n_tensors, 8);
  out.write(&n_entries_, 8);
  out.write(metadata_.data(), metadata_.size());

  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    const uint64_t name_len = t.name.size();
    const auto n_dims = static_cast<uint32_t>(t.dims.size());
    const auto type = static_cast<uint32_t>(t.type);
    out.write(&name_len, 8);
    out.write(t.name.data(), t.name.size());
    out.write(&n_dims, 4);
    out.write(t.dims.data(), t.dims.size() * 8);
    out.write(&type, 4);
    out.write(&offset, 8);
    uint64_t rows = 1;
    for (size_t d = 1; d < t.dims.size(); ++d) rows *= t.dims[d];
    offset = align_up(offset + rows * row_bytes(t.type, static_cast<int>(t.dims[0])), alignment_);
  }

  std::vector<float> row;
  std::vector<std::byte> encoded;
  for (const PendingTensor& t : tensors_) {
    out.pad_to(alignment_);
    uint64_t rows = 1;
    for (size_t d = 1; d < t.dims.size(); ++d) rows *= t.dims[d];
    const int n = static_cast<int>(t.dims[0]);
    row.assign(t.dims[0], 0.0f);
    encoded.resize(row_bytes(t.type, n));
    for (uint64_t r = 0; r < rows; ++r) {
      t.fill(r, row);
      quantize_row(t.type, row.data(), encoded.data(), n);
      out.write(encoded.data(), encoded.size());
    }
  }
  out.close();
}

}  // namespace pice::kernels
