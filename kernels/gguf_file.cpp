#include "kernels/gguf_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <utility>

namespace pice::kernels {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read in place: little-endian hosts only");

// Nested arrays are legal GGUF, but no real file nests deeply; the limit stops stack exhaustion.
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;   // GGML_MAX_DIMS

bool is_known_type(uint32_t t) {
  switch (static_cast<TensorType>(t)) {
    case TensorType::f32: case TensorType::f16: case TensorType::q4_0: case TensorType::q4_1:
    case TensorType::q5_0: case TensorType::q5_1: case TensorType::q8_0: case TensorType::q8_1:
    case TensorType::q2_k: case TensorType::q3_k: case TensorType::q4_k: case TensorType::q5_k:
    case TensorType::q6_k: case TensorType::q8_k: case TensorType::bf16: return true;
  }
  return false;
}

// Size in bytes of a fixed-size metadata value; 0 for string and array.
uint64_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
    case GgufType::u16: case GgufType::i16: return 2;
    case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
    case GgufType::u64: case GgufType::i64: case GgufType::f64: return 8;
    case GgufType::string: case GgufType::array: return 0;
  }
  return 0;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A bounds-checked reader over the mapping. Every read names what it was reading, so a truncated or
// corrupt file produces a message that says where the parse stopped.
class Cursor {
 public:
  Cursor(const std::byte* base, uint64_t size, const std::function<void(const std::string&)>& fail)
      : base_(base), size_(size), fail_(fail) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& what) {
    if (n > remaining())
      fail_("truncated file: " + what + " at offset " + std::to_string(pos_) + " needs " + std::to_string(n) +
            " bytes, only " + std::to_string(remaining()) + " remain");
  }
  template <class T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view read_string(const std::string& what) {
    const uint64_t n = read<uint64_t>(what + " length");
    need(n, what + " (" + std::to_string(n) + " bytes)");
    std::string_view s(reinterpret_cast<const char*>(base_ + pos_), n);
    pos_ += n;
    return s;
  }
  void skip(uint64_t n, const std::string& what) {
    need(n, what);
    pos_ += n;
  }

 private:
  const std::byte* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::function<void(const std::string&)>& fail_;
};

GgufType read_value_type(Cursor& c, const std::string& what, const std::function<void(const std::string&)>& fail) {
  const uint64_t at = c.pos();
  const auto raw = c.read<uint32_t>(what);
  if (raw > static_cast<uint32_t>(GgufType::f64))
    fail("invalid value type " + std::to_string(raw) + " for " + what + " at offset " + std::to_string(at));
  return static_cast<GgufType>(raw);
}

// Walks over one value, checking it lies inside the file.
void skip_value(Cursor& c, GgufType type, const std::string& what, int depth,
                const std::function<void(const std::string&)>& fail) {
  if (type == GgufType::string) {
    c.read_string(what);
    return;
  }
  if (type != GgufType::array) {
    c.skip(fixed_size(type), what);
    return;
  }
  if (depth >= kMaxArrayDepth) fail(what + ": arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
  const GgufType elem = read_value_type(c, what + " element type", fail);
  const uint64_t count = c.read<uint64_t>(what + " element count");
  if (const uint64_t size = fixed_size(elem); size != 0) {
    if (count > c.remaining() / size)
      fail("truncated file: " + what + " has " + std::to_string(count) + " elements of " + std::to_string(size) +
           " bytes but only " + std::to_string(c.remaining()) + " bytes remain");
    c.skip(count * size, what);
    return;
  }
  // Each string or array element takes at least 8 bytes: reject impossible counts before looping.
  if (count > c.remaining() / 8)
    fail("truncated file: " + what + " claims " + std::to_string(count) + " elements, only " +
         std::to_string(c.remaining()) + " bytes remain");
  for (uint64_t i = 0; i < count; ++i)
    skip_value(c, elem, what + "[" + std::to_string(i) + "]", depth + 1, fail);
}

}  // namespace

std::string_view tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::f32: return "f32";
    case TensorType::f16: return "f16";
    case TensorType::q4_0: return "q4_0";
    case TensorType::q4_1: return "q4_1";
    case TensorType::q5_0: return "q5_0";
    case TensorType::q5_1: return "q5_1";
    case TensorType::q8_0: return "q8_0";
    case TensorType::q8_1: return "q8_1";
    case TensorType::q2_k: return "q2_k";
    case TensorType::q3_k: return "q3_k";
    case TensorType::q4_k: return "q4_k";
    case TensorType::q5_k: return "q5_k";
    case TensorType::q6_k: return "q6_k";
    case TensorType::q8_k: return "q8_k";
    case TensorType::bf16: return "bf16";
  }
  return "unknown";
}

uint64_t tensor_type_block_elements(TensorType t) {
  switch (t) {
    case TensorType::f32: case TensorType::f16: case TensorType::bf16: return 1;
    case TensorType::q4_0: case TensorType::q4_1: case TensorType::q5_0: case TensorType::q5_1:
    case TensorType::q8_0: case TensorType::q8_1: return 32;
    default: return 256;   // the k-quants
  }
}

uint64_t tensor_type_block_bytes(TensorType t) {
  switch (t) {
    case TensorType::f32: return 4;
    case TensorType::f16: case TensorType::bf16: return 2;
    case TensorType::q4_0: return 18;
    case TensorType::q4_1: return 20;
    case TensorType::q5_0: return 22;
    case TensorType::q5_1: return 24;
    case TensorType::q8_0: return 34;
    case TensorType::q8_1: return 36;
    case TensorType::q2_k: return 84;
    case TensorType::q3_k: return 110;
    case TensorType::q4_k: return 144;
    case TensorType::q5_k: return 176;
    case TensorType::q6_k: return 210;
    case TensorType::q8_k: return 292;
  }
  return 0;
}

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::u8: return "u8";
    case GgufType::i8: return "i8";
    case GgufType::u16: return "u16";
    case GgufType::i16: return "i16";
    case GgufType::u32: return "u32";
    case GgufType::i32: return "i32";
    case GgufType::f32: return "f32";
    case GgufType::boolean: return "bool";
    case GgufType::string: return "string";
    case GgufType::array: return "array";
    case GgufType::u64: return "u64";
    case GgufType::i64: return "i64";
    case GgufType::f64: return "f64";
  }
  return "unknown";
}

uint64_t TensorInfo::elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

GgufFile GgufFile::open(const std::filesystem::path& path, LoadMode mode) {
  GgufFile file;
  file.path_ = path;
  file.mode_ = mode;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) file.fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    file.fail("not a regular file");
  }
  file.size_ = static_cast<uint64_t>(st.st_size);
  if (file.size_ == 0) {
    ::close(fd);
    file.fail("empty file (a GGUF file starts with a 24-byte header)");
  }
  void* map = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);   // the mapping keeps the file alive
  if (map == MAP_FAILED) file.fail(std::string("mmap failed: ") + std::strerror(map_errno));
  if (mode == LoadMode::read) {
    void* copy = ::mmap(nullptr, file.size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) {
      const int copy_errno = errno;
      ::munmap(map, file.size_);
      file.fail(std::string("cannot allocate memory for the file: ") + std::strerror(copy_errno));
    }
    ::madvise(copy, file.size_, MADV_HUGEPAGE);   // fewer TLB misses while streaming weights; a hint only
    std::memcpy(copy, map, file.size_);
    ::munmap(map, file.size_);
    map = copy;
  }
  file.base_ = static_cast<const std::byte*>(map);
  file.mapped_ = true;
  if (mode == LoadMode::mmap_locked || mode == LoadMode::mmap_lock_required) file.lock_pages();
  file.parse();   // on throw, ~GgufFile unmaps (which also unlocks)
  return file;
}

void GgufFile::lock_pages() {
  // mlock faults every page in, so a locked file is resident from here on.
  if (::mlock(base_, size_) == 0) return;
  const int err = errno;
  lock_error_ = std::string("mlock of ") + std::to_string(size_ >> 20) + " MiB failed: " + std::strerror(err);
  if (rlimit limit{}; (err == ENOMEM || err == EPERM) && ::getrlimit(RLIMIT_MEMLOCK, &limit) == 0) {
    const std::string cap = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur >> 10) + " KiB";
    lock_error_ += " (RLIMIT_MEMLOCK is " + cap +
                   "; raise it with `ulimit -l`, LimitMEMLOCK= in a systemd unit, or load = \"read\")";
  }
  if (mode_ == LoadMode::mmap_lock_required) fail(lock_error_);
  // Unlocked, the pages can still be kept warm: ask for them all now.
  ::madvise(const_cast<std::byte*>(base_), size_, MADV_WILLNEED);
}

std::string_view load_mode_name(LoadMode mode) {
  switch (mode) {
    case LoadMode::mmap: return "mmap";
    case LoadMode::read: return "read";
    case LoadMode::mmap_locked: return "mmap-locked";
    case LoadMode::mmap_lock_required: return "mmap-lock-required";
  }
  return "?";
}

GgufFile GgufFile::view(std::span<const std::byte> bytes, const std::string& name) {
  GgufFile file;
  file.path_ = name;
  if (bytes.empty()) file.fail("empty file (a GGUF file starts with a 24-byte header)");
  file.base_ = bytes.data();
  file.size_ = bytes.size();
  file.parse();
  return file;
}

GgufFile::GgufFile(GgufFile&& other) noexcept { *this = std::move(other); }

GgufFile& GgufFile::operator=(GgufFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
    mode_ = other.mode_;
    lock_error_ = std::move(other.lock_error_);
    version_ = other.version_;
    alignment_ = other.alignment_;
    data_offset_ = other.data_offset_;
    entries_ = std::move(other.entries_);
    entry_index_ = std::move(other.entry_index_);
    tensors_ = std::move(other.tensors_);
    tensor_index_ = std::move(other.tensor_index_);
  }
  return *this;
}

GgufFile::~GgufFile() { release(); }

void GgufFile::release() noexcept {
  if (base_ != nullptr && mapped_) ::munmap(const_cast<std::byte*>(base_), size_);
  base_ = nullptr;
  mapped_ = false;
}

void GgufFile::fail(const std::string& what) const { throw GgufError("gguf " + path_.string() + ": " + what); }

void GgufFile::parse() {
  const std::function<void(const std::string&)> fail_fn = [this](const std::string& what) { fail(what); };
  Cursor c(base_, size_, fail_fn);

  c.need(4, "magic");
  const std::string_view magic(reinterpret_cast<const char*>(base_), 4);
  if (magic != "GGUF") fail("not a GGUF file (magic is '" + printable(magic) + "', expected 'GGUF')");
  c.skip(4, "magic");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) fail("GGUF version 1 is not supported (32-bit counts); only versions 2 and 3 are");
  if (version_ != 2 && version_ != 3) {
    if ((version_ & 0xffffu) == 0 && (version_ >> 16) != 0)
      fail("big-endian GGUF (version field " + std::to_string(version_) + ") is not supported");
    fail("unsupported GGUF version " + std::to_string(version_) + " (supported: 2, 3)");
  }
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Smallest possible entries: key length + type + 1 byte; name length + n_dims + type + offset.
  if (n_kv > c.remaining() / 13)
    fail("truncated or corrupt file: metadata count " + std::to_string(n_kv) + " cannot fit in the " +
         std::to_string(c.remaining()) + " bytes after the header");
  if (n_tensors > c.remaining() / 24)
    fail("truncated or corrupt file: tensor count " + std::to_string(n_tensors) + " cannot fit in the " +
         std::to_string(c.remaining()) + " bytes after the header");

  entries_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string where = "metadata entry #" + std::to_string(i);
    std::string key(c.read_string(where + " key"));
    const GgufType type = read_value_type(c, where + " ('" + key + "') type", fail_fn);
    const uint64_t value_offset = c.pos();
    skip_value(c, type, "metadata '" + key + "'", 0, fail_fn);
    if (!entry_index_.emplace(key, entries_.size()).second) fail("duplicate metadata key '" + key + "'");
    entries_.push_back(Entry{std::move(key), type, value_offset});
  }

  if (has("general.alignment")) {
    const int64_t a = get_int("general.alignment");
    if (a <= 0 || (a & (a - 1)) != 0)
      fail("general.alignment is " + std::to_string(a) + ", expected a power of two");
    alignment_ = static_cast<uint64_t>(a);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string where = "tensor #" + std::to_string(i);
    TensorInfo t;
    t.name = std::string(c.read_string(where + " name"));
    const std::string named = "tensor '" + t.name + "'";
    const auto n_dims = c.read<uint32_t>(named + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      fail(named + " has " + std::to_string(n_dims) + " dimensions (expected 1.." + std::to_string(kMaxDims) + ")");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = c.read<uint64_t>(named + " dimension " + std::to_string(d));
      if (dim != 0 && elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / dim)
        fail(named + " has too many elements (dimension " + std::to_string(d) + " is " + std::to_string(dim) + ")");
      elements *= dim;
      t.dims.push_back(dim);
    }
    const auto raw_type = c.read<uint32_t>(named + " type");
    if (!is_known_type(raw_type)) fail(named + " has unknown tensor type " + std::to_string(raw_type));
    t.type = static_cast<TensorType>(raw_type);
    t.offset = c.read<uint64_t>(named + " data offset");
    const uint64_t block = tensor_type_block_elements(t.type);
    if (t.dims[0] % block != 0)
      fail(named + " of type " + std::string(tensor_type_name(t.type)) + " has row length " +
           std::to_string(t.dims[0]) + ", not a multiple of its block size " + std::to_string(block));
    // Elements up to INT64_MAX times up to 4 bytes each can exceed 64 bits: a size that wrapped to a
    // small number would pass the bounds check below and promise data the file does not hold.
    const uint64_t blocks = elements / block;
    if (blocks > std::numeric_limits<uint64_t>::max() / tensor_type_block_bytes(t.type))
      fail(named + " of type " + std::string(tensor_type_name(t.type)) + " has " + std::to_string(elements) +
           " elements, more bytes than 64 bits can count");
    t.size_bytes = blocks * tensor_type_block_bytes(t.type);
    if (t.offset % alignment_ != 0)
      fail(named + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
           std::to_string(alignment_));
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) fail("duplicate tensor name '" + t.name + "'");
    tensors_.push_back(std::move(t));
  }

  data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  const uint64_t data_size = data_offset_ <= size_ ? size_ - data_offset_ : 0;
  for (const TensorInfo& t : tensors_) {
    if (t.offset > data_size || t.size_bytes > data_size - t.offset)
      fail("truncated file or bad offset: tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", " +
           std::to_string(t.offset) + "+" + std::to_string(t.size_bytes) + ") lies outside the data section of " +
           std::to_string(data_size) + " bytes (starting at file offset " + std::to_string(data_offset_) + ")");
  }
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const std::byte* GgufFile::tensor_data(const TensorInfo& t) const {
  // Only infos of this file are valid here; anything else would point outside the mapping.
  const TensorInfo* own = find_tensor(t.name);
  if (own == nullptr || own->offset != t.offset || own->size_bytes != t.size_bytes)
    fail("tensor_data: '" + t.name + "' is not a tensor of this file");
  return base_ + data_offset_ + t.offset;
}

}  // namespace pice::kernels
