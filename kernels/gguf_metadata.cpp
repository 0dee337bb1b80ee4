// GgufFile's metadata getters. open() has already checked that every value lies inside the file, so the
// reads here only decode; they still fail cleanly on a type mismatch or a missing key.
#include <cstring>
#include <limits>

#include "kernels/gguf_file.hpp"

namespace pice::kernels {

template <class T>
T GgufFile::scalar_at(uint64_t offset) const {
  T value;
  std::memcpy(&value, base_ + offset, sizeof(T));
  return value;
}

namespace {

uint64_t element_size(GgufType t) {
  switch (t) {
    case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
    case GgufType::u16: case GgufType::i16: return 2;
    case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
    default: return 8;
  }
}

}  // namespace

const GgufFile::Entry& GgufFile::entry(std::string_view key) const {
  const auto it = entry_index_.find(key);
  if (it == entry_index_.end()) fail("metadata key '" + std::string(key) + "' is missing");
  return entries_[it->second];
}

bool GgufFile::has(std::string_view key) const { return entry_index_.find(key) != entry_index_.end(); }

GgufType GgufFile::type_of(std::string_view key) const { return entry(key).type; }

GgufType GgufFile::array_type_of(std::string_view key) const {
  const Entry& e = entry(key);
  if (e.type != GgufType::array)
    fail("metadata key '" + e.key + "' has type " + std::string(gguf_type_name(e.type)) + ", expected an array");
  return static_cast<GgufType>(scalar_at<uint32_t>(e.value_offset));
}

uint64_t GgufFile::array_size_of(std::string_view key) const {
  array_type_of(key);
  return scalar_at<uint64_t>(entry(key).value_offset + 4);
}

std::vector<std::string> GgufFile::keys() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.key);
  return out;
}

// Reads an integer of any width at `offset`; `allow_float` also accepts f32/f64 (for get_float).
double GgufFile::number_at(GgufType type, uint64_t offset, std::string_view key, bool allow_float) const {
  switch (type) {
    case GgufType::u8: return scalar_at<uint8_t>(offset);
    case GgufType::i8: return scalar_at<int8_t>(offset);
    case GgufType::u16: return scalar_at<uint16_t>(offset);
    case GgufType::i16: return scalar_at<int16_t>(offset);
    case GgufType::u32: return scalar_at<uint32_t>(offset);
    case GgufType::i32: return scalar_at<int32_t>(offset);
    case GgufType::u64: return static_cast<double>(scalar_at<uint64_t>(offset));
    case GgufType::i64: return static_cast<double>(scalar_at<int64_t>(offset));
    case GgufType::f32:
      if (allow_float) return scalar_at<float>(offset);
      break;
    case GgufType::f64:
      if (allow_float) return scalar_at<double>(offset);
      break;
    default: break;
  }
  fail("metadata key '" + std::string(key) + "' has type " + std::string(gguf_type_name(type)) + ", expected " +
       (allow_float ? "a number" : "an integer"));
}

namespace {

// Exact integer read (a double would round 64-bit values).
bool exact_int(GgufType type, const std::byte* p, int64_t& out, bool& overflow) {
  overflow = false;
  switch (type) {
    case GgufType::u8: { uint8_t v; std::memcpy(&v, p, 1); out = v; return true; }
    case GgufType::i8: { int8_t v; std::memcpy(&v, p, 1); out = v; return true; }
    case GgufType::u16: { uint16_t v; std::memcpy(&v, p, 2); out = v; return true; }
    case GgufType::i16: { int16_t v; std::memcpy(&v, p, 2); out = v; return true; }
    case GgufType::u32: { uint32_t v; std::memcpy(&v, p, 4); out = v; return true; }
    case GgufType::i32: { int32_t v; std::memcpy(&v, p, 4); out = v; return true; }
    case GgufType::i64: { std::memcpy(&out, p, 8); return true; }
    case GgufType::u64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      overflow = v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      out = static_cast<int64_t>(v);
      return true;
    }
    default: return false;
  }
}

}  // namespace

int64_t GgufFile::get_int(std::string_view key) const {
  const Entry& e = entry(key);
  int64_t v = 0;
  bool overflow = false;
  if (!exact_int(e.type, base_ + e.value_offset, v, overflow))
    fail("metadata key '" + e.key + "' has type " + std::string(gguf_type_name(e.type)) + ", expected an integer");
  if (overflow) fail("metadata key '" + e.key + "' holds a u64 too large for a signed 64-bit integer");
  return v;
}

double GgufFile::get_float(std::string_view key) const {
  const Entry& e = entry(key);
  return number_at(e.type, e.value_offset, e.key, true);
}

bool GgufFile::get_bool(std::string_view key) const {
  const Entry& e = entry(key);
  if (e.type != GgufType::boolean)
    fail("metadata key '" + e.key + "' has type " + std::string(gguf_type_name(e.type)) + ", expected bool");
  return scalar_at<uint8_t>(e.value_offset) != 0;
}

std::string GgufFile::get_string(std::string_view key) const {
  const Entry& e = entry(key);
  if (e.type != GgufType::string)
    fail("metadata key '" + e.key + "' has type " + std::string(gguf_type_name(e.type)) + ", expected string");
  const auto n = scalar_at<uint64_t>(e.value_offset);
  return std::string(reinterpret_cast<const char*>(base_ + e.value_offset + 8), n);
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const GgufType elem = array_type_of(key);
  if (elem != GgufType::string)
    fail("metadata key '" + std::string(key) + "' is an array of " + std::string(gguf_type_name(elem)) +
         ", expected an array of string");
  uint64_t at = entry(key).value_offset + 4;
  const auto count = scalar_at<uint64_t>(at);
  at += 8;
  std::vector<std::string> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const auto n = scalar_at<uint64_t>(at);
    out.emplace_back(reinterpret_cast<const char*>(base_ + at + 8), n);
    at += 8 + n;
  }
  return out;
}

std::vector<float> GgufFile::get_float_array(std::string_view key) const {
  const GgufType elem = array_type_of(key);
  if (elem == GgufType::string || elem == GgufType::array || elem == GgufType::boolean)
    fail("metadata key '" + std::string(key) + "' is an array of " + std::string(gguf_type_name(elem)) +
         ", expected an array of numbers");
  const uint64_t at = entry(key).value_offset + 12;
  const auto count = scalar_at<uint64_t>(at - 8);
  std::vector<float> out(count);
  if (elem == GgufType::f32) {
    std::memcpy(out.data(), base_ + at, count * sizeof(float));
    return out;
  }
  for (uint64_t i = 0; i < count; ++i)
    out[i] = static_cast<float>(number_at(elem, at + i * element_size(elem), key, true));
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufType elem = array_type_of(key);
  int64_t probe = 0;
  bool overflow = false;
  const std::byte zeros[8] = {};
  if (!exact_int(elem, zeros, probe, overflow))
    fail("metadata key '" + std::string(key) + "' is an array of " + std::string(gguf_type_name(elem)) +
         ", expected an array of integers");
  const uint64_t at = entry(key).value_offset + 12;
  const auto count = scalar_at<uint64_t>(at - 8);
  std::vector<int64_t> out(count);
  for (uint64_t i = 0; i < count; ++i) {
    exact_int(elem, base_ + at + i * element_size(elem), out[i], overflow);
    if (overflow) fail("metadata key '" + std::string(key) + "' element " + std::to_string(i) + " overflows int64");
  }
  return out;
}

int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}
double GgufFile::get_float_or(std::string_view key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}
std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return has(key) ? get_string(key) : fallback;
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return has(key) ? get_bool(key) : fallback;
}

}  // namespace pice::kernels
