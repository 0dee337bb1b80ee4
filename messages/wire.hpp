#pragma once
// Internal to messages/: writing and reading single msgpack values with errors that say what was
// expected and what arrived. Only the codec .cpp files include this (msgpack headers are heavy).
#include <msgpack.hpp>

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "messages/bodies.hpp"

namespace pice::messages::detail {

// msgpack::packer writes into any type with write(const char*, size_t); appending straight into
// the std::string that encode() returns saves the copy out of an sbuffer.
struct StringSink {
  std::string* out;
  void write(const char* data, size_t size) { out->append(data, size); }
};
using Packer = msgpack::packer<StringSink>;

// A value that does not fit its field. path is filled in on the way out ("timings.decode_ms",
// "sketch[2]"); the envelope decoder turns this into DecodeError(bad_body).
struct FieldError {
  std::string path;
  std::string problem;
};

// "string \"abc\"", "integer 5", "array of 3", ...: what arrived, for error messages.
std::string describe_object(const msgpack::object& object);

// Prepends one step ("name" or "[3]") to an error's path.
void prepend_path(FieldError& error, const std::string& step);

// ---- writing -------------------------------------------------------------------------------
inline void write_key(Packer& packer, std::string_view key) {
  packer.pack_str(static_cast<uint32_t>(key.size()));
  packer.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
}
inline void write(Packer& packer, const std::string& value) { write_key(packer, value); }
inline void write(Packer& packer, bool value) { value ? packer.pack_true() : packer.pack_false(); }
inline void write(Packer& packer, double value) { packer.pack_double(value); }
inline void write(Packer& packer, ChunkKind value) { packer.pack_uint8(static_cast<uint8_t>(value)); }
template <std::integral T>
  requires(!std::same_as<T, bool>)
void write(Packer& packer, T value) {
  packer.pack(value);   // msgpack picks the smallest integer encoding
}
// Nested structs, defined in body_fields.hpp; declared here so the container templates below find them.
inline void write(Packer& packer, const Histogram& value);
inline void read(const msgpack::object& object, Histogram& out);
inline void write(Packer& packer, const EnsembleCandidate& value);
inline void read(const msgpack::object& object, EnsembleCandidate& out);

// Token ids as one msgpack bin of LEB128 varints: 1 byte below 128, 2 below 16384, 3 below 2^21.
// A msgpack array would spend 3 bytes on every id from 256 to 65535, most of any vocabulary.
// (A non-template overload: it wins over the generic vector one below.)
void write(Packer& packer, const std::vector<int32_t>& ids);

template <class T>
void write(Packer& packer, const std::vector<T>& values) {
  packer.pack_array(static_cast<uint32_t>(values.size()));
  for (const auto& value : values) write(packer, value);
}
template <class T>
void write(Packer& packer, const std::map<std::string, T>& values) {
  packer.pack_map(static_cast<uint32_t>(values.size()));
  for (const auto& [key, value] : values) {
    write_key(packer, key);
    write(packer, value);
  }
}

// ---- reading -------------------------------------------------------------------------------
void read(const msgpack::object& object, std::string& out);
void read(const msgpack::object& object, bool& out);
void read(const msgpack::object& object, double& out);   // floats, and integers (other encoders may send 0 for 0.0)
void read(const msgpack::object& object, ChunkKind& out);

void read(const msgpack::object& object, std::vector<int32_t>& out);   // rejects negative or truncated varints

[[noreturn]] void throw_integer_error(const msgpack::object& object, int64_t min, uint64_t max);

template <std::integral T>
  requires(!std::same_as<T, bool>)
void read(const msgpack::object& object, T& out) {
  constexpr auto min = static_cast<int64_t>(std::numeric_limits<T>::min());
  constexpr auto max = static_cast<uint64_t>(std::numeric_limits<T>::max());
  if (object.type == msgpack::type::POSITIVE_INTEGER && object.via.u64 <= max) {
    out = static_cast<T>(object.via.u64);
  } else if (object.type == msgpack::type::NEGATIVE_INTEGER && object.via.i64 >= min) {
    out = static_cast<T>(object.via.i64);
  } else {
    throw_integer_error(object, min, max);
  }
}

template <class T>
void read(const msgpack::object& object, std::vector<T>& out) {
  if (object.type != msgpack::type::ARRAY) throw FieldError{{}, "expected an array, got " + describe_object(object)};
  const auto& array = object.via.array;
  out.assign(array.size, T());
  for (uint32_t i = 0; i < array.size; ++i) {
    try {
      read(array.ptr[i], out[i]);
    } catch (FieldError& error) {
      prepend_path(error, "[" + std::to_string(i) + "]");
      throw;
    }
  }
}

template <class T>
void read(const msgpack::object& object, std::map<std::string, T>& out) {
  if (object.type != msgpack::type::MAP) throw FieldError{{}, "expected a map, got " + describe_object(object)};
  out.clear();
  const auto& map = object.via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    std::string key;
    try {
      read(map.ptr[i].key, key);
    } catch (FieldError& error) {
      error.problem = "key " + std::to_string(i) + ": " + error.problem;
      throw;
    }
    try {
      read(map.ptr[i].val, out[key]);
    } catch (FieldError& error) {
      prepend_path(error, "[\"" + key + "\"]");
      throw;
    }
  }
}

}  // namespace pice::messages::detail
