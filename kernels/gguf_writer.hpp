#pragma once
// Writes GGUF version 3 files: typed metadata and tensors of any supported type (quant.hpp).
//
// Tensor data is produced row by row through a callback at write() time, so multi-gigabyte synthetic
// models never need to be held in memory.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/gguf_file.hpp"

namespace pice::kernels {

class GgufWriter {
 public:
  // Fills one row (dims[0] values) of a tensor; rows are requested in order 0, 1, 2, ...
  using RowFiller = std::function<void(uint64_t row, std::span<float> out)>;

  explicit GgufWriter(uint64_t alignment = 32);   // a non-default alignment is recorded as general.alignment

  // Metadata, in the order set; each key once (a repeated key throws GgufError).
  void set_u8(std::string key, uint8_t value);
  void set_i8(std::string key, int8_t value);
  void set_u16(std::string key, uint16_t value);
  void set_i16(std::string key, int16_t value);
  void set_u32(std::string key, uint32_t value);
  void set_i32(std::string key, int32_t value);
  void set_u64(std::string key, uint64_t value);
  void set_i64(std::string key, int64_t value);
  void set_f32(std::string key, float value);
  void set_f64(std::string key, double value);
  void set_bool(std::string key, bool value);
  void set_string(std::string key, std::string_view value);
  // T: uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, uint64_t, int64_t, float or double.
  template <class T>
  void set_array(std::string key, std::span<const T> values);
  void set_bool_array(std::string key, const std::vector<bool>& values);
  void set_string_array(std::string key, const std::vector<std::string>& values);

  // type: any supported type (quant.hpp), with dims[0] a multiple of its block size (GgufError
  // otherwise); the filler's floats are converted (quantized) row by row at write().
  void add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, RowFiller fill);
  void add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, std::vector<float> data);

  void write(const std::filesystem::path& path) const;   // throws GgufError naming the path

 private:
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    TensorType type;
    RowFiller fill;
  };
  void begin_entry(std::string key, GgufType type);
  void append_string(std::string_view s);
  template <class T>
  void append(T value);

  uint64_t alignment_;
  uint64_t n_entries_ = 0;
  std::string metadata_;   // encoded key/type/value triples
  std::set<std::string, std::less<>> keys_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace pice::kernels
