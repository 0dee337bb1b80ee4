#pragma once
// Read-only view of a GGUF file (versions 2 and 3), memory-mapped, or of GGUF bytes already in memory.
//
// open() walks the whole header once and checks every length, count, type and offset against the file
// size, so the getters and tensor_data() below can never read outside the mapping. Anything malformed
// raises GgufError with the file name, what is wrong and where.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pice::kernels {

class GgufError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// GGML's numbering, as stored in the tensor table.
enum class TensorType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15, bf16 = 30
};

std::string_view tensor_type_name(TensorType);
// Elements per block and bytes per block of a type (1 and the element size for f32/f16/bf16).
uint64_t tensor_type_block_elements(TensorType);
uint64_t tensor_type_block_bytes(TensorType);

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;   // GGML order: dims[0] is the contiguous (row) dimension
  TensorType type;
  uint64_t offset;              // from the start of the data section
  uint64_t size_bytes;
  uint64_t elements() const;
};

// The value types of GGUF metadata, as numbered in the file.
enum class GgufType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12
};
std::string_view gguf_type_name(GgufType);

// How a file's bytes are held. Weights must stay resident: the page cache of these machines is reclaimed
// within seconds, and mapped weights evicted from it are read from disk again at every forward pass
// (llama.cpp decoded a mapped 1.5B model at a quarter of the speed of one read into memory).
enum class LoadMode {
  mmap,          // mapped, pages as the kernel pleases: a quick look at metadata and vocab
  read,          // copied into anonymous memory (the default for weights: no locking limit applies)
  mmap_locked,   // mapped and mlock()ed; when the lock fails (RLIMIT_MEMLOCK), stays mapped unlocked
                 // and lock_error() says why
  mmap_lock_required,   // the same, but a failed lock is an error
};
std::string_view load_mode_name(LoadMode);   // "mmap", "read", "mmap-locked", "mmap-lock-required"

class GgufFile {
 public:
  static GgufFile open(const std::filesystem::path& path, LoadMode mode = LoadMode::mmap);
  // The same checks over bytes the caller owns and keeps alive (and unchanged) for the GgufFile's whole
  // life; `name` stands in for the path in errors. For fuzzers and tests: no file, no mapping.
  static GgufFile view(std::span<const std::byte> bytes, const std::string& name);
  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  uint32_t version() const { return version_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }   // start of the tensor data section
  uint64_t file_size() const { return size_; }
  LoadMode load_mode() const { return mode_; }
  // With mmap_locked: why the pages could not be locked (empty when they are, or for other modes).
  const std::string& lock_error() const { return lock_error_; }

  bool has(std::string_view key) const;
  GgufType type_of(std::string_view key) const;            // throws when missing
  // For arrays: the element type and count (throws when the key is not an array).
  GgufType array_type_of(std::string_view key) const;
  uint64_t array_size_of(std::string_view key) const;

  // These throw GgufError naming the key when it is missing or of an incompatible type.
  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;      // any integer type (a u64 above INT64_MAX throws)
  double get_float(std::string_view key) const;     // any float type, or an integer
  bool get_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;   // float or integer elements
  std::vector<int64_t> get_int_array(std::string_view key) const;   // integer elements
  // The fallback is only for a missing key: a present key of the wrong type still throws.
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  std::string get_string_or(std::string_view key, std::string fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;

  std::vector<std::string> keys() const;   // in file order

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;   // nullptr if absent
  const std::byte* tensor_data(const TensorInfo&) const;

 private:
  struct Entry {
    std::string key;
    GgufType type;
    uint64_t value_offset;   // file offset of the value (for arrays: of the element type field)
  };

  GgufFile() = default;
  void parse();
  void lock_pages();
  void release() noexcept;
  const Entry& entry(std::string_view key) const;
  [[noreturn]] void fail(const std::string& what) const;
  template <class T>
  T scalar_at(uint64_t offset) const;
  double number_at(GgufType type, uint64_t offset, std::string_view key, bool allow_float) const;

  std::filesystem::path path_;
  const std::byte* base_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;   // base_ is our mapping (open), not the caller's bytes (view)
  LoadMode mode_ = LoadMode::mmap;
  std::string lock_error_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<Entry> entries_;
  std::map<std::string, size_t, std::less<>> entry_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace pice::kernels
